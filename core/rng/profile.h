/* What each RNG profile means for the arithmetic, in one place: the
 * kernels ask these questions instead of comparing profile names, so a
 * new profile is one row here.  Not part of the ABI.
 *
 *   profile           capability   erfinv of trunc_normal_   f16 of a NaN
 *   avx2              AVX2 (fused)  torch 1.13 calc_erfinv    0x7e00
 *   default           default       torch 1.13 calc_erfinv    0x7e00
 *   torch2.0-avx2     AVX2 (fused)  correctly rounded (MKL)   payload kept
 *   torch2.0-default  default       correctly rounded (MKL)   payload kept
 *
 * docs/torch-versions.md says why (torch 2.0-2.11 wheels: MKL's erfinv,
 * c10::Half keeping the NaN payload) and where MKL is not correctly
 * rounded. */
#ifndef WI_RNG_PROFILE_H
#define WI_RNG_PROFILE_H

#include <weightinit/rng.h>

/* 1 for a profile weightinit knows. */
static inline int wi_profile_valid(wi_rng_profile_t p)
{
    return p == WI_RNG_AVX2 || p == WI_RNG_DEFAULT || p == WI_RNG_TORCH2_AVX2 ||
           p == WI_RNG_TORCH2_DEFAULT;
}

/* 1 when the profile follows torch's AVX2 capability: fused uniform and
 * per-element normal, the AVX2 Box-Muller, fused calc_erfinv Horner steps,
 * and the vector kernels' bfloat16 NaN (0xffff); 0 for the default
 * capability's arithmetic. */
static inline int wi_profile_avx2(wi_rng_profile_t p)
{
    return p == WI_RNG_AVX2 || p == WI_RNG_TORCH2_AVX2;
}

/* 1 when trunc_normal_'s erfinv step is the correctly rounded float
 * erfinv (PyPI torch 2.0-2.11: MKL's vmsErfInv), 0 for calc_erfinv. */
static inline int wi_profile_erfinv_cr(wi_rng_profile_t p)
{
    return p == WI_RNG_TORCH2_AVX2 || p == WI_RNG_TORCH2_DEFAULT;
}

/* 1 when .to(float16) keeps a NaN's payload (torch >= 2.0), 0 when it
 * gives the canonical 0x7e00 (torch 1.13). */
static inline int wi_profile_f16_nan_payload(wi_rng_profile_t p)
{
    return p == WI_RNG_TORCH2_AVX2 || p == WI_RNG_TORCH2_DEFAULT;
}

#endif
