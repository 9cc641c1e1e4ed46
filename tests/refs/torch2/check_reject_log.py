#!/usr/bin/env python3
"""torch >= 2.12's trunc_normal_, branch p <= 0.3 (narrow or off-centre
intervals), decides acceptance with accept_buf.uniform_().log_(), and
torch's float log_ on the PyPI wheels is MKL's vmsLn, not correctly
rounded.  weightinit uses the correctly rounded logf instead.  This script
measures what that changes, two ways, under the torch in which it runs:

1. log_ itself over every value uniform_() can draw (k * 2^-24, k = 0 ..
   2^24 - 1, all of log_'s inputs in that branch): how many differ from
   the correctly rounded logf (numpy's double log rounded to float; the
   inputs within 2^-40 of a rounding boundary re-decided by mpmath);
2. trunc_normal_ on large tensors, p <= 0.3, run twice from the same seed:
   with torch's log_, and with Tensor.log_ replaced by the correctly
   rounded one: how many elements differ, and whether the generator ends
   in step (the next uniform_ equal).

  ATEN_CPU_CAPABILITY=avx2 VENV/bin/python check_reject_log.py [--sha256]

--sha256 prints the sha256 of the 2^24 correctly rounded logs (float32
little-endian, k = 0 first), the reference tests/test_rng.c checks
weightinit's against.
"""
import hashlib
import math
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)


def cr_log_all():
    k = np.arange(0, 1 << 24, dtype=np.float64)
    x = (k * 2.0 ** -24).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(x.astype(np.float64))
    f = d.astype(np.float32)
    # Inputs whose double log lies near a float rounding boundary.
    f64 = f.astype(np.float64)
    nxt = np.nextafter(f, np.float32(np.inf)).astype(np.float64)
    prv = np.nextafter(f, np.float32(-np.inf)).astype(np.float64)
    mid_hi, mid_lo = (f64 + nxt) / 2, (f64 + prv) / 2
    fin = np.isfinite(d)
    with np.errstate(invalid="ignore"):
        near = fin & ((np.abs(d - mid_hi) <= np.abs(d) * 2.0 ** -40) |
                      (np.abs(d - mid_lo) <= np.abs(d) * 2.0 ** -40))
    idx = np.nonzero(near)[0]
    if len(idx):
        import mpmath
        mpmath.mp.prec = 200
        for i in idx:
            v = mpmath.log(mpmath.mpf(float(x[i])))
            with mpmath.workprec(24):  # round to nearest float32 (no overflow here)
                f[i] = np.float32(float(+v))
    return x, f, len(idx)


def main():
    x, cr, near = cr_log_all()
    if "--sha256" in sys.argv:
        print(hashlib.sha256(cr.tobytes()).hexdigest(), "near-ties:", near)
    t = torch.from_numpy(x.copy()).log_().numpy()
    diff = t.view(np.uint32) != cr.view(np.uint32)
    print("torch %s %s: log_ of the 2^24 uniform_ values: %d differ from the correctly "
          "rounded logf (%d near-ties decided by mpmath)"
          % (torch.__version__, os.environ.get("ATEN_CPU_CAPABILITY"), int(diff.sum()), near))

    real_log = torch.Tensor.log_

    def cr_log_(self):
        a = self.numpy()
        with np.errstate(divide="ignore"):
            a[...] = np.log(a.astype(np.float64)).astype(np.float32)
        return self

    for seed, n, mean, std, a, b in [(0, 10**6, 0.0, 1.0, 1.0, 3.0), (1, 10**6, 0.0, 1.0, 2.0, 2.5),
                                     (2, 3 * 10**6, 0.0, 0.02, 0.03, 0.1), (3, 10**6, 0.5, 2.0, -10.0, -3.0),
                                     (4, 10**6, 0.0, 1.0, -0.2, 0.2)]:
        p = (1 + math.erf((b - mean) / std / math.sqrt(2))) / 2 - (1 + math.erf((a - mean) / std / math.sqrt(2))) / 2
        torch.manual_seed(seed)
        got = torch.nn.init.trunc_normal_(torch.empty(n), mean, std, a, b).numpy().copy()
        nxt = torch.empty(8).uniform_().numpy()
        torch.Tensor.log_ = cr_log_
        try:
            torch.manual_seed(seed)
            want = torch.nn.init.trunc_normal_(torch.empty(n), mean, std, a, b).numpy().copy()
            nxt2 = torch.empty(8).uniform_().numpy()
        finally:
            torch.Tensor.log_ = real_log
        print("trunc_normal_(%g, %g, %g, %g) p=%.3g n=%d: %d elements differ with the correctly "
              "rounded log, generator %s"
              % (mean, std, a, b, p, n, int((got.view(np.uint32) != want.view(np.uint32)).sum()),
                 "in step" if (nxt == nxt2).all() else "NOT in step"))


if __name__ == "__main__":
    main()
