/* What init.c gives trunc_normal.c (torch.nn.init.trunc_normal_ of each
 * torch) and MMEngine's trunc_normal_init: normal_'s values, and the
 * erfinv-based trunc_normal_.  Not part of the ABI. */
#ifndef WI_INIT_INTERNAL_H
#define WI_INIT_INTERNAL_H

#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/types.h>

#include "base/internal.h"

/* The checks every primitive makes first: t (and g when need_g) given,
 * t F32.  0 or WI_EINVAL naming fn. */
WI_INTERNAL int wi_priv_init_check(const wi_tensor_t *t, const wi_generator_t *g,
                                   int need_g, const char *fn, wi_error_t *err);
/* a[0..n-1] = what normal_(mean, std) stores in a contiguous tensor of n
 * elements: the fill path when n >= 16, else the per-element path with
 * the generator's cached double.  0, WI_EINVAL (normal_'s message) for std < 0 or NaN,
 * WI_ENOMEM or the WEIGHTINIT_ISA / WEIGHTINIT_THREADS error. */
WI_INTERNAL int wi_priv_normal_values(wi_generator_t *g, float *a, int64_t n,
                                      double mean, double std,
                                      wi_error_t *err);

/* ATen's check_uniform_bounds for float32, in double (uniform_'s own
 * argument check): 0 or WI_EINVAL naming the bound. */
WI_INTERNAL int wi_priv_check_uniform_bounds(double from, double to,
                                             wi_error_t *err);
/* trunc_normal_'s norm_cdf in Python doubles: (1 + erf(x / sqrt 2)) / 2. */
WI_INTERNAL double wi_priv_norm_cdf(double x);

/* The inverse-CDF trunc_normal_ (torch <= 2.11, and MMEngine's own copy
 * in every release): what wi_trunc_normal_ computes under the profiles
 * up to torch2.0-*, whatever g's profile. */
WI_INTERNAL int wi_priv_trunc_normal_erfinv(wi_tensor_t *t, wi_generator_t *g,
                                            double mean, double std, double a,
                                            double b, wi_error_t *err);

#endif
