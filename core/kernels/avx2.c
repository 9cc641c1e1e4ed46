/* The AVX2+FMA kernels (built with -mavx2 -mfma, run only where the CPU
 * has both).  Same bits as scalar.c; the avx2 profile's Box-Muller is
 * PyTorch's own 8-wide normal_fill_16_AVX2 with Pommier's log256_ps and
 * sincos256_ps, FMAs where GCC formed them (torch-rng.md §4.2). */
#include <immintrin.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/erfinv_avx2.h"
#include "kernels/normal_default.h"
#include "kernels/mt_word.h"
#include "kernels/pommier_avx2.h"

#define I32(x) _mm256_set1_epi32((int)(x))
#define F32(hex) _mm256_castsi256_ps(I32(UINT32_C(hex)))

static inline __m256i twist8(__m256i a, __m256i b, __m256i c)
{
    __m256i mix = _mm256_or_si256(_mm256_and_si256(a, I32(WI_MT_UPPER)),
                                  _mm256_and_si256(b, I32(WI_MT_LOWER)));
    __m256i odd = _mm256_and_si256(b, I32(1));
    __m256i mag = _mm256_and_si256(_mm256_sub_epi32(_mm256_setzero_si256(), odd),
                                   I32(WI_MT_MATRIX_A));
    return _mm256_xor_si256(_mm256_xor_si256(c, _mm256_srli_epi32(mix, 1)),
                            mag);
}

#define LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(p), v)

/* k < 227 reads old words ahead; k >= 227 reads st[k - 227], already new;
 * the 8-wide steps never straddle either boundary. */
static void twist(uint32_t *st)
{
    int k = 0;
    for (; k + 8 <= 227; k += 8)
        ST(st + k, twist8(LD(st + k), LD(st + k + 1), LD(st + k + 397)));
    for (; k < 227; k++)
        st[k] = wi_mt_word(st[k], st[k + 1], st[k + 397]);
    for (; k + 8 <= 623; k += 8)
        ST(st + k, twist8(LD(st + k), LD(st + k + 1), LD(st + k - 227)));
    for (; k < 623; k++)
        st[k] = wi_mt_word(st[k], st[k + 1], st[k - 227]);
    st[623] = wi_mt_word(st[623], st[0], st[396]);
}

static inline __m256i temper8(__m256i y)
{
    y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 11));
    y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 7),
                                             I32(0x9d2c5680u)));
    y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 15),
                                             I32(0xefc60000u)));
    return _mm256_xor_si256(y, _mm256_srli_epi32(y, 18));
}

static inline __m256 u24x8(__m256i y)
{
    __m256 x = _mm256_cvtepi32_ps(_mm256_and_si256(y, I32(0xffffff)));
    return _mm256_mul_ps(x, _mm256_set1_ps(0x1p-24f));
}

static void temper(uint32_t *out, const uint32_t *st, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        ST(out + i, temper8(LD(st + i)));
    for (; i < n; i++)
        out[i] = wi_mt_temper(st[i]);
}

static void u24_fill(float *out, const uint32_t *st, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, u24x8(temper8(LD(st + i))));
    for (; i < n; i++)
        out[i] = (float)(wi_mt_temper(st[i]) & 0xffffffu) * 0x1p-24f;
}

static void uniform(float *out, const uint32_t *st, size_t n, float from,
                    float range, int fused)
{
    const __m256 f = _mm256_set1_ps(from), r = _mm256_set1_ps(range);
    size_t i = 0;
    if (fused)
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(out + i,
                             _mm256_fmadd_ps(u24x8(temper8(LD(st + i))), r, f));
    else
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(
                out + i,
                _mm256_add_ps(_mm256_mul_ps(u24x8(temper8(LD(st + i))), r), f));
    for (; i < n; i++) {
        float x = (float)(wi_mt_temper(st[i]) & 0xffffffu) * 0x1p-24f;
        out[i] = fused ? _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x),
                                                    _mm_set_ss(range),
                                                    _mm_set_ss(from)))
                       : x * range + from;
    }
}

static void normal_avx2(float *data, size_t nblocks, float mean, float std)
{
    const __m256 m = _mm256_set1_ps(mean), sd = _mm256_set1_ps(std);
    for (size_t b = 0; b < nblocks; b++)
        wi_pommier_block16(data + 16 * b, m, sd);
}

/* 624 words = 6 passes of 13 registers, so the accumulator stays in
 * registers while the terms stream by. */
static void xor_windows(uint32_t *acc, const uint32_t *buf,
                        const uint16_t *terms, int nterms)
{
    for (int pass = 0; pass < 6; pass++) {
        __m256i r[13];
        for (int i = 0; i < 13; i++)
            r[i] = _mm256_setzero_si256();
        const uint32_t *base = buf + 104 * pass;
        for (int t = 0; t < nterms; t++) {
            const uint32_t *w = base + terms[t];
#pragma GCC unroll 13
            for (int i = 0; i < 13; i++)
                r[i] = _mm256_xor_si256(r[i], LD(w + 8 * i));
        }
        for (int i = 0; i < 13; i++)
            ST(acc + 104 * pass + 8 * i, r[i]);
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

const wi_kernels_t wi_kernels_avx2 = {
    .isa = "avx2",
    .twist = twist,
    .temper = temper,
    .u24 = u24_fill,
    .uniform = uniform,
    .normal_avx2 = normal_avx2,
    .normal_default = normal_default,
    .trunc = trunc_fill,
    .xor_windows = xor_windows,
};
