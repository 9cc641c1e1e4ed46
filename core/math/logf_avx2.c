/* wi_logf on arrays, 8 lanes at a time with AVX2 + FMA: the same IEEE
 * operations as logf.c in the same order (gathers for the table, one
 * fused multiply-add where logf.c writes fma()), so every lane is bit
 * identical to wi_logf.  Blocks holding inputs outside the normal range
 * (zero, negative, subnormal, inf, NaN) and the tail go through wi_logf. */
#include <stddef.h>

#include "math/logf_data.h"
#include "math/wimath.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline __m128
logf4(__m128i ix, __m128i i, __m128i k, __m128i iz)
{
    const double *tab = (const double *)wi_logf_tab;
    __m128i i2 = _mm_slli_epi32(i, 1);
    __m256d invc = _mm256_i32gather_pd(tab, i2, 8);
    __m256d logc = _mm256_i32gather_pd(tab + 1, i2, 8);
    __m256d z = _mm256_cvtps_pd(_mm_castsi128_ps(iz));
    __m256d kd = _mm256_cvtepi32_pd(k);
    (void)ix;
    __m256d r = _mm256_fmadd_pd(z, invc, _mm256_set1_pd(-1.0));
    __m256d y0 = _mm256_fmadd_pd(kd, _mm256_set1_pd(WI_LOGF_LN2), logc);
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(wi_logf_poly[1]), r,
                                _mm256_set1_pd(wi_logf_poly[2]));
    y = _mm256_fmadd_pd(_mm256_set1_pd(wi_logf_poly[0]), r2, y);
    y = _mm256_fmadd_pd(y, r2, _mm256_add_pd(y0, r));
    return _mm256_cvtpd_ps(y);
}

__attribute__((target("avx2,fma"))) void
wi_logf_avx2(const float *in, float *out, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i ix = _mm256_loadu_si256((const __m256i *)(in + j));
        /* Normal positive finite: ix - 0x00800000 < 0x7f000000 unsigned,
         * i.e. as signed (ix - 0x00800000) in [0, 0x7f000000). */
        __m256i t = _mm256_sub_epi32(ix, _mm256_set1_epi32(0x00800000));
        __m256i bad = _mm256_or_si256(
            _mm256_cmpgt_epi32(_mm256_setzero_si256(), t),
            _mm256_cmpgt_epi32(t, _mm256_set1_epi32(0x7effffff)));
        if (!_mm256_testz_si256(bad, bad)) {
            for (size_t l = 0; l < 8; l++)
                out[j + l] = wi_logf(in[j + l]);
            continue;
        }
        __m256i tmp = _mm256_sub_epi32(ix, _mm256_set1_epi32(0x3f330000));
        __m256i i = _mm256_and_si256(_mm256_srli_epi32(tmp, 19),
                                     _mm256_set1_epi32(15));
        __m256i k = _mm256_srai_epi32(tmp, 23);
        __m256i iz = _mm256_sub_epi32(
            ix, _mm256_and_si256(tmp, _mm256_set1_epi32((int)0xff800000u)));
        __m128 lo = logf4(_mm256_castsi256_si128(ix), _mm256_castsi256_si128(i),
                          _mm256_castsi256_si128(k), _mm256_castsi256_si128(iz));
        __m128 hi = logf4(_mm256_extracti128_si256(ix, 1),
                          _mm256_extracti128_si256(i, 1),
                          _mm256_extracti128_si256(k, 1),
                          _mm256_extracti128_si256(iz, 1));
        _mm_storeu_ps(out + j, lo);
        _mm_storeu_ps(out + j + 4, hi);
    }
    for (; j < n; j++)
        out[j] = wi_logf(in[j]);
}

#else
/* Not x86: no vector version (callers check the CPU first). */
typedef int wi_no_avx2_t;
#endif
