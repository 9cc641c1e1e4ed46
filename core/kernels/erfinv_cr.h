/* The correctly rounded float erfinv of the torch2.0-* profiles (PyPI
 * torch 2.0-2.11 call MKL's vmsErfInv, which agrees with it except on
 * 120,954 inputs, docs/torch-versions.md).  One scalar function that
 * every instruction set's path calls, so the bits never depend on the
 * CPU or the thread count.  Not part of the ABI. */
#ifndef WI_KERNELS_ERFINV_CR_H
#define WI_KERNELS_ERFINV_CR_H

#include <stddef.h>

#include "base/internal.h"

/* erfinv(y) rounded to nearest (ties even) for every float y; +-inf at
 * +-1, NaN beyond and for NaN, -0 at -0. */
WI_INTERNAL float wi_erfinv_cr(float y);

/* erfinv_ (correctly rounded), mul_(scale), add_(shift), clamp_(lo, hi)
 * in place: the tail of trunc_normal_ under the torch2.0-* profiles. */
WI_INTERNAL void wi_trunc_tail_cr(float *a, size_t n, float scale,
                                  float shift, float lo, float hi);

#endif
