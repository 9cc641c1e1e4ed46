/* PyTorch's avx_mathfun (Pommier) log256_ps and sincos256_ps and the
 * normal_fill_16_AVX2 block, 8 lanes, FMAs where GCC formed them in
 * torch's AVX2 build (torch-rng.md §4.2).  Included by the AVX2 and AVX-512
 * kernels; needs -mavx2 -mfma. */
#ifndef WI_KERNELS_POMMIER_AVX2_H
#define WI_KERNELS_POMMIER_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define WI_I32X8(x) _mm256_set1_epi32((int)(x))
#define WI_F32X8(hex) _mm256_castsi256_ps(WI_I32X8(UINT32_C(hex)))

/* log256_ps (x > 0 here). */
static inline __m256 wi_pommier_log8(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    x = _mm256_max_ps(x, WI_F32X8(0x00800000));
    __m256i e_i = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    x = _mm256_and_ps(x, WI_F32X8(0x807fffff));
    x = _mm256_or_ps(x, _mm256_set1_ps(0.5f));
    e_i = _mm256_sub_epi32(e_i, WI_I32X8(0x7f));
    __m256 e = _mm256_add_ps(_mm256_cvtepi32_ps(e_i), one);
    __m256 mask = _mm256_cmp_ps(x, WI_F32X8(0x3f3504f3), _CMP_LT_OS);
    __m256 tmp = _mm256_and_ps(x, mask);
    x = _mm256_sub_ps(x, one);
    e = _mm256_sub_ps(e, _mm256_and_ps(one, mask));
    x = _mm256_add_ps(x, tmp);
    __m256 y = WI_F32X8(0x3d9021bb);
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0xbdebd1b8));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0x3def251a));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0xbdfe5d4f));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0x3e11e9bf));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0xbe2aae50));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0x3e4cceac));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0xbe7ffffc));
    y = _mm256_fmadd_ps(y, x, WI_F32X8(0x3eaaaaaa));
    __m256 z = _mm256_mul_ps(x, x);
    y = _mm256_mul_ps(y, x);
    y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, WI_F32X8(0xb95e8083)));
    y = _mm256_sub_ps(y, _mm256_mul_ps(z, _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_add_ps(x, y);
    return _mm256_fmadd_ps(e, WI_F32X8(0x3f318000), r);
}

/* sincos256_ps. */
static inline void wi_pommier_sincos8(__m256 x, __m256 *s, __m256 *c)
{
    __m256 sign_sin = _mm256_and_ps(x, WI_F32X8(0x80000000));
    __m256 ax = _mm256_and_ps(x, WI_F32X8(0x7fffffff));
    __m256i j = _mm256_cvttps_epi32(_mm256_mul_ps(ax, WI_F32X8(0x3fa2f983)));
    j = _mm256_and_si256(_mm256_add_epi32(j, WI_I32X8(1)), WI_I32X8(~1));
    __m256 yf = _mm256_cvtepi32_ps(j);
    __m256 r = _mm256_fmadd_ps(yf, WI_F32X8(0xbf490000), ax);
    r = _mm256_fmadd_ps(yf, WI_F32X8(0xb97da000), r);
    r = _mm256_fmadd_ps(yf, WI_F32X8(0xb3222169), r);

    __m256 swap = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_and_si256(j, WI_I32X8(4)), 29));
    __m256 sel = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_and_si256(j, WI_I32X8(2)), _mm256_setzero_si256()));
    __m256 sign_cos = _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_andnot_si256(_mm256_sub_epi32(j, WI_I32X8(2)), WI_I32X8(4)), 29));
    sign_sin = _mm256_xor_ps(sign_sin, swap);

    __m256 z = _mm256_mul_ps(r, r);
    __m256 cp = _mm256_fmadd_ps(WI_F32X8(0x37ccf5ce), z, WI_F32X8(0xbab6061a));
    cp = _mm256_fmadd_ps(cp, z, WI_F32X8(0x3d2aaaa5));
    cp = _mm256_mul_ps(cp, z);
    cp = _mm256_fmsub_ps(cp, z, _mm256_mul_ps(z, _mm256_set1_ps(0.5f)));
    cp = _mm256_add_ps(cp, _mm256_set1_ps(1.0f));
    __m256 sp = _mm256_fmadd_ps(WI_F32X8(0xb94ca1f9), z, WI_F32X8(0x3c08839e));
    sp = _mm256_fmadd_ps(sp, z, WI_F32X8(0xbe2aaaa3));
    sp = _mm256_mul_ps(sp, z);
    sp = _mm256_fmadd_ps(sp, r, r);

    __m256 ysin1 = _mm256_andnot_ps(sel, cp);
    __m256 ysin2 = _mm256_and_ps(sel, sp);
    __m256 sv = _mm256_add_ps(ysin1, ysin2);
    __m256 cv = _mm256_add_ps(_mm256_sub_ps(cp, ysin1),
                              _mm256_sub_ps(sp, ysin2));
    *s = _mm256_xor_ps(sv, sign_sin);
    *c = _mm256_xor_ps(cv, sign_cos);
}

/* One block of 16 in place: lanes j and j + 8 form a Box-Muller pair. */
static inline void wi_pommier_block16(float *p, __m256 m, __m256 sd)
{
    __m256 u1 = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_loadu_ps(p));
    __m256 u2 = _mm256_loadu_ps(p + 8);
    __m256 radius = _mm256_sqrt_ps(
        _mm256_mul_ps(_mm256_set1_ps(-2.0f), wi_pommier_log8(u1)));
    __m256 theta = _mm256_mul_ps(WI_F32X8(0x40c90fdb), u2);
    __m256 sn, cs;
    wi_pommier_sincos8(theta, &sn, &cs);
    _mm256_storeu_ps(p, _mm256_fmadd_ps(_mm256_mul_ps(radius, cs), sd, m));
    _mm256_storeu_ps(p + 8, _mm256_fmadd_ps(_mm256_mul_ps(radius, sn), sd, m));
}

#endif
