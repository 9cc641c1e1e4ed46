/* The AVX-512 kernels (built with -mavx512f -mavx512bw -mavx512dq
 * -mavx512vl -mavx2 -mfma).  Same bits as scalar.c.  The avx2 profile's
 * Box-Muller runs two blocks of 16 at once: 16 lanes of the same
 * log/sincos arithmetic as PyTorch's 8-wide kernel. */
#include <immintrin.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/erfinv_avx2.h"
#include "kernels/normal_default.h"
#include "kernels/mt_word.h"
#include "kernels/pommier_avx2.h"

#define I32(x) _mm512_set1_epi32((int)(x))
#define F32(hex) _mm512_castsi512_ps(I32(UINT32_C(hex)))
#define LD(p) _mm512_loadu_si512((const void *)(p))
#define ST(p, v) _mm512_storeu_si512((void *)(p), v)

static inline __m512i twist16(__m512i a, __m512i b, __m512i c)
{
    __m512i mix = _mm512_ternarylogic_epi32(a, b, I32(WI_MT_UPPER), 0xe4);
    __m512i mag = _mm512_maskz_mov_epi32(
        _mm512_test_epi32_mask(b, I32(1)), I32(WI_MT_MATRIX_A));
    return _mm512_xor_si512(_mm512_xor_si512(c, _mm512_srli_epi32(mix, 1)),
                            mag);
}

static void twist(uint32_t *st)
{
    int k = 0;
    for (; k + 16 <= 227; k += 16)
        ST(st + k, twist16(LD(st + k), LD(st + k + 1), LD(st + k + 397)));
    for (; k < 227; k++)
        st[k] = wi_mt_word(st[k], st[k + 1], st[k + 397]);
    for (; k + 16 <= 623; k += 16)
        ST(st + k, twist16(LD(st + k), LD(st + k + 1), LD(st + k - 227)));
    for (; k < 623; k++)
        st[k] = wi_mt_word(st[k], st[k + 1], st[k - 227]);
    st[623] = wi_mt_word(st[623], st[0], st[396]);
}

static inline __m512i temper16(__m512i y)
{
    y = _mm512_xor_si512(y, _mm512_srli_epi32(y, 11));
    y = _mm512_xor_si512(y, _mm512_and_si512(_mm512_slli_epi32(y, 7),
                                             I32(0x9d2c5680u)));
    y = _mm512_xor_si512(y, _mm512_and_si512(_mm512_slli_epi32(y, 15),
                                             I32(0xefc60000u)));
    return _mm512_xor_si512(y, _mm512_srli_epi32(y, 18));
}

static inline __m512 u24x16(__m512i y)
{
    __m512 x = _mm512_cvtepi32_ps(_mm512_and_si512(y, I32(0xffffff)));
    return _mm512_mul_ps(x, _mm512_set1_ps(0x1p-24f));
}

static void temper(uint32_t *out, const uint32_t *st, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        ST(out + i, temper16(LD(st + i)));
    for (; i < n; i++)
        out[i] = wi_mt_temper(st[i]);
}

static void u24_fill(float *out, const uint32_t *st, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, u24x16(temper16(LD(st + i))));
    for (; i < n; i++)
        out[i] = (float)(wi_mt_temper(st[i]) & 0xffffffu) * 0x1p-24f;
}

static void uniform(float *out, const uint32_t *st, size_t n, float from,
                    float range, int fused)
{
    const __m512 f = _mm512_set1_ps(from), r = _mm512_set1_ps(range);
    size_t i = 0;
    if (fused)
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(out + i,
                             _mm512_fmadd_ps(u24x16(temper16(LD(st + i))), r, f));
    else
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(
                out + i,
                _mm512_add_ps(_mm512_mul_ps(u24x16(temper16(LD(st + i))), r), f));
    for (; i < n; i++) {
        float x = (float)(wi_mt_temper(st[i]) & 0xffffffu) * 0x1p-24f;
        out[i] = fused ? _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x),
                                                    _mm_set_ss(range),
                                                    _mm_set_ss(from)))
                       : x * range + from;
    }
}

