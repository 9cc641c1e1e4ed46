#!/usr/bin/python3
"""Every float32 bit pattern through torch 1.13's .to(bfloat16) and
.to(float16), streamed to verify_all (core/tensor/convert.c compiled in),
which compares each result with ours.  Not part of the suite (16 GB
through a pipe, about a minute):

    cd ../../..   # the source tree, built in build/
    cc -O2 -Icore -Iinclude -o /tmp/verify_all tests/data/dtype/verify_all.c \
       core/tensor/convert.c core/base/map.c build/core/libweightinit.so
    cd tests/data/dtype
    export LD_LIBRARY_PATH=../../../build/core
    ATEN_CPU_CAPABILITY=avx2 /usr/bin/python3 verify_all.py | /tmp/verify_all avx2
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 verify_all.py | /tmp/verify_all default

Result (2026-12-02, torch 1.13.0a0, x86-64 with AVX-512): 2^32 patterns
each, 0 mismatches for bf16 and f16 under both capabilities.
"""
import sys
import torch

CHUNK = 1 << 24
out = sys.stdout.buffer
for start in range(0, 1 << 32, CHUNK):
    u = torch.arange(start, start + CHUNK, dtype=torch.int64)
    f = (u - ((u >= (1 << 31)).to(torch.int64) << 32)).to(torch.int32).view(torch.float32)
    out.write(f.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
    out.write(f.to(torch.float16).view(torch.int16).numpy().tobytes())
out.flush()
