/* The PyTorch-compatible generator: MT19937 seeded as torch.manual_seed,
 * raw 32- and 64-bit draws, and the RNG profile names (torch-rng.md §2). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/profile.h"
#include "rng/rng_internal.h"

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

const char *wi_rng_profile_name(wi_rng_profile_t profile)
{
    switch (profile) {
    case WI_RNG_AVX2: return "avx2";
    case WI_RNG_DEFAULT: return "default";
    case WI_RNG_TORCH2_AVX2: return "torch2.0-avx2";
    case WI_RNG_TORCH2_DEFAULT: return "torch2.0-default";
    case WI_RNG_TORCH212_AVX2: return "torch2.12-avx2";
    case WI_RNG_TORCH212_DEFAULT: return "torch2.12-default";
    case WI_RNG_TORCH213_DEFAULT: return "torch2.13-default";
    }
    return NULL;
}

int wi_rng_profile_from_name(const char *name, wi_rng_profile_t *profile,
                             wi_error_t *err)
{
    static const wi_rng_profile_t all[] = {WI_RNG_AVX2, WI_RNG_DEFAULT,
                                           WI_RNG_TORCH2_AVX2,
                                           WI_RNG_TORCH2_DEFAULT,
                                           WI_RNG_TORCH212_AVX2,
                                           WI_RNG_TORCH212_DEFAULT,
                                           WI_RNG_TORCH213_DEFAULT};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, wi_rng_profile_name(all[i])) == 0) {
            *profile = all[i];
            return 0;
        }
    }
    return wi_error_set(err, WI_EINVAL, NULL, NULL,
                        "unknown RNG profile '%s'; expected 'torch2.12-avx2' "
                        "(PyPI torch 2.12 and later on an AVX2+FMA CPU), "
                        "'torch2.12-default' or 'torch2.13-default' (the "
                        "same with ATEN_CPU_CAPABILITY=default), "
                        "'torch2.0-avx2' or 'torch2.0-default' (PyPI torch "
                        "2.0-2.11), 'avx2' or 'default' (Debian's torch "
                        "1.13)",
                        name ? name : "(null)");
}

void wi_mt_twist(wi_generator_t *g)
{
    uint32_t *st = g->state;
    /* In place and in increasing k, so the wrapped st[k + 397 - 624] and
     * st[0] (for k = 623) are already the new words, as in std::mt19937. */
    for (int k = 0; k < WI_MT_N; k++) {
        uint32_t nxt = st[(k + 1) % WI_MT_N];
        uint32_t mix = (st[k] & MT_UPPER) | (nxt & MT_LOWER);
        st[k] = st[(k + MT_M) % WI_MT_N] ^ (mix >> 1) ^
                ((nxt & 1u) ? MT_MATRIX_A : 0u);
    }
    g->left = WI_MT_N;
    g->next = 0;
}

void wi_generator_manual_seed(wi_generator_t *g, uint64_t seed)
{
    g->seed = seed;
    /* Only the low 32 bits seed the twister (torch's mt19937 takes a
     * uint64 but stores it in a uint32 state word). */
    g->state[0] = (uint32_t)seed;
    for (uint32_t j = 1; j < WI_MT_N; j++) {
        uint32_t p = g->state[j - 1];
        g->state[j] = 1812433253u * (p ^ (p >> 30)) + j;
    }
    g->left = 1;
    g->next = 0;
    g->has_next_double_normal = 0;
    g->next_double_normal = 0.0;
}

wi_generator_t *wi_generator_new(uint64_t seed, wi_rng_profile_t profile)
{
    assert(wi_profile_valid(profile));
    wi_generator_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->snaps = wi_priv_snap_cache_new();
    if (!g->snaps) {
        free(g);
        return NULL;
    }
    g->profile = profile;
    g->threads = -1;
    wi_generator_manual_seed(g, seed);
    return g;
}

void wi_generator_free(wi_generator_t *g)
{
    if (g)
        wi_priv_snap_cache_free(g->snaps);
    free(g);
}

uint64_t wi_generator_initial_seed(const wi_generator_t *g)
{
    return g->seed;
}

wi_rng_profile_t wi_generator_profile(const wi_generator_t *g)
{
    return g->profile;
}

uint32_t wi_generator_random32(wi_generator_t *g) { return wi_mt_next32(g); }

uint64_t wi_generator_random64(wi_generator_t *g) { return wi_mt_next64(g); }
