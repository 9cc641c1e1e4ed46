/* Float kernels that reproduce PyTorch's CPU kernels bit for bit
 * (torch-rng.md §4.2, §4.3, §5); not part of the ABI. */
#ifndef WI_MATHFUN_H
#define WI_MATHFUN_H

#include <weightinit/types.h>

#include <stdint.h>

#include "base/internal.h"

/* Pommier's avx_mathfun log256_ps / sincos256_ps, one lane, with the FMAs
 * that GCC formed in torch's AVX2 build.  For x > 0 only. */

/* The Box-Muller transform of one block of 16 uniforms in place: lanes j
 * and j + 8 form a pair (normal_fill_16 / normal_fill_16_AVX2). */
WI_INTERNAL void wi_normal_fill16_avx2(float *data, float mean, float std);
/* wi_normal_fill16_avx2 on nblocks consecutive blocks of 16. */
WI_INTERNAL void wi_normal_blocks_avx2(float *data, int64_t nblocks,
                                       float mean, float std);

/* torch's float erfinv under the profile (wi_erfinv_f32, init.h): the
 * scalar calc_erfinv of the capability, or the correctly rounded one. */
WI_INTERNAL float wi_priv_erfinv_f32(float y, wi_rng_profile_t profile);

#endif