#define AND(a, b) _mm512_and_ps(a, b)

/* log256_ps on 16 lanes: the masks become mask registers, the selected
 * values are the same bits (+0.0 where the 8-wide AND gives 0). */
static inline __m512 log16(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    x = _mm512_max_ps(x, F32(0x00800000));
    __m512i e_i = _mm512_srli_epi32(_mm512_castps_si512(x), 23);
    x = AND(x, F32(0x807fffff));
    x = _mm512_or_ps(x, _mm512_set1_ps(0.5f));
    e_i = _mm512_sub_epi32(e_i, I32(0x7f));
    __m512 e = _mm512_add_ps(_mm512_cvtepi32_ps(e_i), one);
    __mmask16 mask = _mm512_cmp_ps_mask(x, F32(0x3f3504f3), _CMP_LT_OS);
    __m512 tmp = _mm512_maskz_mov_ps(mask, x);
    x = _mm512_sub_ps(x, one);
    e = _mm512_sub_ps(e, _mm512_maskz_mov_ps(mask, one));
    x = _mm512_add_ps(x, tmp);
    __m512 y = F32(0x3d9021bb);
    y = _mm512_fmadd_ps(y, x, F32(0xbdebd1b8));
    y = _mm512_fmadd_ps(y, x, F32(0x3def251a));
    y = _mm512_fmadd_ps(y, x, F32(0xbdfe5d4f));
    y = _mm512_fmadd_ps(y, x, F32(0x3e11e9bf));
    y = _mm512_fmadd_ps(y, x, F32(0xbe2aae50));
    y = _mm512_fmadd_ps(y, x, F32(0x3e4cceac));
    y = _mm512_fmadd_ps(y, x, F32(0xbe7ffffc));
    y = _mm512_fmadd_ps(y, x, F32(0x3eaaaaaa));
    __m512 z = _mm512_mul_ps(x, x);
    y = _mm512_mul_ps(y, x);
    y = _mm512_fmadd_ps(y, z, _mm512_mul_ps(e, F32(0xb95e8083)));
    y = _mm512_sub_ps(y, _mm512_mul_ps(z, _mm512_set1_ps(0.5f)));
    __m512 r = _mm512_add_ps(x, y);
    return _mm512_fmadd_ps(e, F32(0x3f318000), r);
}

static inline void sincos16(__m512 x, __m512 *s, __m512 *c)
{
    __m512 sign_sin = AND(x, F32(0x80000000));
    __m512 ax = AND(x, F32(0x7fffffff));
    __m512i j = _mm512_cvttps_epi32(_mm512_mul_ps(ax, F32(0x3fa2f983)));
    j = _mm512_and_si512(_mm512_add_epi32(j, I32(1)), I32(~1));
    __m512 yf = _mm512_cvtepi32_ps(j);
    __m512 r = _mm512_fmadd_ps(yf, F32(0xbf490000), ax);
    r = _mm512_fmadd_ps(yf, F32(0xb97da000), r);
    r = _mm512_fmadd_ps(yf, F32(0xb3222169), r);

    __m512 swap = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_and_si512(j, I32(4)), 29));
    __mmask16 sel = _mm512_testn_epi32_mask(j, I32(2));
    __m512 sign_cos = _mm512_castsi512_ps(_mm512_slli_epi32(
        _mm512_andnot_si512(_mm512_sub_epi32(j, I32(2)), I32(4)), 29));
    sign_sin = _mm512_xor_ps(sign_sin, swap);

    __m512 z = _mm512_mul_ps(r, r);
    __m512 cp = _mm512_fmadd_ps(F32(0x37ccf5ce), z, F32(0xbab6061a));
    cp = _mm512_fmadd_ps(cp, z, F32(0x3d2aaaa5));
    cp = _mm512_mul_ps(cp, z);
    cp = _mm512_fmsub_ps(cp, z, _mm512_mul_ps(z, _mm512_set1_ps(0.5f)));
    cp = _mm512_add_ps(cp, _mm512_set1_ps(1.0f));
    __m512 sp = _mm512_fmadd_ps(F32(0xb94ca1f9), z, F32(0x3c08839e));
    sp = _mm512_fmadd_ps(sp, z, F32(0xbe2aaaa3));
    sp = _mm512_mul_ps(sp, z);
    sp = _mm512_fmadd_ps(sp, r, r);

    __m512 ysin1 = _mm512_maskz_mov_ps((__mmask16)~sel, cp);
    __m512 ysin2 = _mm512_maskz_mov_ps(sel, sp);
    __m512 sv = _mm512_add_ps(ysin1, ysin2);
    __m512 cv = _mm512_add_ps(_mm512_sub_ps(cp, ysin1),
                              _mm512_sub_ps(sp, ysin2));
    *s = _mm512_xor_ps(sv, sign_sin);
    *c = _mm512_xor_ps(cv, sign_cos);
}

