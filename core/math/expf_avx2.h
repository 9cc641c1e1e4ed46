/* expf.c's arithmetic on 8 floats with AVX2 + FMA, for the lanes that take
 * expf.c's main path (abstop below 88's: finite, |x| < 88); other lanes
 * come out as garbage that callers must not use.  Same operations, same
 * order, fma exactly where expf.c writes fma(), so each lane's bits are
 * wi_expf's.  Shared by expf_avx2.c and erff_avx2.c (erff calls expf). */
#ifndef WI_MATH_EXPF_AVX2_H
#define WI_MATH_EXPF_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "math/expf_data.h"

__attribute__((target("avx2,fma"))) static inline __m128
wi_expf4_core(__m128 x)
{
    __m256d xd = _mm256_cvtps_pd(x);
    __m256d kd = _mm256_fmadd_pd(_mm256_set1_pd(WI_EXPF_INVLN2N), xd,
                                 _mm256_set1_pd(WI_EXPF_SHIFT));
    __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, _mm256_set1_pd(WI_EXPF_SHIFT));
    /* fma(a, b, -kd) is a*b - kd rounded once: fmsub. */
    __m256d r = _mm256_fmsub_pd(_mm256_set1_pd(WI_EXPF_INVLN2N), xd, kd);
    __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
    __m256i t = _mm256_i64gather_epi64((const long long *)wi_expf_tab, idx, 8);
    t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 52 - 5));
    __m256d s = _mm256_castsi256_pd(t);
    __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(wi_expf_poly[0]), r,
                                _mm256_set1_pd(wi_expf_poly[1]));
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(wi_expf_poly[2]), r,
                                _mm256_set1_pd(1.0));
    y = _mm256_fmadd_pd(z, r2, y);
    y = _mm256_mul_pd(y, s);
    return _mm256_cvtpd_ps(y);
}

__attribute__((target("avx2,fma"))) static inline __m256
wi_expf8_core(__m256 x)
{
    __m128 lo = wi_expf4_core(_mm256_castps256_ps128(x));
    __m128 hi = wi_expf4_core(_mm256_extractf128_ps(x, 1));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

/* Lanes where expf.c leaves its main path: abstop >= abstop(88.0f). */
__attribute__((target("avx2,fma"))) static inline __m256i
wi_expf8_special(__m256 x)
{
    __m256i top = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 20),
                                   _mm256_set1_epi32(0x7ff));
    return _mm256_cmpgt_epi32(top, _mm256_set1_epi32(0x42a));
}

#endif
