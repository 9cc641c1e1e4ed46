/* PyTorch's single-precision erfinv kernel (calc_erfinv, torch-rng.md
 * §5), inlined into each instruction set's trunc_normal_ kernel so that
 * its fused Horner steps become FMA instructions where the unit is built
 * with -mfma (fmaf() is exactly rounded either way).  erff/expf/logf are
 * core/math's, glibc's values bit for bit. */
#ifndef WI_KERNELS_ERFINV_H
#define WI_KERNELS_ERFINV_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "math/wimath.h"

static inline float wi_erfinv_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define WI_EF(hex) wi_erfinv_bits(UINT32_C(hex))

/* calc_erfinv's coefficients (torch-rng.md §5). */
#define WI_ERFINV_A0 WI_EF(0x3f62dfc4)
#define WI_ERFINV_A1 WI_EF(0xbfd29ad1)
#define WI_ERFINV_A2 WI_EF(0x3f6a24db)
#define WI_ERFINV_A3 WI_EF(0xbe0fea97)
#define WI_ERFINV_B0 WI_EF(0xc0079380)
#define WI_ERFINV_B1 WI_EF(0x3fb8aabd)
#define WI_ERFINV_B2 WI_EF(0xbea87f78)
#define WI_ERFINV_B3 WI_EF(0x3c485f81)
#define WI_ERFINV_C0 WI_EF(0xbffc4480)
#define WI_ERFINV_C1 WI_EF(0xbfcffcf0)
#define WI_ERFINV_C2 WI_EF(0x405b7e0a)
#define WI_ERFINV_C3 WI_EF(0x3fd2179a)
#define WI_ERFINV_D0 WI_EF(0x4062cf15)
#define WI_ERFINV_D1 WI_EF(0x3fd18b70)
#define WI_ERFINV_K WI_EF(0x3f906eba)       /* 2 / sqrt(pi) */
#define WI_ERFINV_CENTRAL WI_EF(0x3f333333) /* 0.7 */

/* One Horner step: fused in torch's AVX2 build, two roundings otherwise. */
static inline __attribute__((always_inline)) float
wi_erfinv_step(float acc, float z, float c, int fused)
{
    return fused ? fmaf(acc, z, c) : acc * z + c;
}

/* calc_erfinv's first approximation for |y| < 1, before the two Newton
 * steps: a rational function of y^2 in the centre, of sqrt(-log((1-|y|)/2))
 * in the tails. */
static inline __attribute__((always_inline)) float
wi_erfinv_guess_inline(float y, int fused)
{
#define H(acc, c) wi_erfinv_step(acc, z, c, fused)
    float y_abs = fabsf(y);
    float x;
    if (y_abs <= WI_ERFINV_CENTRAL) {
        float z = y * y;
        float num = H(H(H(WI_ERFINV_A3, WI_ERFINV_A2), WI_ERFINV_A1), WI_ERFINV_A0);
        float den = H(H(H(H(WI_ERFINV_B3, WI_ERFINV_B2), WI_ERFINV_B1), WI_ERFINV_B0), 1.0f);
        x = y * num;
        x = x / den;
    } else {
        float z = sqrtf(-wi_logf((1.0f - y_abs) / 2.0f));
        float num = H(H(H(WI_ERFINV_C3, WI_ERFINV_C2), WI_ERFINV_C1), WI_ERFINV_C0);
        float den = H(H(WI_ERFINV_D1, WI_ERFINV_D0), 1.0f);
        x = copysignf(num, y) / den;
    }
#undef H
    return x;
}

/* One Newton step on erf(x) = y, exactly as calc_erfinv writes it. */
static inline __attribute__((always_inline)) float
wi_erfinv_newton(float x, float y)
{
    return x - (wi_erff(x) - y) / (WI_ERFINV_K * wi_expf(-x * x));
}

static inline __attribute__((always_inline)) float
wi_erfinv_inline(float y, int fused)
{
    float y_abs = fabsf(y);
    if (y_abs > 1.0f)
        return NAN;
    if (y_abs == 1.0f)
        return copysignf(INFINITY, y);
    float x = wi_erfinv_guess_inline(y, fused);
    for (int step = 0; step < 2; step++)
        x = wi_erfinv_newton(x, y);
    return x;
}

/* mul_(scale), add_(shift), clamp_(lo, hi) on one value. */
static inline __attribute__((always_inline)) float
wi_trunc_affine_clamp(float v, float scale, float shift, float lo, float hi)
{
    v = v * scale;
    v = v + shift;
    v = v < lo ? lo : v; /* std::max(v, lo) */
    v = hi < v ? hi : v; /* std::min(v, hi) */
    return v;
}

/* erfinv_, mul_(scale), add_(shift), clamp_(lo, hi) in place (§6). */
static inline __attribute__((always_inline)) void
wi_trunc_tail_inline(float *a, size_t n, float scale, float shift, float lo,
                     float hi, int fused)
{
    for (size_t i = 0; i < n; i++) {
        a[i] = wi_trunc_affine_clamp(wi_erfinv_inline(a[i], fused), scale,
                                     shift, lo, hi);
    }
}

#endif
