/* The generator's fields and inline draws, shared by core files; not part
 * of the ABI.  Follows torch-rng.md §2. */
#ifndef WI_RNG_INTERNAL_H
#define WI_RNG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/rng.h>

#include "base/internal.h"

#define WI_MT_N 624

struct wi_generator {
    uint32_t state[WI_MT_N];
    int left; /* draws left before the next regeneration, plus one */
    int next; /* index of the next state word to temper */
    uint64_t seed;
    wi_rng_profile_t profile;
    /* PyTorch's double normal slot: the second value of a Box-Muller pair
     * made by the per-element normal_ path, consumed by the next one. */
    int has_next_double_normal;
    double next_double_normal;
    /* Threads for large tensors: -1 = WEIGHTINIT_THREADS or all cores,
     * 0 = all cores.  Never changes the values drawn. */
    int threads;
    /* The snapshot the last recorded write used (rng/snapshot.c); owned
     * by the generator wi_generator_new made, NULL in internal copies'
     * snapshots.  Copies of the struct share it but never free it. */
    struct wi_priv_snap_cache *snaps;
};

/* A shared, immutable copy of a generator (rng/snapshot.c).  Write
 * records point at one and count draws from it, so that a run of
 * recorded writes costs one copy instead of one each. */
typedef struct wi_priv_snap wi_priv_snap_t;

/* A new reference to a snapshot S and *off such that S advanced by *off
 * draws is g as it stands: the one the last call returned when g has
 * only been moved by wi_priv_snap_skip since, else a new copy.  NULL
 * when out of memory. */
WI_INTERNAL wi_priv_snap_t *wi_priv_snap_take(wi_generator_t *g,
                                              uint64_t *off);
/* wi_generator_skip that keeps g's snapshot usable by the next take. */
WI_INTERNAL int wi_priv_snap_skip(wi_generator_t *g, uint64_t n,
                                  wi_error_t *err);
/* The generator a snapshot holds (its snaps NULL): copy it to draw. */
WI_INTERNAL const wi_generator_t *wi_priv_snap_gen(const wi_priv_snap_t *s);
/* Another reference to s; s itself. */
WI_INTERNAL wi_priv_snap_t *wi_priv_snap_ref(wi_priv_snap_t *s);
/* Drops a reference (NULL allowed); the last one frees s. */
WI_INTERNAL void wi_priv_snap_unref(wi_priv_snap_t *s);
/* An empty cache for a new generator; NULL when out of memory. */
WI_INTERNAL struct wi_priv_snap_cache *wi_priv_snap_cache_new(void);
/* The snapshot's digest (plan/digest.c: what decides its draws), made by
 * fn from its generator on first use, then kept: the many records that
 * share a snapshot hash 2.5 KB once.  Thread-safe. */
#define WI_PRIV_SNAP_DIGEST 32
typedef void (*wi_priv_snap_digest_fn)(const wi_generator_t *g,
                                       uint8_t out[WI_PRIV_SNAP_DIGEST]);
WI_INTERNAL const uint8_t *wi_priv_snap_digest(wi_priv_snap_t *s,
                                               wi_priv_snap_digest_fn fn);
/* Frees g's snapshot cache (wi_generator_free). */
WI_INTERNAL void wi_priv_snap_cache_free(struct wi_priv_snap_cache *c);

/* Regenerates all 624 words and rewinds; called from the draw below. */
WI_INTERNAL void wi_mt_twist(wi_generator_t *g);

/* Advances g exactly as n calls of wi_mt_next32 would (rng/mt_jump.c);
 * 0 or WI_ENOMEM (g unchanged). */
WI_INTERNAL int wi_mt_jump(wi_generator_t *g, uint64_t n);

struct wi_kernels;
/* Calls fn on the raw (untempered) state words of the next n draws, in
 * order, in pieces of at most 624: fn(words, offset of the first within
 * the n, count, ctx).  The kernels' twist regenerates blocks. */
typedef void (*wi_mt_seg_fn)(const uint32_t *words, size_t off, size_t cnt,
                             void *ctx);
WI_INTERNAL void wi_mt_bulk(wi_generator_t *g, const struct wi_kernels *k,
                            size_t n, wi_mt_seg_fn fn, void *ctx);

static inline uint32_t wi_mt_next32(wi_generator_t *g)
{
    if (--g->left == 0)
        wi_mt_twist(g);
    uint32_t y = g->state[g->next++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

static inline uint64_t wi_mt_next64(wi_generator_t *g)
{
    uint64_t hi = wi_mt_next32(g);
    return (hi << 32) | wi_mt_next32(g);
}

/* U24: exact float in [0, 1) on a 2^-24 grid. */
static inline float wi_u24(uint32_t d)
{
    return (float)(d & 0xffffffu) * 0x1p-24f;
}

/* U53: exact double in [0, 1) on a 2^-53 grid. */
static inline double wi_u53(uint64_t r)
{
    return (double)(r & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}

#endif
