#!/usr/bin/python3
"""Writes x86_avx2/trunc_edges.json and x86_default/trunc_edges.json:
trunc_normal_ where erfinv's input reaches +-1 (a == b far out: every
y is +-1, erfinv gives +-inf and clamp_ returns a or b) or lies next to it
(a 5.3 std out: y is 1 or the float just below, in the same 8-lane
blocks), made by torch 1.13.  These are the elements the vector kernels
hand back to the scalar code.  Same layout as the other golden files
(README.md).  Run from this folder:
    /usr/bin/python3 make_trunc_edges.py
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 make_trunc_edges.py
"""
import json, os, sys
import warnings
import torch

from make_large import describe, run

torch.set_num_threads(1)
warnings.simplefilter("ignore")  # "mean is more than 2 std from [a, b]"

CASES = [
    (0, 0.0, 1.0, 10.0, 10.0, 20),
    (0, 0.0, 1.0, -10.0, -10.0, 20),
    (1, 0.0, 1.0, 5.3, 10.0, 1003),
    (2, 0.5, 2.0, -10.0, -5.3, 1003),
    (3, 0.0, 1.0, 4.0, 10.0, 1003),
]


def main():
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None
    profile = "x86_default" if os.environ.get("ATEN_CPU_CAPABILITY") == "default" else "x86_avx2"
    cases = []
    for seed, mean, std, a, b, n in CASES:
        ops = [{"op": "manual_seed", "seed": seed},
               {"op": "trunc_normal_", "shape": [n], "mean": mean, "std": std, "a": a, "b": b}]
        torch.manual_seed(seed)
        out = describe(1, ops[1], run(ops[1]))
        cases.append({"name": "trunc_normal_(%g,%g,%g,%g) n=%d seed=%d" % (mean, std, a, b, n, seed),
                      "ops": ops, "outputs": [out]})
    doc = {"meta": {"producer": "torch %s, make_trunc_edges.py" % torch.__version__,
                    "profile": profile, "cpu_capability": cap,
                    "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY")},
           "cases": cases}
    with open(os.path.join(profile, "trunc_edges.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(profile, len(cases), "outputs")


if __name__ == "__main__":
    sys.exit(main())
