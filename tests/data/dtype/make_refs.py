#!/usr/bin/python3
"""References for --dtype / wi_tensor_to_dtype: what torch 1.13's
tensor.to(torch.bfloat16 / torch.float16) gives.

Re-run (Debian's python3-torch 1.13; writes only into this folder):
    cd tests/data/dtype && /usr/bin/python3 make_refs.py

Writes
  bits.txt        one float32 bit pattern per line with torch's results:
                  F32 BF16(ATEN_CPU_CAPABILITY=avx2) BF16(=default) F16
                  (hex).  The patterns are every rounding boundary of both
                  formats (ties to even with both parities, just above and
                  below), NaNs with payloads, +-inf, +-max, subnormals, +-0,
                  plus 4096 seeded random patterns.
  layer_defaults.<dtype>.<profile>.json
                  {name, dtype, shape, sha256} of every tensor of the
                  torch-made golden state (tests/data/golden/layer_defaults)
                  after .to(dtype), as `weightinit init --dtype` must write
                  it (integer buffers stay I64).
torch is run once per CPU capability in a child process, because the
vectorised (AVX2/AVX-512) and scalar kernels differ on bfloat16 NaN.
"""
import hashlib
import json
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden", "layer_defaults")


def patterns():
    p = []
    add = p.append
    for s in (0, 0x80000000):
        for b in (0, 0x7F800000, 0x7F7FFFFF, 0x00800000, 0x007FFFFF, 1, 2,
                  0x3F800000, 0x7FC00000, 0x7F800001, 0x7FA00000, 0x7FBFFFFF,
                  0x7FFFFFFF, 0x7F812345, 0x7FC12345, 0x7FFF0000, 0x7F80FFFF):
            add(s | b)
        # bfloat16: the low 16 bits just below, at, above half; kept lsb
        # even and odd; also where rounding carries into the exponent.
        for hi in (0x3F80, 0x3F81, 0x4049, 0x7F7F, 0x7F7E, 0x0000, 0x0001,
                   0x007F, 0x0080, 0x3FFF, 0x477F, 0x7F00, 0x00FF):
            for lo in (0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF):
                add(s | (hi << 16) | lo)
        # float16 normals: 13 dropped bits around half, parity both ways,
        # for every float16 exponent and the overflow edge (65504, 65520).
        for e in range(100, 145):
            for man in (0x000000, 0x002000, 0x7FE000, 0x7FC000, 0x3FF000):
                for lo in (0x0000, 0x0FFF, 0x1000, 0x1001, 0x1FFF):
                    add(s | (e << 23) | ((man | lo) & 0x7FFFFF))
        # float16 subnormals: every shift 14..24 with the dropped part at,
        # just above and just below half.
        for e in range(101, 114):
            shift = 126 - e
            for kept in (0, 1, 2, 3, 0x3FF >> max(0, shift - 14)):
                for r in (-1, 0, 1):
                    m = ((kept << shift) | (1 << (shift - 1))) + r if 0 < shift < 32 else 0
                    m &= 0xFFFFFF
                    if m & 0x800000:
                        add(s | (e << 23) | (m & 0x7FFFFF))
    rng = random.Random(20261202)
    p += [rng.getrandbits(32) for _ in range(4096)]
    out, seen = [], set()
    for v in p:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return header, data


def child(cap):
    """Runs under ATEN_CPU_CAPABILITY=cap: prints JSON results."""
    import torch
    bits = patterns()
    t = torch.tensor([b - (1 << 32) if b >= 1 << 31 else b for b in bits],
                     dtype=torch.int32).view(torch.float32)
    res = {"bf16": [x & 0xFFFF for x in t.to(torch.bfloat16).view(torch.int16).tolist()],
           "f16": [x & 0xFFFF for x in t.to(torch.float16).view(torch.int16).tolist()],
           "torch": torch.__version__}
    golden = "state.avx2.safetensors" if cap == "avx2" else "state.safetensors"
    header, data = read_safetensors(os.path.join(GOLDEN, golden))
    dts = {"F32": torch.float32, "I64": torch.int64}
    names = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32",
             torch.int64: "I64"}
    for key, dt in (("bf16", torch.bfloat16), ("f16", torch.float16)):
        entries = []
        # the golden file's order is state_dict order
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            b, e = info["data_offsets"]
            x = torch.frombuffer(bytearray(data[b:e]), dtype=dts[info["dtype"]]) \
                if e > b else torch.empty(0, dtype=dts[info["dtype"]])
            x = x.reshape(info["shape"])
            if x.is_floating_point():
                x = x.to(dt)
            raw = x.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if x.numel() else b""
            entries.append({"name": name, "dtype": names[x.dtype],
                            "shape": info["shape"],
                            "sha256": hashlib.sha256(raw).hexdigest()})
        res["model_" + key] = entries
    print(json.dumps(res))


def main():
    if len(sys.argv) > 1:
        child(sys.argv[1])
        return
    runs = {}
    for cap in ("avx2", "default"):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        out = subprocess.run([sys.executable, __file__, cap], env=env,
                             check=True, capture_output=True, text=True).stdout
        runs[cap] = json.loads(out)
    assert runs["avx2"]["f16"] == runs["default"]["f16"], "f16 differs by capability"
    bits = patterns()
    with open(os.path.join(HERE, "bits.txt"), "w") as f:
        f.write("# torch %s: f32 bf16(avx2) bf16(default) f16 -- make_refs.py\n"
                % runs["avx2"]["torch"])
        for i, b in enumerate(bits):
            f.write("%08x %04x %04x %04x\n" % (b, runs["avx2"]["bf16"][i],
                                               runs["default"]["bf16"][i],
                                               runs["avx2"]["f16"][i]))
    for cap in ("avx2", "default"):
        for key in ("bf16", "f16"):
            with open(os.path.join(HERE, "layer_defaults.%s.%s.json" % (key, cap)), "w") as f:
                json.dump(runs[cap]["model_" + key], f, indent=0)
                f.write("\n")
    print("%d patterns; bf16 avx2/default differ on %d" % (
        len(bits), sum(a != b for a, b in zip(runs["avx2"]["bf16"], runs["default"]["bf16"]))))


if __name__ == "__main__":
    main()
