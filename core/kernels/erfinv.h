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

/* One Horner step: fused in torch's AVX2 build, two roundings otherwise. */
static inline __attribute__((always_inline)) float
wi_erfinv_step(float acc, float z, float c, int fused)
{
    return fused ? fmaf(acc, z, c) : acc * z + c;
}

static inline __attribute__((always_inline)) float
wi_erfinv_inline(float y, int fused)
{
#define H(acc, c) wi_erfinv_step(acc, z, c, fused)
    const float a0 = WI_EF(0x3f62dfc4), a1 = WI_EF(0xbfd29ad1),
                a2 = WI_EF(0x3f6a24db), a3 = WI_EF(0xbe0fea97);
    const float b0 = WI_EF(0xc0079380), b1 = WI_EF(0x3fb8aabd),
                b2 = WI_EF(0xbea87f78), b3 = WI_EF(0x3c485f81);
    const float c0 = WI_EF(0xbffc4480), c1 = WI_EF(0xbfcffcf0),
                c2 = WI_EF(0x405b7e0a), c3 = WI_EF(0x3fd2179a);
    const float d0 = WI_EF(0x4062cf15), d1 = WI_EF(0x3fd18b70);
    const float k = WI_EF(0x3f906eba);

    float y_abs = fabsf(y);
    if (y_abs > 1.0f)
        return NAN;
    if (y_abs == 1.0f)
        return copysignf(INFINITY, y);
    float x;
    if (y_abs <= WI_EF(0x3f333333)) {
        float z = y * y;
        float num = H(H(H(a3, a2), a1), a0);
        float den = H(H(H(H(b3, b2), b1), b0), 1.0f);
        x = y * num;
        x = x / den;
    } else {
        float z = sqrtf(-wi_logf((1.0f - y_abs) / 2.0f));
        float num = H(H(H(c3, c2), c1), c0);
        float den = H(H(d1, d0), 1.0f);
        x = copysignf(num, y) / den;
    }
#undef H
    for (int step = 0; step < 2; step++)
        x = x - (wi_erff(x) - y) / (k * wi_expf(-x * x));
    return x;
}

/* erfinv_, mul_(scale), add_(shift), clamp_(lo, hi) in place (§6). */
static inline __attribute__((always_inline)) void
wi_trunc_tail_inline(float *a, size_t n, float scale, float shift, float lo,
                     float hi, int fused)
{
    for (size_t i = 0; i < n; i++) {
        float v = wi_erfinv_inline(a[i], fused);
        v = v * scale;
        v = v + shift;
        v = v < lo ? lo : v; /* std::max(v, lo) */
        v = hi < v ? hi : v; /* std::min(v, hi) */
        a[i] = v;
    }
}

#endif
