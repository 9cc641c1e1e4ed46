#!/usr/bin/env python3
"""Checks the rule for normal_'s fill path under ATEN_CPU_CAPABILITY=default
in torch >= 2.12-ish (PR #179834; 2.15 measured): per pair of a block of 16,
  radius = sqrtf(-2 * logf(1 - a[j]));  theta = f32(f64(2*pi) * a[j+8])
  out[j] = fmaf(radius * cosf(theta), S, M); out[j+8] = fmaf(radius * sinf(theta), S, M)
with glibc's logf/cosf/sinf/fmaf (via ctypes), against the real normal_
(a multiple of 16 elements, so no ragged block).  Also evaluates 1.13's
rule ((radius*cos)*S)+M on the same uniforms, to show which one the build
follows.  Run in a venv, e.g.:

  ATEN_CPU_CAPABILITY=default VENV/bin/python check_normal_rule.py
"""
import ctypes
import ctypes.util
import math
import os

import numpy as np
import torch

torch.set_num_threads(1)
libm = ctypes.CDLL(ctypes.util.find_library("m"))
for f in ("logf", "cosf", "sinf", "sqrtf"):
    getattr(libm, f).restype = ctypes.c_float
    getattr(libm, f).argtypes = [ctypes.c_float]
libm.fmaf.restype = ctypes.c_float
libm.fmaf.argtypes = [ctypes.c_float] * 3
F = np.float32


def rule(a, mean, std, fused):
    out = np.empty_like(a)
    S, M = F(std), F(mean)
    for b in range(0, a.size, 16):
        for j in range(8):
            u1 = F(F(1) - a[b + j])
            u2 = a[b + j + 8]
            radius = F(libm.sqrtf(F(F(-2) * F(libm.logf(u1)))))
            theta = F(2.0 * math.pi * float(u2))
            c, s = F(radius * F(libm.cosf(theta))), F(radius * F(libm.sinf(theta)))
            if fused:
                out[b + j], out[b + j + 8] = libm.fmaf(c, S, M), libm.fmaf(s, S, M)
            else:
                out[b + j], out[b + j + 8] = F(F(c * S) + M), F(F(s * S) + M)
    return out


def main():
    n, mean, std = 1 << 17, 0.1, 0.02
    for seed in (0, 1):
        torch.manual_seed(seed)
        a = torch.empty(n).uniform_(0, 1).numpy()
        torch.manual_seed(seed)
        got = torch.empty(n).normal_(mean, std).numpy().view(np.uint32)
        for name, fused in (("fma(r*cos, S, M)", True), ("(r*cos)*S + M", False)):
            want = rule(a, mean, std, fused).view(np.uint32)
            print("torch %s %s seed %d, n %d, normal_(%g, %g): %s differs in %d elements"
                  % (torch.__version__, os.environ.get("ATEN_CPU_CAPABILITY"), seed, n, mean,
                     std, name, int((got != want).sum())))


if __name__ == "__main__":
    main()
