#!/usr/bin/env python3
"""Checks the description in docs/torch-versions.md (C) of
torch.nn.init.trunc_normal_ from 2.12 on (rejection sampling), branch
p > 0.3: written out with nothing but normal_ on full-size tensors and a
per-element choice, it must give the same values AND leave the generator
at the same place (the next uniform_ equal).  Also reports how many rounds
and draws it took.  Run in a >= 2.12 venv:

  ATEN_CPU_CAPABILITY=avx2 VENV/bin/python check_rejection_rule.py
"""
import math
import os

import numpy as np
import torch

torch.set_num_threads(1)


def described(n, mean, std, a, b):
    lo, hi = float(np.float32(a)), float(np.float32(b))
    result = torch.empty(n).normal_(mean, std).numpy().copy()
    rounds, draws = 1, n + (16 if n % 16 and n >= 16 else 0)
    while True:
        mask = (result < lo) | (result > hi)
        if not mask.any():
            return result, rounds, draws
        fresh = torch.empty(n).normal_(mean, std).numpy()
        result = np.where(mask, fresh, result)
        rounds += 1
        draws += n + (16 if n % 16 and n >= 16 else 0)


def main():
    for seed, n, mean, std, a, b in [(0, 1000, 0.0, 1.0, -2.0, 2.0), (1, 1000003, 0.0, 1.0, -2.0, 2.0),
                                     (2, 4097, 0.0, 0.02, -2.0, 2.0), (3, 17, 0.0, 1.0, -1.0, 1.0),
                                     (4, 100000, 0.1, 0.5, -0.3, 1.5)]:
        p = (1 + math.erf((b - mean) / std / math.sqrt(2))) / 2 - (1 + math.erf((a - mean) / std / math.sqrt(2))) / 2
        torch.manual_seed(seed)
        got = torch.nn.init.trunc_normal_(torch.empty(n), mean, std, a, b).numpy().copy()
        nxt = torch.empty(8).uniform_().numpy()
        torch.manual_seed(seed)
        want, rounds, draws = described(n, mean, std, a, b)
        nxt2 = torch.empty(8).uniform_().numpy()
        print("torch %s %s p=%.3f n=%d: values %s, generator %s after %d rounds (%d normal draws)"
              % (torch.__version__, os.environ.get("ATEN_CPU_CAPABILITY"), p, n,
                 "same" if (got.view(np.uint32) == want.view(np.uint32)).all() else "DIFFER",
                 "in step" if (nxt == nxt2).all() else "NOT in step", rounds, draws))


if __name__ == "__main__":
    main()
