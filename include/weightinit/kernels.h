/* The sampling kernels' instruction set: which one runs, never what it
 * computes (the RNG profile decides the values, weightinit/rng.h). */
#ifndef WEIGHTINIT_KERNELS_H
#define WEIGHTINIT_KERNELS_H

#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The instruction set the sampling kernels run on: "scalar", "avx2" or
 * "avx512" (static string) - the best this CPU has, or the one the
 * environment variable WEIGHTINIT_ISA forces.  NULL with err filled when
 * WEIGHTINIT_ISA is unknown (WI_EINVAL) or not on this CPU
 * (WI_EUNSUPPORTED); every sampling primitive then fails the same way.
 * The RNG profile, not the instruction set, decides the values. */
const char *wi_kernel_isa(wi_error_t *err);

#ifdef __cplusplus
}
#endif

#endif
