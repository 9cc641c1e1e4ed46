/* What each RNG profile means for the arithmetic, in one place: the
 * kernels ask these questions instead of comparing profile names, so a
 * new profile is one row here.  Not part of the ABI.
 *
 *   profile            capability    erfinv (trunc_normal_)  torch's          normal_ fill  f16 of
 *                                                            trunc_normal_    path's end    a NaN
 *   avx2               AVX2 (fused)  torch 1.13 calc_erfinv  erfinv           fused (AVX2)  0x7e00
 *   default            default       torch 1.13 calc_erfinv  erfinv           x*s + m       0x7e00
 *   torch2.0-avx2      AVX2 (fused)  correctly rounded (MKL) erfinv           fused (AVX2)  payload
 *   torch2.0-default   default       correctly rounded (MKL) erfinv           x*s + m       payload
 *   torch2.12-avx2     AVX2 (fused)  correctly rounded (MKL) rejection        fused (AVX2)  payload
 *   torch2.12-default  default       correctly rounded (MKL) rejection        x*s + m       payload
 *   torch2.13-default  default       correctly rounded (MKL) rejection        fmaf(x, s, m) payload
 *
 * "erfinv" is MMEngine's trunc_normal_init always, and
 * torch.nn.init.trunc_normal_ up to torch 2.11; from 2.12 on torch's is a
 * rejection sampler (init/trunc_normal.c).  docs/torch-versions.md says
 * why and where MKL is not correctly rounded. */
#ifndef WI_KERNELS_PROFILE_H
#define WI_KERNELS_PROFILE_H

#include <weightinit/types.h>

/* 1 for a profile weightinit knows. */
static inline int wi_profile_valid(wi_rng_profile_t p)
{
    return p >= WI_RNG_AVX2 && p <= WI_RNG_TORCH213_DEFAULT;
}

/* 1 when the profile follows torch's AVX2 capability: fused uniform and
 * per-element normal, the AVX2 Box-Muller, fused calc_erfinv Horner steps,
 * and the vector kernels' bfloat16 NaN (0xffff); 0 for the default
 * capability's arithmetic. */
static inline int wi_profile_avx2(wi_rng_profile_t p)
{
    return p == WI_RNG_AVX2 || p == WI_RNG_TORCH2_AVX2 ||
           p == WI_RNG_TORCH212_AVX2;
}

/* 1 when trunc_normal_'s erfinv step is the correctly rounded float
 * erfinv (PyPI torch 2.x: MKL's vmsErfInv), 0 for calc_erfinv. */
static inline int wi_profile_erfinv_cr(wi_rng_profile_t p)
{
    return p >= WI_RNG_TORCH2_AVX2;
}

/* 1 when torch.nn.init.trunc_normal_ is the rejection sampler of torch
 * >= 2.12, 0 when it is the erfinv method (MMEngine's copy always is). */
static inline int wi_profile_trunc_rejection(wi_rng_profile_t p)
{
    return p >= WI_RNG_TORCH212_AVX2;
}

/* 1 when the default capability's normal_ fill path ends in
 * fmaf(radius * cos, std, mean) (torch >= 2.13, PR #179834). */
static inline int wi_profile_normal_fma(wi_rng_profile_t p)
{
    return p == WI_RNG_TORCH213_DEFAULT;
}

/* 1 when .to(float16) keeps a NaN's payload (torch >= 2.0), 0 when it
 * gives the canonical 0x7e00 (torch 1.13). */
static inline int wi_profile_f16_nan_payload(wi_rng_profile_t p)
{
    return p >= WI_RNG_TORCH2_AVX2;
}

#endif
