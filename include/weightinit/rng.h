/* The PyTorch-compatible CPU generator: MT19937 seeded exactly as
 * torch.manual_seed, plus the cached double normal that PyTorch keeps in
 * its generator.  A generator also fixes which PyTorch CPU kernel profile
 * the sampling primitives (init.h) reproduce bit for bit; the result never
 * depends on the CPU that runs weightinit.
 *
 * Draw order is the contract: every primitive documents how many 32-bit
 * draws it consumes, so sharded or parallel runs can skip ahead exactly. */
#ifndef WEIGHTINIT_RNG_H
#define WEIGHTINIT_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/kernels.h>
#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* wi_rng_profile_t (the PyTorch build reproduced) is in weightinit/types.h. */

/* "avx2", "default", "torch2.0-avx2", "torch2.0-default",
 * "torch2.12-avx2", "torch2.12-default", "torch2.13-default" (static
 * string), NULL for a value not in the enum. */
const char *wi_rng_profile_name(wi_rng_profile_t profile);
/* Parses one of those names; returns 0 or WI_EINVAL (err names them). */
int wi_rng_profile_from_name(const char *name, wi_rng_profile_t *profile,
                             wi_error_t *err);

/* A new generator seeded with `seed` (torch semantics: a negative Python
 * seed is passed as its two's complement; only the low 32 bits seed the
 * twister).  NULL only when out of memory.  Free with wi_generator_free. */
wi_generator_t *wi_generator_new(uint64_t seed, wi_rng_profile_t profile);
void wi_generator_free(wi_generator_t *g);

/* torch.manual_seed: reseeds and clears the cached normal. */
void wi_generator_manual_seed(wi_generator_t *g, uint64_t seed);
/* The full 64-bit seed last given (torch.initial_seed). */
uint64_t wi_generator_initial_seed(const wi_generator_t *g);
wi_rng_profile_t wi_generator_profile(const wi_generator_t *g);

/* Advances g exactly as n wi_generator_random32 calls would, by the
 * polynomial jump-ahead: about 0.2 ms (AVX2/AVX-512; 0.4 ms scalar) per
 * set bit of n / 2048, plus a few ms once per process for each bit past
 * 2^47.  Lets a shard or another process start anywhere in the stream.
 * 0 or WI_ENOMEM (g unchanged). */
int wi_generator_skip(wi_generator_t *g, uint64_t n, wi_error_t *err);
/* out[0..n-1] = the next n raw draws (as n wi_generator_random32 calls),
 * computed with the vector kernels.  0, or the WEIGHTINIT_ISA error. */
int wi_generator_fill_random32(wi_generator_t *g, uint32_t *out, size_t n,
                               wi_error_t *err);

/* Threads the sampling primitives (init.h) may use on large tensors
 * drawing from g: 0 = all online cores, -1 = WEIGHTINIT_THREADS if set,
 * else all cores (the default).  Values never depend on it. */
void wi_generator_set_threads(wi_generator_t *g, int threads);

/* wi_kernel_isa is in weightinit/kernels.h (included here). */

/* One raw 32-bit draw. */
uint32_t wi_generator_random32(wi_generator_t *g);
/* Two draws, the first is the high word (PyTorch's random64). */
uint64_t wi_generator_random64(wi_generator_t *g);

#ifdef __cplusplus
}
#endif
#endif
