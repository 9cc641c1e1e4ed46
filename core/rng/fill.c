/* The uniform_, normal_ and trunc_normal_ fills (fill.h): split over threads
 * for large tensors, each part starting at its place in the stream. */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/dispatch.h"
#include "kernels/erfinv_cr.h"
#include "kernels/parallel.h"
#include "kernels/profile.h"
#include "rng/fill.h"
#include "rng/rng_internal.h"

/* A thread gets at least this many elements, so that its jump (about
 * 0.2 ms per set bit of its start / 2^16) stays small against its work:
 * about 0.5 ms or more of it at the measured ns per element. */
static int64_t min_per_thread(const wi_fill_t *f, wi_rng_profile_t profile)
{
    switch (f->kind) {
    case WI_FILL_UNIFORM: return (int64_t)1 << 21; /* ~0.3 ns */
    case WI_FILL_NORMAL:
        return wi_profile_avx2(profile) ? (int64_t)1 << 19 /* ~1 ns */
                                      : (int64_t)1 << 16; /* 2.5-11 ns */
    case WI_FILL_TRUNC: return (int64_t)1 << 16; /* ~50 ns */
    }
    return INT64_MAX;
}

/* Work in pieces that stay in L1/L2 between drawing and transforming. */
#define PIECE 4096
/* Chunk starts are a * 2^16 + 2048 draws with few bits set in a: the
 * jump then costs one polynomial per bit (rng/mt_jump.c). */
#define START_UNIT ((int64_t)1 << 16)
#define START_PAD 2048

typedef struct {
    const wi_fill_t *f;
    const wi_kernels_t *k;
    wi_rng_profile_t profile;
    float *a;
} seg_ctx_t;

static void uniform_seg(const uint32_t *w, size_t off, size_t cnt, void *p)
{
    seg_ctx_t *c = p;
    c->k->uniform(c->a + off, w, cnt, c->f->from, c->f->range,
                  wi_profile_avx2(c->profile));
}

static void u24_seg(const uint32_t *w, size_t off, size_t cnt, void *p)
{
    seg_ctx_t *c = p;
    c->k->u24(c->a + off, w, cnt);
}

static void normal_blocks(const seg_ctx_t *c, float *a, size_t nblocks)
{
    if (wi_profile_avx2(c->profile))
        c->k->normal_avx2(a, nblocks, c->f->mean, c->f->std);
    else
        c->k->normal_default(a, nblocks, c->f->mean, c->f->std,
                             wi_profile_normal_fma(c->profile));
}

/* trunc_normal_ after its uniforms, in place on c->a[0..cnt-1]: the
 * instruction set's calc_erfinv kernel, or under the torch2.0-* profiles
 * the one scalar correctly rounded erfinv (same bits on every path). */
static void trunc_tail(const seg_ctx_t *c, size_t cnt)
{
    const wi_fill_t *f = c->f;
    if (wi_profile_erfinv_cr(c->profile))
        wi_trunc_tail_cr(c->a, cnt, f->scale, f->shift, f->lo, f->hi);
    else
        c->k->trunc(c->a, cnt, f->scale, f->shift, f->lo, f->hi,
                    wi_profile_avx2(c->profile));
}

/* Elements [begin, end) from g, which stands at draw `begin`. */
static void fill_range(wi_generator_t *g, const seg_ctx_t *base,
                       int64_t begin, int64_t end)
{
    seg_ctx_t c = *base;
    c.a = base->a + begin;
    if (c.f->kind == WI_FILL_UNIFORM) {
        wi_mt_bulk(g, c.k, (size_t)(end - begin), uniform_seg, &c);
        return;
    }
    for (int64_t pos = begin; pos < end; pos += PIECE) {
        size_t cnt = (size_t)(end - pos < PIECE ? end - pos : PIECE);
        c.a = base->a + pos;
        if (c.f->kind == WI_FILL_NORMAL) {
            /* pos is a multiple of 16: blocks never straddle pieces. */
            wi_mt_bulk(g, c.k, cnt, u24_seg, &c);
            normal_blocks(&c, c.a, cnt / 16);
        } else {
            wi_mt_bulk(g, c.k, cnt, uniform_seg, &c);
            trunc_tail(&c, cnt);
        }
    }
}

