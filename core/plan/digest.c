/* A tensor's digest from its plan (partition.h): what decides its
 * values, hashed without computing any of them, so that processes about
 * to write one file together can check that they hold the same plan
 * before anything is written (docs/mpi.md). */
#include <string.h>

#include <nettle/sha2.h>

#include <weightinit/partition.h>

#include "tensor/record.h"
#include "rng/rng_internal.h"
#include "tensor/tensor_internal.h"

/* Integers and float bits as little-endian bytes: the digest is the
 * same on every host (ranks may run on different machines). */
static void put_u64(struct sha256_ctx *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(h, sizeof b, b);
}

/* What decides a generator's draws: the twister's words and position,
 * the seed and profile, the cached double normal (not the thread
 * count). */
static void generator_digest(const wi_generator_t *g, uint8_t out[WI_PRIV_SNAP_DIGEST])
{
    struct sha256_ctx h;
    sha256_init(&h);
    uint8_t words[4 * WI_MT_N];
    for (int i = 0; i < WI_MT_N; i++)
        for (int k = 0; k < 4; k++)
            words[4 * i + k] = (uint8_t)(g->state[i] >> (8 * k));
    sha256_update(&h, sizeof words, words);
    put_u64(&h, (uint64_t)(int64_t)g->left);
    put_u64(&h, (uint64_t)(int64_t)g->next);
    put_u64(&h, g->seed);
    put_u64(&h, (uint64_t)g->profile);
    put_u64(&h, (uint64_t)g->has_next_double_normal);
    uint64_t d;
    memcpy(&d, &g->next_double_normal, sizeof d);
    put_u64(&h, g->has_next_double_normal ? d : 0);
    sha256_digest(&h, WI_PRIV_SNAP_DIGEST, out);
}

static void put_f32(struct sha256_ctx *h, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u64(h, u);
}

/* Feeds h what decides r's values, and nothing else (not the thread
 * count the generator carries, not padding): two records that feed the
 * same bytes compute the same values. */
static void rec_digest(const wi_priv_rec_t *r, struct sha256_ctx *h)
{
    put_u64(h, (uint64_t)r->kind);
    put_u64(h, (uint64_t)r->n);
    if (r->kind == WI_REC_CONST) {
        put_f32(h, r->value);
        return;
    }
    const wi_fill_t *f = &r->fill;
    put_u64(h, (uint64_t)f->kind);
    if (f->kind == WI_FILL_NORMAL) {
        put_f32(h, f->mean);
        put_f32(h, f->std);
    } else {
        put_f32(h, f->from);
        put_f32(h, f->range);
    }
    if (f->kind == WI_FILL_TRUNC) {
        put_f32(h, f->scale);
        put_f32(h, f->shift);
        put_f32(h, f->lo);
        put_f32(h, f->hi);
    }
    /* The generator at the first draw: a snapshot's digest (computed
     * once for the many records that share it) and the draws past it. */
    sha256_update(h, WI_PRIV_SNAP_DIGEST, wi_priv_snap_digest(r->snap, generator_digest));
    put_u64(h, r->off);
    put_u64(h, (uint64_t)r->has_tail);
    for (int i = 0; r->has_tail && i < 16; i++)
        put_f32(h, r->tail[i]);
    put_u64(h, (uint64_t)r->has_mul);
    if (r->has_mul)
        put_f32(h, r->mul);
}

/* A tag says which of the three sources follows, so that no bytes of
 * one can be mistaken for another's. */
static void put_values(struct sha256_ctx *h, const wi_tensor_t *t)
{
    wi_rng_profile_t profile;
    const wi_tensor_t *src = wi_priv_tensor_view_source(t, &profile);
    const struct wi_priv_rec *r = wi_priv_tensor_rec(t);
    if (src) { /* converted as read: the source's values, the rounding */
        sha256_update(h, 5, (const uint8_t *)"view");
        put_u64(h, (uint64_t)profile);
        put_u64(h, (uint64_t)wi_tensor_dtype(src));
        put_values(h, src);
    } else if (r) {
        sha256_update(h, 7, (const uint8_t *)"record");
        rec_digest(r, h);
    } else if (wi_tensor_is_deferred(t)) {
        sha256_update(h, 6, (const uint8_t *)"zeros");
    } else {
        sha256_update(h, 7, (const uint8_t *)"memory");
        if (wi_tensor_nbytes(t) > 0)
            sha256_update(h, wi_tensor_nbytes(t), wi_tensor_const_data(t));
    }
}

void wi_tensor_digest(const wi_tensor_t *t, unsigned char out[32])
{
    struct sha256_ctx h;
    sha256_init(&h);
    put_u64(&h, (uint64_t)wi_tensor_dtype(t));
    put_u64(&h, (uint64_t)wi_tensor_ndim(t));
    for (int i = 0; i < wi_tensor_ndim(t); i++)
        put_u64(&h, (uint64_t)wi_tensor_shape(t)[i]);
    put_values(&h, t);
    sha256_digest(&h, 32, out);
}
