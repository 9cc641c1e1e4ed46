#!/bin/sh
# weightinit against torch 1.13, both RNG profiles, in one run:
#   tests/bench/bench_vs_torch.sh build/core/libweightinit.so [REPS] [SIZES...]
# The avx2 profile is compared with torch's default (AVX2) kernels, the
# default profile with ATEN_CPU_CAPABILITY=default.  See bench_vs_torch.py.
set -eu
here=$(dirname "$0")
lib=$1
shift
/usr/bin/python3 "$here/bench_vs_torch.py" "$lib" "$@"
echo
ATEN_CPU_CAPABILITY=default /usr/bin/python3 "$here/bench_vs_torch.py" "$lib" "$@"
