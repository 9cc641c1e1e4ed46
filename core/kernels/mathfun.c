/* torch's float kernels in scalar C, for any CPU: the avx2 profile's
 * Box-Muller (Cephes logf/sincosf), the default profile's, and erfinv. */
#include <math.h>
#include <stdint.h>

#include "kernels/erfinv.h"
#include "kernels/erfinv_cr.h"
#include "kernels/mathfun.h"
#include "kernels/normal_default.h"
#include "kernels/profile.h"
#include "math/bits.h"
#include "math/wimath.h"

/* Every float operation below must round to binary32 on its own (math/bits.h
 * checks FLT_EVAL_METHOD); fused operations are spelled fmaf() (the build
 * passes -ffp-contract=off). */

/* Constants are given as the bit patterns in torch-rng.md, so they can be
 * checked against it character for character. */
#define F(hex) wi_asfloat(UINT32_C(hex))

/* Inlined into the block transform so that its FMA clone (below) turns
 * every fmaf() into one instruction instead of a libm call. */
static inline __attribute__((always_inline)) float avx2_logf(float x)
{
    static const uint32_t p[9] = {0x3d9021bb, 0xbdebd1b8, 0x3def251a,
                                  0xbdfe5d4f, 0x3e11e9bf, 0xbe2aae50,
                                  0x3e4cceac, 0xbe7ffffc, 0x3eaaaaaa};
    const float min_norm = F(0x00800000);
    if (x < min_norm)
        x = min_norm;
    uint32_t xb = wi_asuint(x);
    int32_t e_i = (int32_t)(xb >> 23) - 127;
    float m = wi_asfloat((xb & 0x807fffffu) | 0x3f000000u);
    float e = (float)e_i + 1.0f;
    /* The kernel adds m (or 0) and subtracts 1 (or 0) through masks. */
    int below = m < F(0x3f3504f3);
    float t = m - 1.0f;
    e = e - (below ? 1.0f : 0.0f);
    t = t + (below ? m : 0.0f);

    float y = wi_asfloat(p[0]);
    for (int k = 1; k <= 8; k++)
        y = fmaf(y, t, wi_asfloat(p[k]));
    float z = t * t;
    y = y * t;
    y = fmaf(y, z, e * F(0xb95e8083));
    y = y - z * 0.5f;
    float r = t + y;
    return fmaf(e, F(0x3f318000), r);
}

static inline __attribute__((always_inline)) void avx2_sincosf(float x, float *s,
                                                               float *c)
{
    uint32_t xb = wi_asuint(x);
    uint32_t sign_sin = xb & 0x80000000u;
    float ax = wi_asfloat(xb & 0x7fffffffu);

    uint32_t j = (uint32_t)(int32_t)(ax * F(0x3fa2f983)); /* cvttps */
    j = (j + 1u) & ~1u;
    float yf = (float)(int32_t)j;
    float r = fmaf(yf, F(0xbf490000), ax);
    r = fmaf(yf, F(0xb97da000), r);
    r = fmaf(yf, F(0xb3222169), r);

    uint32_t swap = (j & 4u) << 29;
    int poly_sel = (j & 2u) == 0;
    uint32_t sign_cos = (~(j - 2u) & 4u) << 29;
    sign_sin ^= swap;

    float z = r * r;
    float cp = fmaf(F(0x37ccf5ce), z, F(0xbab6061a));
    cp = fmaf(cp, z, F(0x3d2aaaa5));
    cp = cp * z;
    cp = fmaf(cp, z, -(z * 0.5f));
    cp = cp + 1.0f;
    float sp = fmaf(F(0xb94ca1f9), z, F(0x3c08839e));
    sp = fmaf(sp, z, F(0xbe2aaaa3));
    sp = sp * z;
    sp = fmaf(sp, r, r);

    /* Mask-and-add selection as in the kernel (matters for signed zeros). */
    float ysin1 = poly_sel ? 0.0f : cp;
    float ysin2 = poly_sel ? sp : 0.0f;
    float sv = ysin1 + ysin2;
    float cv = (cp - ysin1) + (sp - ysin2);
    *s = wi_asfloat(wi_asuint(sv) ^ sign_sin);
    *c = wi_asfloat(wi_asuint(cv) ^ sign_cos);
}

static inline __attribute__((always_inline)) void
normal_fill16_avx2(float *data, float mean, float std)
{
    const float two_pi = F(0x40c90fdb);
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - data[j];
        float u2 = data[j + 8];
        float radius = sqrtf(-2.0f * avx2_logf(u1));
        float theta = two_pi * u2;
        float sn, cs;
        avx2_sincosf(theta, &sn, &cs);
        data[j] = fmaf(radius * cs, std, mean);
        data[j + 8] = fmaf(radius * sn, std, mean);
    }
}

void wi_normal_fill16_avx2(float *data, float mean, float std)
{
    normal_fill16_avx2(data, mean, std);
}

/* Results are identical in both clones: fmaf() is exactly rounded either
 * way; the "fma" clone only runs it as an instruction (CPUs with FMA). */
WI_FMA_CLONES static void
normal_blocks_avx2(float *data, int64_t nblocks, float mean, float std)
{
    for (int64_t b = 0; b < nblocks; b++)
        normal_fill16_avx2(data + 16 * b, mean, std);
}

/* A plain wrapper: clang 14 names the ifunc of an extern target_clones
 * function "<name>.ifunc", leaving <name> undefined at link time. */
void wi_normal_blocks_avx2(float *data, int64_t nblocks, float mean, float std)
{
    normal_blocks_avx2(data, nblocks, mean, std);
}

float wi_priv_erfinv_f32(float y, wi_rng_profile_t profile)
{
    if (wi_profile_erfinv_cr(profile))
        return wi_erfinv_cr(y);
    return wi_erfinv_inline(y, wi_profile_avx2(profile));
}
