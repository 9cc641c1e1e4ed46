/* The default profile's Box-Muller block (normal_fill_16, torch-rng.md
 * §4.3) with core/math's logf and sincosf; inlined into each instruction
 * set's kernels, where those are core/math built for that set (see
 * core/meson.build: same bits, fma() as an instruction). */
#ifndef WI_KERNELS_NORMAL_DEFAULT_H
#define WI_KERNELS_NORMAL_DEFAULT_H

#include <math.h>
#include <stddef.h>

#include "math/wimath.h"

static inline __attribute__((always_inline)) void
wi_normal_default_blocks(float *data, size_t nblocks, float mean, float std,
                         int fma_end)
{
    for (size_t b = 0; b < nblocks; b++, data += 16) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1.0f - data[j];
            float u2 = data[j + 8];
            float radius = sqrtf(-2.0f * wi_logf(u1));
            /* 2.0f * c10::pi<double> * u2: the product is a double. */
            float theta = (float)(6.283185307179586 * (double)u2);
            float sn, cs;
            wi_sincosf(theta, &sn, &cs);
            if (fma_end) { /* torch >= 2.13: std::fma(radius * cos, std, mean) */
                data[j] = fmaf(radius * cs, std, mean);
                data[j + 8] = fmaf(radius * sn, std, mean);
            } else {
                data[j] = radius * cs * std + mean;
                data[j + 8] = radius * sn * std + mean;
            }
        }
    }
}

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* Blocks per pass of the vector version: 512 pairs, 8 KiB of scratch. */
#define WI_NORMAL_DEFAULT_CHUNK 64

/* The same blocks with core/math's AVX2 logf and sincosf (bit identical
 * to wi_logf and wi_sincosf on every input) over a whole chunk at a time,
 * and the rest of the arithmetic as the same IEEE operations in the same
 * order as wi_normal_default_blocks: 1 - u1; (double)u2 * 2 pi rounded to
 * float; sqrt(-2 * log); radius * cos * std + mean, unfused unless
 * fma_end (one fused multiply-add, as wi_normal_default_blocks).  Only for
 * the kernels built with -mavx2 -mfma (run where the CPU has both). */
static inline __attribute__((always_inline)) void
wi_normal_default_blocks_avx2(float *data, size_t nblocks, float mean,
                              float std, int fma_end)
{
    float lg[8 * WI_NORMAL_DEFAULT_CHUNK], th[8 * WI_NORMAL_DEFAULT_CHUNK];
    float sn[8 * WI_NORMAL_DEFAULT_CHUNK], cs[8 * WI_NORMAL_DEFAULT_CHUNK];
    const __m256d two_pi = _mm256_set1_pd(6.283185307179586);
    const __m256 vstd = _mm256_set1_ps(std), vmean = _mm256_set1_ps(mean);

    while (nblocks > 0) {
        size_t nb = nblocks < WI_NORMAL_DEFAULT_CHUNK ? nblocks
                                                      : WI_NORMAL_DEFAULT_CHUNK;
        for (size_t b = 0; b < nb; b++) {
            __m256 u1 = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                      _mm256_loadu_ps(data + 16 * b));
            __m256 u2 = _mm256_loadu_ps(data + 16 * b + 8);
            __m128 t0 = _mm256_cvtpd_ps(_mm256_mul_pd(
                two_pi, _mm256_cvtps_pd(_mm256_castps256_ps128(u2))));
            __m128 t1 = _mm256_cvtpd_ps(_mm256_mul_pd(
                two_pi, _mm256_cvtps_pd(_mm256_extractf128_ps(u2, 1))));
            _mm256_storeu_ps(lg + 8 * b, u1);
            _mm256_storeu_ps(th + 8 * b,
                             _mm256_insertf128_ps(_mm256_castps128_ps256(t0),
                                                  t1, 1));
        }
        wi_logf_avx2(lg, lg, 8 * nb);
        wi_sincosf_avx2(th, sn, cs, 8 * nb);
        for (size_t b = 0; b < nb; b++) {
            __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(
                _mm256_set1_ps(-2.0f), _mm256_loadu_ps(lg + 8 * b)));
            __m256 c = _mm256_mul_ps(radius, _mm256_loadu_ps(cs + 8 * b));
            __m256 s = _mm256_mul_ps(radius, _mm256_loadu_ps(sn + 8 * b));
            if (fma_end) {
                _mm256_storeu_ps(data + 16 * b, _mm256_fmadd_ps(c, vstd, vmean));
                _mm256_storeu_ps(data + 16 * b + 8,
                                 _mm256_fmadd_ps(s, vstd, vmean));
            } else {
                _mm256_storeu_ps(data + 16 * b,
                                 _mm256_add_ps(_mm256_mul_ps(c, vstd), vmean));
                _mm256_storeu_ps(data + 16 * b + 8,
                                 _mm256_add_ps(_mm256_mul_ps(s, vstd), vmean));
            }
        }
        data += 16 * nb;
        nblocks -= nb;
    }
}
#endif

#endif
