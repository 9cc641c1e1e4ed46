/* trunc_normal_'s erfinv, scale, shift and clamp over arrays for the AVX2
 * and AVX-512 kernels (both built with -mavx2 -mfma): the same float
 * operations per element as erfinv.h's scalar code, run 8 lanes at a
 * time, with logf, erff and expf as core/math's bit-identical array
 * versions.  So the bits are the scalar kernel's.  Elements with |y| >= 1
 * or NaN (calc_erfinv's early returns) are redone with the scalar code. */
#ifndef WI_KERNELS_ERFINV_AVX2_H
#define WI_KERNELS_ERFINV_AVX2_H

#include <immintrin.h>

#include "kernels/erfinv.h"

#define WI_ERFINV_CHUNK 512

#define WI_V8(f) _mm256_set1_ps(f)

/* One Horner step, fused or as two roundings, as wi_erfinv_step. */
static inline __attribute__((always_inline)) __m256
wi_erfinv_step8(__m256 acc, __m256 z, float c, int fused)
{
    return fused ? _mm256_fmadd_ps(acc, z, WI_V8(c))
                 : _mm256_add_ps(_mm256_mul_ps(acc, z), WI_V8(c));
}

/* wi_erfinv_guess_inline on 8 lanes; lg holds logf((1 - |y|) / 2). */
static inline __attribute__((always_inline)) __m256
wi_erfinv_guess8(__m256 y, __m256 lg, int fused)
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
#define H(acc, c) wi_erfinv_step8(acc, z, c, fused)
#define C(c) WI_V8(c)
    __m256 y_abs = _mm256_and_ps(y, absmask);
    __m256 central = _mm256_cmp_ps(y_abs, C(WI_ERFINV_CENTRAL), _CMP_LE_OQ);
    __m256 xc, xt;
    {
        __m256 z = _mm256_mul_ps(y, y);
        __m256 num = H(H(H(C(WI_ERFINV_A3), WI_ERFINV_A2), WI_ERFINV_A1), WI_ERFINV_A0);
        __m256 den = H(H(H(H(C(WI_ERFINV_B3), WI_ERFINV_B2), WI_ERFINV_B1), WI_ERFINV_B0), 1.0f);
        xc = _mm256_div_ps(_mm256_mul_ps(y, num), den);
    }
    {
        __m256 z = _mm256_sqrt_ps(_mm256_sub_ps(_mm256_setzero_ps(), lg));
        __m256 num = H(H(H(C(WI_ERFINV_C3), WI_ERFINV_C2), WI_ERFINV_C1), WI_ERFINV_C0);
        __m256 den = H(H(C(WI_ERFINV_D1), WI_ERFINV_D0), 1.0f);
        __m256 sgn = _mm256_andnot_ps(absmask, y);
        xt = _mm256_div_ps(_mm256_or_ps(_mm256_and_ps(num, absmask), sgn), den);
    }
#undef C
#undef H
    return _mm256_blendv_ps(xt, xc, central);
}

/* One chunk, m <= WI_ERFINV_CHUNK values, in place. */
static inline __attribute__((always_inline)) void
wi_trunc_chunk_avx2(float *a, size_t m, float scale, float shift, float lo,
                    float hi, int fused)
{
    float y[WI_ERFINV_CHUNK], x[WI_ERFINV_CHUNK], e[WI_ERFINV_CHUNK],
        g[WI_ERFINV_CHUNK];
    /* Padded to whole vectors with zeros (a harmless input). */
    size_t mv = (m + 7) & ~(size_t)7;
    memcpy(y, a, m * sizeof *y);
    for (size_t i = m; i < mv; i++)
        y[i] = 0.0f;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (size_t i = 0; i < mv; i += 8) {
        __m256 ya = _mm256_and_ps(_mm256_loadu_ps(y + i), absmask);
        _mm256_storeu_ps(g + i, _mm256_div_ps(_mm256_sub_ps(WI_V8(1.0f), ya),
                                              WI_V8(2.0f)));
    }
    wi_logf_avx2(g, g, mv);
    for (size_t i = 0; i < mv; i += 8)
        _mm256_storeu_ps(x + i, wi_erfinv_guess8(_mm256_loadu_ps(y + i),
                                                 _mm256_loadu_ps(g + i), fused));
    for (int step = 0; step < 2; step++) {
        for (size_t i = 0; i < mv; i += 8) {
            __m256 xv = _mm256_loadu_ps(x + i);
            _mm256_storeu_ps(g + i, _mm256_mul_ps(
                _mm256_sub_ps(_mm256_setzero_ps(), xv), xv));
        }
        wi_expf_avx2(g, g, mv);
        wi_erff_avx2(x, e, mv);
        for (size_t i = 0; i < mv; i += 8) {
            __m256 xv = _mm256_loadu_ps(x + i);
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(e + i), _mm256_loadu_ps(y + i));
            __m256 q = _mm256_mul_ps(WI_V8(WI_ERFINV_K), _mm256_loadu_ps(g + i));
            _mm256_storeu_ps(x + i, _mm256_sub_ps(xv, _mm256_div_ps(d, q)));
        }
    }
    /* max(lo, v) is lo > v ? lo : v, min(hi, v) hi < v ? hi : v: the
     * scalar code's comparisons, NaN and signed zeros included. */
    const __m256 vs = WI_V8(scale), vsh = WI_V8(shift), vlo = WI_V8(lo),
                 vhi = WI_V8(hi);
    for (size_t i = 0; i < mv; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), vsh);
        v = _mm256_min_ps(vhi, _mm256_max_ps(vlo, v));
        _mm256_storeu_ps(x + i, v);
    }
    memcpy(a, x, m * sizeof *a);
    /* |y| >= 1 and NaN: calc_erfinv's early returns, or NaN all through. */
    for (size_t i = 0; i < m; i += 8) {
        __m256i yi = _mm256_castps_si256(
            _mm256_and_ps(_mm256_loadu_ps(y + i), absmask));
        __m256i odd = _mm256_cmpgt_epi32(yi, _mm256_set1_epi32(0x3f7fffff));
        if (_mm256_testz_si256(odd, odd))
            continue;
        for (size_t l = i; l < i + 8 && l < m; l++)
            if (!(fabsf(y[l]) < 1.0f))
                a[l] = wi_trunc_affine_clamp(wi_erfinv_inline(y[l], fused),
                                             scale, shift, lo, hi);
    }
}

static inline __attribute__((always_inline)) void
wi_trunc_tail_avx2_inline(float *a, size_t n, float scale, float shift,
                          float lo, float hi, int fused)
{
    for (size_t i = 0; i < n; i += WI_ERFINV_CHUNK) {
        size_t m = n - i < WI_ERFINV_CHUNK ? n - i : WI_ERFINV_CHUNK;
        /* Constant flags: one copy of the chunk code per profile. */
        if (fused)
            wi_trunc_chunk_avx2(a + i, m, scale, shift, lo, hi, 1);
        else
            wi_trunc_chunk_avx2(a + i, m, scale, shift, lo, hi, 0);
    }
}

#endif