/* Blocks b and b + 1: lanes 0-7 of u1/u2 from block b, 8-15 from b + 1. */
static inline void block32(float *p, __m512 m, __m512 sd)
{
    __m512 a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16);
    __m512 u1 = _mm512_sub_ps(_mm512_set1_ps(1.0f),
                              _mm512_shuffle_f32x4(a, b, 0x44));
    __m512 u2 = _mm512_shuffle_f32x4(a, b, 0xee);
    __m512 radius =
        _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), log16(u1)));
    __m512 theta = _mm512_mul_ps(F32(0x40c90fdb), u2);
    __m512 sn, cs;
    sincos16(theta, &sn, &cs);
    __m512 lo = _mm512_fmadd_ps(_mm512_mul_ps(radius, cs), sd, m);
    __m512 hi = _mm512_fmadd_ps(_mm512_mul_ps(radius, sn), sd, m);
    _mm512_storeu_ps(p, _mm512_shuffle_f32x4(lo, hi, 0x44));
    _mm512_storeu_ps(p + 16, _mm512_shuffle_f32x4(lo, hi, 0xee));
}

static void normal_avx2(float *data, size_t nblocks, float mean, float std)
{
    const __m512 m = _mm512_set1_ps(mean), sd = _mm512_set1_ps(std);
    size_t b = 0;
    for (; b + 2 <= nblocks; b += 2)
        block32(data + 16 * b, m, sd);
    if (b < nblocks)
        wi_pommier_block16(data + 16 * b, _mm256_set1_ps(mean),
                           _mm256_set1_ps(std));
}

/* 624 words = 3 passes of 13 registers. */
static void xor_windows(uint32_t *acc, const uint32_t *buf,
                        const uint16_t *terms, int nterms)
{
    for (int pass = 0; pass < 3; pass++) {
        __m512i r[13];
        for (int i = 0; i < 13; i++)
            r[i] = _mm512_setzero_si512();
        const uint32_t *base = buf + 208 * pass;
        for (int t = 0; t < nterms; t++) {
            const uint32_t *w = base + terms[t];
#pragma GCC unroll 13
            for (int i = 0; i < 13; i++)
                r[i] = _mm512_xor_si512(r[i], LD(w + 16 * i));
        }
        for (int i = 0; i < 13; i++)
            ST(acc + 208 * pass + 16 * i, r[i]);
    }
}

static void trunc_fill(float *a, size_t n, float scale, float shift, float lo,
                  float hi, int fused)
{
    wi_trunc_tail_avx2_inline(a, n, scale, shift, lo, hi, fused);
}

static void normal_default(float *data, size_t nblocks, float mean,
                           float std, int fma_end)
{
    wi_normal_default_blocks_avx2(data, nblocks, mean, std, fma_end);
}

const wi_kernels_t wi_kernels_avx512 = {
    .isa = "avx512",
    .twist = twist,
    .temper = temper,
    .u24 = u24_fill,
    .uniform = uniform,
    .normal_avx2 = normal_avx2,
    .normal_default = normal_default,
    .trunc = trunc_fill,
    .xor_windows = xor_windows,
};
