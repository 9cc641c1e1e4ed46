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
#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which PyTorch build's CPU kernels the primitives reproduce bit for bit
 * (docs/torch-versions.md). */
typedef enum wi_rng_profile {
    /* Debian's torch 1.13 on an x86 CPU with AVX2+FMA (the default). */
    WI_RNG_AVX2 = 0,
    /* Debian's torch 1.13 with ATEN_CPU_CAPABILITY=default. */
    WI_RNG_DEFAULT = 1,
    /* PyPI torch 2.0-2.11 on an AVX2+FMA CPU: WI_RNG_AVX2's arithmetic
     * except trunc_normal_'s erfinv (correctly rounded: MKL's vmsErfInv
     * but for its 1-ulp misses on 120,954 of the 2^31 float inputs) and
     * the float16 NaN payload. */
    WI_RNG_TORCH2_AVX2 = 2,
    /* The same with ATEN_CPU_CAPABILITY=default: WI_RNG_DEFAULT's
     * arithmetic with those two differences. */
    WI_RNG_TORCH2_DEFAULT = 3,
    /* PyPI torch 2.12 and later on an AVX2+FMA CPU (what `pip install
     * torch` gives today; the default of the command line):
     * WI_RNG_TORCH2_AVX2, except that torch.nn.init.trunc_normal_
     * (wi_trunc_normal_) is torch's rejection sampler, whose draw count
     * depends on the values.  MMEngine's trunc_normal_init keeps the
     * correctly rounded erfinv. */
    WI_RNG_TORCH212_AVX2 = 4,
    /* PyPI torch 2.12 with ATEN_CPU_CAPABILITY=default: WI_RNG_TORCH2_DEFAULT
     * with the rejection sampler. */
    WI_RNG_TORCH212_DEFAULT = 5,
    /* PyPI torch 2.13 and later with ATEN_CPU_CAPABILITY=default:
     * WI_RNG_TORCH212_DEFAULT, except that normal_'s fill path ends in one
     * fused multiply-add (std::fma(radius * cos, std, mean)). */
    WI_RNG_TORCH213_DEFAULT = 6
} wi_rng_profile_t;

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

/* The instruction set the sampling kernels run on: "scalar", "avx2" or
 * "avx512" (static string) - the best this CPU has, or the one the
 * environment variable WEIGHTINIT_ISA forces.  NULL with err filled when
 * WEIGHTINIT_ISA is unknown (WI_EINVAL) or not on this CPU
 * (WI_EUNSUPPORTED); every sampling primitive then fails the same way.
 * The RNG profile, not the instruction set, decides the values. */
const char *wi_kernel_isa(wi_error_t *err);

/* One raw 32-bit draw. */
uint32_t wi_generator_random32(wi_generator_t *g);
/* Two draws, the first is the high word (PyTorch's random64). */
uint64_t wi_generator_random64(wi_generator_t *g);

#ifdef __cplusplus
}
#endif
#endif
