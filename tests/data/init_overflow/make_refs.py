#!/usr/bin/python3
"""Writes x86_avx2.json and x86_default.json: torch.nn.init calls with
arguments whose arithmetic overflows, made by torch 1.13.  Where torch
raises (OverflowError from Python's float ** in calculate_gain, ATen's
RuntimeError on a bound or std), the case records the exception; where
it silently writes inf, NaN or zeros, it records every value's bits.
MMEngine's bias_init_with_prob (numpy's log) followed by constant_ is the
`bias_prob` case.  Run from this folder:
    /usr/bin/python3 make_refs.py
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 make_refs.py
"""
import json, math, os, struct, sys, warnings
import numpy as np
import torch

torch.set_num_threads(1)
warnings.simplefilter("ignore")  # zero-element and trunc_normal_ warnings

SQRT_DBL_MAX = 1.3407807929942596e154          # the largest a with a ** 2 finite
OVER = math.nextafter(SQRT_DBL_MAX, math.inf)  # the first that overflows
CASES = [
    # calculate_gain('leaky_relu', a): 1 + a ** 2
    ("kaiming_uniform_", [3, 4], {"a": 1e300, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", [3, 4], {"a": -1e300, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", [3, 4], {"a": OVER, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", [3, 4], {"a": SQRT_DBL_MAX, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", [4, 4], {"a": 1e154, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", [3, 4], {"a": 1e153, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", [3, 4], {"a": 1e300, "mode": "fan_in", "nonlinearity": "relu"}),
    # gain * sqrt(2 / (fan_in + fan_out)), then the bound or std
    ("xavier_uniform_", [3, 4], {"gain": 1e300}),
    ("xavier_uniform_", [3, 4], {"gain": -1.0}),
    ("xavier_uniform_", [3, 4], {"gain": 1e38}),
    ("xavier_normal_", [3, 4], {"gain": 1e300}),
    ("xavier_normal_", [8, 8], {"gain": 1e300}),
    ("xavier_normal_", [3, 4], {"gain": -1.0}),
    # normal_: the per-element path (double) and the fill path (float)
    ("normal_", [3, 4], {"mean": 1e300, "std": 1.0}),
    ("normal_", [8, 8], {"mean": 1e300, "std": 1.0}),
    ("normal_", [3, 4], {"mean": 0.0, "std": 1e300}),
    ("normal_", [8, 8], {"mean": 0.0, "std": 1e300}),
    ("normal_", [3, 4], {"mean": 0.0, "std": 1e39}),
    ("normal_", [8, 8], {"mean": -1e39, "std": 1.0}),
    ("normal_", [3, 4], {"mean": 0.0, "std": -1.0}),
    # uniform_'s bounds
    ("uniform_", [3, 4], {"from": 0.0, "to": 1e300}),
    ("uniform_", [3, 4], {"from": -3e38, "to": 3e38}),
    ("uniform_", [3, 4], {"from": -1.7e38, "to": 1.7e38}),
    # trunc_normal_: norm_cdf of huge or tiny ratios
    ("trunc_normal_", [3, 4], {"mean": 0.0, "std": 1e300, "a": -2.0, "b": 2.0}),
    ("trunc_normal_", [3, 4], {"mean": 1e300, "std": 1.0, "a": -2.0, "b": 2.0}),
    ("trunc_normal_", [3, 4], {"mean": 0.0, "std": 1e-320, "a": -2.0, "b": 2.0}),
    ("trunc_normal_", [3, 4], {"mean": 0.0, "std": -1.0, "a": -2.0, "b": 2.0}),
    ("trunc_normal_", [3, 4], {"mean": 0.0, "std": 0.0, "a": -2.0, "b": 2.0}),
    # constant_'s conversion to float
    ("constant_", [3], {"val": 1e300}),
    ("constant_", [3], {"val": 3.4028235e38}),
    ("constant_", [3], {"val": 3.4028234663852886e38}),
    # MMEngine: constant_(bias, bias_init_with_prob(p))
    ("bias_prob", [3], {"p": 2.0}),
    ("bias_prob", [3], {"p": 1.0}),
    ("bias_prob", [3], {"p": 1e-310}),
]


def run(op, t, args):
    init = torch.nn.init
    if op == "uniform_":
        t.uniform_(args["from"], args["to"])
    elif op == "normal_":
        t.normal_(args["mean"], args["std"])
    elif op == "trunc_normal_":
        init.trunc_normal_(t, args["mean"], args["std"], args["a"], args["b"])
    elif op == "constant_":
        init.constant_(t, args["val"])
    elif op == "bias_prob":
        p = args["p"]
        with np.errstate(all="ignore"):
            init.constant_(t, float(-np.log((1 - p) / p)))
    elif op.startswith("xavier"):
        getattr(init, op)(t, gain=args["gain"])
    else:
        getattr(init, op)(t, a=args["a"], mode=args["mode"],
                          nonlinearity=args["nonlinearity"])


def main():
    profile = "x86_default" if os.environ.get("ATEN_CPU_CAPABILITY") == "default" else "x86_avx2"
    cases = []
    for op, shape, args in CASES:
        torch.manual_seed(0)
        t = torch.zeros(shape, dtype=torch.float32)
        case = {"op": op, "shape": shape, "args": args}
        try:
            run(op, t, args)
            vals = t.reshape(-1).tolist()
            case["bits"] = ["%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in vals]
        except Exception as e:  # what torch raises is the expectation
            case["raises"] = "%s: %s" % (type(e).__name__, e)
        cases.append(case)
    doc = {"meta": {"producer": "torch %s, make_refs.py" % torch.__version__,
                    "profile": profile, "seed": 0,
                    "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY")},
           "cases": cases}
    with open(profile + ".json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(profile, len(cases), "cases,", sum("raises" in c for c in cases), "raise")


if __name__ == "__main__":
    sys.exit(main())
