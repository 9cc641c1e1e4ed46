/* wi_sincosf on arrays, 8 lanes at a time with AVX2 + FMA: the same IEEE
 * operations as sincosf.c's |x| < 120 path (the quadrant by truncation,
 * x - n pi/2 fused, the two polynomials in double), so every lane is bit
 * identical to wi_sincosf.  Using table 1 (negated cosine coefficients)
 * is an exact negation of table 0's cosine, so lanes negate instead.
 * Blocks with |x| >= 120, inf or NaN, and the tail, go through
 * wi_sincosf. */
#include <stddef.h>
#include <stdint.h>

#include "math/wimath.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* sincosf.c's constants (s_sincosf_data.c). */
#define HPI_INV 0x1.45F306DC9C883p+23
#define HPI 0x1.921FB54442D18p0
#define C0 0x1p0
#define C1 -0x1.ffffffd0c621cp-2
#define C2 0x1.55553e1068f19p-5
#define C3 -0x1.6c087e89a359dp-10
#define C4 0x1.99343027bf8c3p-16
#define S1 -0x1.555545995a603p-3
#define S2 0x1.1107605230bc4p-7
#define S3 -0x1.994eb3774cf24p-13

__attribute__((target("avx2,fma"))) static inline void
sincosf4(__m128 y, __m128 *sinp, __m128 *cosp)
{
    __m256d x = _mm256_cvtps_pd(y);
    __m128i n = _mm256_cvttpd_epi32(_mm256_mul_pd(x, _mm256_set1_pd(HPI_INV)));
    n = _mm_srai_epi32(_mm_add_epi32(n, _mm_set1_epi32(0x800000)), 24);
    __m256d r = _mm256_fnmadd_pd(_mm256_cvtepi32_pd(n), _mm256_set1_pd(HPI), x);
    /* sign[n & 3] = -1 for n & 3 in {1, 2}: bit 1 of n + 1. */
    __m128i neg_s = _mm_slli_epi32(_mm_add_epi32(n, _mm_set1_epi32(1)), 30);
    __m256d sign = _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_cvtepi32_epi64(_mm_srli_epi32(neg_s, 31)), 63));
    __m256d xs = _mm256_xor_pd(r, sign);
    __m256d x2 = _mm256_mul_pd(r, r);

    __m256d x3 = _mm256_mul_pd(xs, x2);
    __m256d s1 = _mm256_fmadd_pd(x2, _mm256_set1_pd(S3), _mm256_set1_pd(S2));
    __m256d x7 = _mm256_mul_pd(x3, x2);
    __m256d s = _mm256_fmadd_pd(x3, _mm256_set1_pd(S1), xs);
    __m256d sv = _mm256_fmadd_pd(x7, s1, s);

    __m256d x4 = _mm256_mul_pd(x2, x2);
    __m256d c2 = _mm256_fmadd_pd(x2, _mm256_set1_pd(C4), _mm256_set1_pd(C3));
    __m256d c1 = _mm256_fmadd_pd(x2, _mm256_set1_pd(C1), _mm256_set1_pd(C0));
    __m256d x6 = _mm256_mul_pd(x4, x2);
    __m256d c = _mm256_fmadd_pd(x4, _mm256_set1_pd(C2), c1);
    __m256d cv = _mm256_fmadd_pd(x6, c2, c);
    /* n & 2: table 1, whose cosine is the negated one. */
    __m256d neg_c = _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_cvtepi32_epi64(_mm_and_si128(_mm_srli_epi32(n, 1),
                                            _mm_set1_epi32(1))), 63));
    cv = _mm256_xor_pd(cv, neg_c);

    __m128 sf = _mm256_cvtpd_ps(sv), cf = _mm256_cvtpd_ps(cv);
    /* n odd: sine and cosine swap. */
    __m128 odd = _mm_castsi128_ps(_mm_cmpeq_epi32(
        _mm_and_si128(n, _mm_set1_epi32(1)), _mm_set1_epi32(1)));
    __m128 so = _mm_blendv_ps(sf, cf, odd), co = _mm_blendv_ps(cf, sf, odd);
    /* |y| < 2^-12: sin = y, cos = 1. */
    __m128i top = _mm_and_si128(_mm_srli_epi32(_mm_castps_si128(y), 20),
                                _mm_set1_epi32(0x7ff));
    __m128 tiny = _mm_castsi128_ps(_mm_cmplt_epi32(top, _mm_set1_epi32(0x398)));
    *sinp = _mm_blendv_ps(so, y, tiny);
    *cosp = _mm_blendv_ps(co, _mm_set1_ps(1.0f), tiny);
}

__attribute__((target("avx2,fma"))) void
wi_sincosf_avx2(const float *in, float *sinp, float *cosp, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 y = _mm256_loadu_ps(in + j);
        __m256i top = _mm256_and_si256(
            _mm256_srli_epi32(_mm256_castps_si256(y), 20), _mm256_set1_epi32(0x7ff));
        /* abstop12(y) >= abstop12(120.0f) = 0x42f */
        __m256i big = _mm256_cmpgt_epi32(top, _mm256_set1_epi32(0x42e));
        if (!_mm256_testz_si256(big, big)) {
            for (size_t l = 0; l < 8; l++)
                wi_sincosf(in[j + l], &sinp[j + l], &cosp[j + l]);
            continue;
        }
        __m128 s0, c0, s1, c1;
        sincosf4(_mm256_castps256_ps128(y), &s0, &c0);
        sincosf4(_mm256_extractf128_ps(y, 1), &s1, &c1);
        _mm_storeu_ps(sinp + j, s0);
        _mm_storeu_ps(sinp + j + 4, s1);
        _mm_storeu_ps(cosp + j, c0);
        _mm_storeu_ps(cosp + j + 4, c1);
    }
    for (; j < n; j++)
        wi_sincosf(in[j], &sinp[j], &cosp[j]);
}

#else
/* Not x86: no vector version (callers check the CPU first). */
typedef int wi_no_avx2_t;
#endif
