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
wi_normal_default_blocks(float *data, size_t nblocks, float mean, float std)
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
            data[j] = radius * cs * std + mean;
            data[j + 8] = radius * sn * std + mean;
        }
    }
}

#endif
