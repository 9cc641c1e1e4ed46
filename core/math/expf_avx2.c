/* wi_expf on arrays, 8 lanes at a time with AVX2 + FMA (expf_avx2.h: the
 * same double-precision operations as expf.c, fma where it writes fma()),
 * so every lane is bit identical to wi_expf.  Blocks holding an input off
 * expf.c's main path (|x| >= 88, inf, NaN) and the tail go through
 * wi_expf. */
#include <stddef.h>

#include "math/wimath.h"

#if defined(__x86_64__) || defined(__i386__)
#include "math/expf_avx2.h"

__attribute__((target("avx2,fma"))) void
wi_expf_avx2(const float *in, float *out, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 x = _mm256_loadu_ps(in + j);
        __m256i bad = wi_expf8_special(x);
        if (!_mm256_testz_si256(bad, bad)) {
            for (size_t l = 0; l < 8; l++)
                out[j + l] = wi_expf(in[j + l]);
            continue;
        }
        _mm256_storeu_ps(out + j, wi_expf8_core(x));
    }
    for (; j < n; j++)
        out[j] = wi_expf(in[j]);
}

#else
/* Not x86: no vector version (callers check the CPU first). */
typedef int wi_no_avx2_t;
#endif
