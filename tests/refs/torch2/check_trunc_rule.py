#!/usr/bin/env python3
"""Checks the reproduction rule for the erfinv-based trunc_normal_ of the
PyPI wheels (torch.nn.init.trunc_normal_ up to 2.11, MMEngine's own
trunc_normal_ in every release): the 1.13 recipe (torch-rng.md §6) with
erfinv replaced by the correctly rounded float erfinv.  Run in a venv
(torch, numpy, scipy, mpmath), under each ATEN_CPU_CAPABILITY:

  ATEN_CPU_CAPABILITY=avx2 VENV/bin/python check_trunc_rule.py

For each (seed, n, mean, std, a, b) it draws the same uniforms as the
function does (uniform_(2l-1, 2u-1) after the same manual_seed), applies
the correctly rounded erfinv (erfinv_scan.reference), then the float32
steps mul(f32(std*sqrt(2))), add(f32(mean)), clamp(f32(a), f32(b)) in
numpy, and compares every element with the real function's output.
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from erfinv_scan import reference  # noqa: E402

torch.set_num_threads(1)
CASES = [(0, 1000003, 0.0, 1.0, -2.0, 2.0), (1, 1000003, 0.0, 0.02, -2.0, 2.0),
         (42, 1000003, 0.1, 0.5, -0.3, 1.5), (7, 4097, 0.0, 0.02, -0.04, 0.04),
         (3, 17, 0.0, 1.0, -2.0, 2.0)]


def predicted(seed, n, mean, std, a, b):
    def ncdf(v):
        return (1.0 + math.erf(v / math.sqrt(2.0))) / 2.0
    lo, hi = ncdf((a - mean) / std), ncdf((b - mean) / std)
    torch.manual_seed(seed)
    u = torch.empty(n).uniform_(2 * lo - 1, 2 * hi - 1).numpy()
    y, _ = reference(u)
    y = (y * np.float32(std * math.sqrt(2.0))).astype(np.float32)
    y = (y + np.float32(mean)).astype(np.float32)
    return np.minimum(np.maximum(y, np.float32(a)), np.float32(b))


def main():
    fns = {"torch.nn.init.trunc_normal_": torch.nn.init.trunc_normal_}
    try:
        from mmengine.model.weight_init import trunc_normal_
        fns["mmengine trunc_normal_"] = trunc_normal_
    except ImportError:
        pass
    for name, fn in fns.items():
        for seed, n, mean, std, a, b in CASES:
            torch.manual_seed(seed)
            got = fn(torch.empty(n), mean, std, a, b).numpy()
            want = predicted(seed, n, mean, std, a, b)
            bad = int((got.view(np.uint32) != want.view(np.uint32)).sum())
            print("torch %s %s %s: %s (seed %d, n %d, mean %g, std %g, [%g, %g]): %d of %d differ"
                  % (torch.__version__, os.environ.get("ATEN_CPU_CAPABILITY"), name,
                     "OK" if bad == 0 else "DIFFERS", seed, n, mean, std, a, b, bad, n))


if __name__ == "__main__":
    main()
