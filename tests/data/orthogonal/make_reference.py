#!/usr/bin/python3
"""Writes reference.json next to this script: torch.nn.init.orthogonal_ on
fresh tensors, for tests/test_orthogonal.c.

Run with Debian's python3-torch (1.13): `/usr/bin/python3 make_reference.py`.
The random part (normal_) is bit-exact and, on a CPU with AVX2+FMA, uses
the X86_AVX2 kernels (weightinit's WI_RNG_AVX2 profile); the QR is LAPACK's
float32 one, so weightinit's double-precision QR agrees only to ~1e-6.
"""
import json
import os
import platform

import torch

# (shape, why): numel < 16 takes the per-element normal path (double
# Box-Muller with the generator's cached value), >= 16 the fill path.
SHAPES = [
    ((4, 4), "square, fill path, no ragged tail"),
    ((3, 5), "wide: transposed before the QR; 15 elements, per-element path"),
    ((6, 2), "tall, per-element path"),
    ((3, 3), "square, 9 elements, per-element path (one cached normal left)"),
    ((2, 3, 3), "conv-like: rows 2, cols 9, fill path with a ragged tail"),
    ((5, 7), "wide, fill path with a ragged tail"),
    ((10, 6), "tall, fill path with a ragged tail"),
    ((4, 2, 3, 3), "conv weight: rows 4, cols 18"),
]
SEEDS = [0, 7]
GAINS = [1, 2]
# One gain that float32 does not represent exactly (calculate_gain('relu')).
EXTRA = [(0, (5, 7), 2 ** 0.5), (7, (6, 2), 2 ** 0.5)]


def case(seed, shape, gain, why):
    torch.manual_seed(seed)
    w = torch.empty(shape)
    torch.nn.init.orthogonal_(w, gain)
    # tolist() gives Python floats equal to the float32 values; json writes
    # their repr, which round-trips exactly.
    return {"seed": seed, "shape": list(shape), "gain": gain, "note": why,
            "values": w.flatten().tolist()}


def main():
    cases = [case(s, shape, g, why)
             for s in SEEDS for shape, why in SHAPES for g in GAINS]
    notes = dict(SHAPES)
    cases += [case(s, shape, g, notes[shape]) for s, shape, g in EXTRA]
    capability = "AVX2" if "CPU capability usage: AVX2" in \
        torch.__config__.show() else "see torch.__config__.show()"
    out = {
        "meta": {
            "torch": torch.__version__,
            "cpu_capability": capability,
            "machine": platform.machine(),
            "generator": "make_reference.py",
            "recipe": "torch.manual_seed(seed); w = torch.empty(shape); "
                      "torch.nn.init.orthogonal_(w, gain)",
        },
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "reference.json")
    # One case per line, so a regenerated file diffs readably.
    with open(path, "w") as f:
        f.write('{"meta": %s,\n "cases": [\n' % json.dumps(out["meta"]))
        f.write(",\n".join("  " + json.dumps(c) for c in cases))
        f.write("\n]}\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
