/* Generator snapshots shared by write records.  A model of a million
 * small tensors records two million writes; each used to carry its own
 * 2.5 KB copy of the Mersenne twister.  Consecutive recorded writes only
 * move the generator forward, so they can all point at one copy and
 * count draws from it: the generator remembers the copy it handed out
 * last and where that left it, and hands it out again while nothing but
 * recorded skips moved it (checked by comparing the whole state, so any
 * other use of the generator simply starts a new copy). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>


#include "rng/rng_internal.h"

/* A record evaluates by stepping its snapshot forward to its first
 * draw: below this many draws that is a few microseconds, past it a
 * polynomial jump (about a millisecond).  So a snapshot is shared only
 * while that stays cheap: one 2.5 KB copy per this many draws. */
#define SHARE_DRAWS 1024

struct wi_priv_snap {
    atomic_long refs;
    wi_generator_t g;
    atomic_int has_digest;
    uint8_t digest[WI_PRIV_SNAP_DIGEST];
};

struct wi_priv_snap_cache {
    wi_priv_snap_t *snap; /* the last one handed out, or NULL */
    uint64_t off;         /* draws from it to `at` */
    wi_generator_t at;    /* the generator where the last skip left it */
};

/* The fields that decide every later draw; threads and the snapshot
 * pointer do not. */
static int same_stream(const wi_generator_t *a, const wi_generator_t *b)
{
    return a->left == b->left && a->next == b->next &&
           a->profile == b->profile && a->seed == b->seed &&
           a->has_next_double_normal == b->has_next_double_normal &&
           memcmp(&a->next_double_normal, &b->next_double_normal,
                  sizeof a->next_double_normal) == 0 &&
           memcmp(a->state, b->state, sizeof a->state) == 0;
}

static wi_priv_snap_t *snap_new(const wi_generator_t *g)
{
    wi_priv_snap_t *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    atomic_init(&s->has_digest, 0);
    s->g = *g;
    s->g.snaps = NULL;
    return s;
}

wi_priv_snap_t *wi_priv_snap_take(wi_generator_t *g, uint64_t *off)
{
    /* A generator without a cache (a snapshot's own copy) shares
     * nothing: it could not free what it kept. */
    struct wi_priv_snap_cache *c = g->snaps;
    if (c && c->snap && c->off < SHARE_DRAWS && same_stream(&c->at, g)) {
        *off = c->off;
        return wi_priv_snap_ref(c->snap);
    }
    wi_priv_snap_t *s = snap_new(g);
    if (!s)
        return NULL;
    *off = 0;
    if (c) {
        wi_priv_snap_unref(c->snap);
        c->snap = wi_priv_snap_ref(s);
        c->off = 0;
        c->at = s->g;
    }
    return s;
}

int wi_priv_snap_skip(wi_generator_t *g, uint64_t n, wi_error_t *err)
{
    struct wi_priv_snap_cache *c = g->snaps;
    int tracked = c && c->snap && same_stream(&c->at, g);
    int rc = wi_generator_skip(g, n, err);
    if (rc == 0 && tracked) {
        c->off += n;
        c->at = *g;
    }
    return rc;
}

const wi_generator_t *wi_priv_snap_gen(const wi_priv_snap_t *s)
{
    return &s->g;
}

wi_priv_snap_t *wi_priv_snap_ref(wi_priv_snap_t *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void wi_priv_snap_unref(wi_priv_snap_t *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s);
}

void wi_priv_snap_cache_free(struct wi_priv_snap_cache *c)
{
    if (c)
        wi_priv_snap_unref(c->snap);
    free(c);
}

struct wi_priv_snap_cache *wi_priv_snap_cache_new(void)
{
    return calloc(1, sizeof(struct wi_priv_snap_cache));
}

static pthread_mutex_t digest_lock = PTHREAD_MUTEX_INITIALIZER;

const uint8_t *wi_priv_snap_digest(wi_priv_snap_t *s, wi_priv_snap_digest_fn fn)
{
    if (atomic_load_explicit(&s->has_digest, memory_order_acquire))
        return s->digest;
    uint8_t out[WI_PRIV_SNAP_DIGEST];
    fn(&s->g, out);
    /* Two threads may both compute it: the same bytes, stored once. */
    pthread_mutex_lock(&digest_lock);
    if (!atomic_load_explicit(&s->has_digest, memory_order_relaxed)) {
        memcpy(s->digest, out, sizeof out);
        atomic_store_explicit(&s->has_digest, 1, memory_order_release);
    }
    pthread_mutex_unlock(&digest_lock);
    return s->digest;
}