/* The nearest value to x with at most 3 bits set (x >= 1). */
static int64_t few_bits(int64_t x)
{
    int64_t best = 1;
    for (int i = 62; i >= 0; i--) {
        int64_t hi = (int64_t)1 << i;
        if (hi > 2 * x)
            continue;
        for (int j = i; j >= 0; j--)
            for (int k = j; k >= 0; k--) {
                int64_t v = hi | ((int64_t)1 << j) | ((int64_t)1 << k);
                if (llabs(v - x) < llabs(best - x))
                    best = v;
            }
    }
    return best;
}

typedef struct {
    const wi_generator_t *g0;
    wi_generator_t *gens;
    const int64_t *start; /* task t: [start[t], start[t + 1]) */
    seg_ctx_t ctx;
    int *failed;
} job_t;

static void run_task(int t, void *p)
{
    job_t *j = p;
    wi_generator_t *g = &j->gens[t];
    *g = *j->g0;
    if (t > 0 && wi_mt_jump(g, (uint64_t)j->start[t]) < 0) {
        j->failed[t] = 1;
        return;
    }
    fill_range(g, &j->ctx, j->start[t], j->start[t + 1]);
}

/* Splits [0, n) into `tasks` chunks with jump-friendly starts. */
static int split(int64_t n, int tasks, int64_t min_chunk, int64_t *start)
{
    start[0] = 0;
    int used = 1;
    for (int t = 1; t < tasks; t++) {
        int64_t ideal = n / tasks * t;
        int64_t s = few_bits(ideal / START_UNIT) * START_UNIT + START_PAD;
        if (s <= start[used - 1] + min_chunk / 2)
            s = ideal / START_UNIT * START_UNIT + START_PAD;
        if (s <= start[used - 1] || s >= n)
            continue;
        start[used++] = s;
    }
    start[used] = n;
    return used;
}

static int fill_parallel(wi_generator_t *g, const seg_ctx_t *ctx, int64_t n,
                         int tasks, int64_t min_chunk, wi_error_t *err)
{
    int64_t start[WI_MAX_THREADS + 1];
    int failed[WI_MAX_THREADS] = {0};
    tasks = split(n, tasks, min_chunk, start);
    wi_generator_t *gens = malloc((size_t)tasks * sizeof *gens);
    if (!gens)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL,
                            "out of memory for %d generator copies", tasks);
    job_t job = {g, gens, start, *ctx, failed};
    wi_parallel_run(tasks, run_task, &job);
    int rc = 0;
    for (int t = 0; t < tasks; t++)
        if (failed[t])
            rc = wi_error_set(err, WI_ENOMEM, NULL, NULL,
                              "out of memory for the jump-ahead tables");
    if (rc == 0) {
        /* The last chunk ends where a serial run ends. */
        *g = gens[tasks - 1];
    }
    free(gens);
    return rc;
}

int wi_fill_settings(const wi_generator_t *g, const wi_kernels_t **k,
                     int *threads, wi_error_t *err)
{
    int rc = wi_kernels(k, err);
    return rc < 0 ? rc : wi_threads_resolve(g->threads, threads, err);
}

int wi_fill_span(wi_generator_t *g, float *a, int64_t n, const wi_fill_t *f,
                 wi_error_t *err)
{
    const wi_kernels_t *k;
    int threads;
    int rc = wi_fill_settings(g, &k, &threads, err);
    if (rc < 0)
        return rc;
    seg_ctx_t ctx = {f, k, g->profile, a};
    const int64_t min_chunk = min_per_thread(f, g->profile);
    int64_t tasks = n / min_chunk;
    if (tasks > threads)
        tasks = threads;
    if (tasks > 1)
        return fill_parallel(g, &ctx, n, (int)tasks, min_chunk, err);
    fill_range(g, &ctx, 0, n);
    return 0;
}

int wi_fill_normal_block(wi_generator_t *g, float *out, const wi_fill_t *f,
                         wi_error_t *err)
{
    const wi_kernels_t *k;
    int rc = wi_kernels(&k, err);
    if (rc < 0)
        return rc;
    seg_ctx_t ctx = {f, k, g->profile, out};
    wi_mt_bulk(g, k, 16, u24_seg, &ctx);
    normal_blocks(&ctx, out, 1);
    return 0;
}

int wi_fill(wi_generator_t *g, float *a, int64_t n, const wi_fill_t *f,
            wi_error_t *err)
{
    int rc = wi_fill_span(g, a, n, f, err);
    if (rc < 0 || f->kind != WI_FILL_NORMAL || n % 16 == 0)
        return rc;
    /* normal_fill's ragged end: 16 new uniforms over the last 16
     * elements, transformed again as one block. */
    return wi_fill_normal_block(g, a + n - 16, f, err);
}
