/* Recording a write costs its jump-ahead, not its values; evaluating any
 * range positions a copy of the recorded generator at the range's first
 * draw and runs the same fill kernels the eager write runs, so the bits
 * are the eager bits (torch-rng.md §3, §4.1, §6: every element depends
 * only on its own draws, NORMAL's on its 16-element block). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "kernels/dispatch.h"
#include "kernels/parallel.h"
#include "plan/record.h"

static wi_priv_rec_t *rec_new(wi_rec_kind_t kind, int64_t n, wi_error_t *err)
{
    wi_priv_rec_t *r = calloc(1, sizeof *r);
    if (!r) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL,
                     "out of memory for a write record");
        return NULL;
    }
    r->kind = kind;
    r->n = n;
    return r;
}

uint64_t wi_priv_rec_draws(const wi_priv_rec_t *r)
{
    if (r->kind != WI_REC_FILL)
        return 0;
    return (uint64_t)r->n + (r->has_tail ? 16u : 0u);
}

int wi_priv_rec_fill(wi_priv_rec_t **out, wi_generator_t *g, int64_t n,
                     const wi_fill_t *f, wi_error_t *err)
{
    /* The settings the eager fill would refuse are refused now, not when
     * the values are computed. */
    const wi_kernels_t *k;
    int threads;
    int rc = wi_kernels(&k, err);
    if (rc == 0)
        rc = wi_threads_resolve(g->threads, &threads, err);
    if (rc < 0)
        return rc;
    wi_priv_rec_t *r = rec_new(WI_REC_FILL, n, err);
    if (!r)
        return WI_ENOMEM;
    r->fill = *f;
    r->g0 = *g;
    wi_generator_t after = *g;
    rc = wi_generator_skip(&after, (uint64_t)n, err);
    r->has_tail = f->kind == WI_FILL_NORMAL && n % 16 != 0;
    /* The ragged end's draws follow the n uniforms: drawn now, the tail
     * is known and evaluation never needs the position past n. */
    if (rc == 0 && r->has_tail)
        rc = wi_fill_normal_block(&after, r->tail, f, err);
    if (rc < 0) {
        free(r);
        return rc;
    }
    *g = after;
    *out = r;
    return 0;
}

wi_priv_rec_t *wi_priv_rec_const(int64_t n, float value, wi_error_t *err)
{
    wi_priv_rec_t *r = rec_new(WI_REC_CONST, n, err);
    if (r)
        r->value = value;
    return r;
}

/* NORMAL elements [b, e) within the whole blocks, g at the draw of b's
 * block: an unaligned end goes through one block of scratch, the rest
 * straight into out. */
static int eval_blocks(wi_generator_t *g, const wi_fill_t *f, float *out,
                       int64_t b, int64_t e, wi_error_t *err)
{
    float blk[16];
    int64_t pos = b & ~(int64_t)15;
    int rc = 0;
    if (pos < b) {
        int64_t hi = e < pos + 16 ? e : pos + 16;
        rc = wi_fill_span(g, blk, 16, f, err);
        if (rc == 0)
            memcpy(out, blk + (b - pos), (size_t)(hi - b) * sizeof *out);
        pos += 16;
    }
    int64_t mid_end = e & ~(int64_t)15;
    if (rc == 0 && mid_end > pos) {
        rc = wi_fill_span(g, out + (pos - b), mid_end - pos, f, err);
        pos = mid_end;
    }
    if (rc == 0 && pos < e) {
        rc = wi_fill_span(g, blk, 16, f, err);
        if (rc == 0)
            memcpy(out + (pos - b), blk, (size_t)(e - pos) * sizeof *out);
    }
    return rc;
}

/* Elements [b, e), the generator where the elements before left it. */
static int eval_fill_at(wi_priv_rec_cursor_t *c, float *out, int64_t b,
                        int64_t e, wi_error_t *err)
{
    const wi_priv_rec_t *r = c->r;
    if (r->fill.kind != WI_FILL_NORMAL)
        return wi_fill_span(&c->g, out, e - b, &r->fill, err);
    /* Elements from the last whole block on come from the tail only. */
    int64_t whole = r->has_tail ? r->n & ~(int64_t)15 : r->n;
    int64_t be = e < whole ? e : whole;
    int rc = b < be ? eval_blocks(&c->g, &r->fill, out, b, be, err) : 0;
    if (rc < 0 || !r->has_tail)
        return rc;
    int64_t t0 = r->n - 16, lo = b > t0 ? b : t0;
    for (int64_t i = lo; i < e; i++)
        out[i - b] = r->tail[i - t0];
    return 0;
}

/* The draw element i's values start at. */
static int64_t first_draw(const wi_priv_rec_t *r, int64_t i)
{
    return r->fill.kind == WI_FILL_NORMAL ? i & ~(int64_t)15 : i;
}

int wi_priv_rec_cursor_start(wi_priv_rec_cursor_t *c, const wi_priv_rec_t *r,
                             int64_t begin, int threads, wi_error_t *err)
{
    c->r = r;
    c->pos = c->start = begin;
    if (r->kind != WI_REC_FILL)
        return 0;
    c->g = r->g0;
    if (threads > 0)
        c->g.threads = threads;
    return wi_generator_skip(&c->g, (uint64_t)first_draw(r, begin), err);
}

int wi_priv_rec_cursor_next(wi_priv_rec_cursor_t *c, float *out,
                            int64_t count, wi_error_t *err)
{
    const wi_priv_rec_t *r = c->r;
    int64_t b = c->pos, e = b + count;
    int rc = 0;
    /* A part that ended inside a block left the generator past it. */
    assert(r->kind != WI_REC_FILL || r->fill.kind != WI_FILL_NORMAL ||
           b % 16 == 0 || b == c->start);
    if (r->kind == WI_REC_CONST)
        for (int64_t i = 0; i < count; i++)
            out[i] = r->value;
    else if (count > 0)
        rc = eval_fill_at(c, out, b, e, err);
    c->pos = e;
    return rc;
}

int wi_priv_rec_eval(const wi_priv_rec_t *r, float *out, int64_t begin,
                     int64_t end, int threads, wi_error_t *err)
{
    wi_priv_rec_cursor_t c;
    int rc = wi_priv_rec_cursor_start(&c, r, begin, threads, err);
    return rc < 0 ? rc : wi_priv_rec_cursor_next(&c, out, end - begin, err);
}

/* Integers and float bits as little-endian bytes: the digest is the
 * same on every host (ranks may run on different machines). */
static void put_u64(struct sha256_ctx *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(h, sizeof b, b);
}

static void put_f32(struct sha256_ctx *h, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u64(h, u);
}

/* The generator's position: the twister's words and where it is in
 * them, the seed and profile, the cached double normal. */
static void put_generator(struct sha256_ctx *h, const wi_generator_t *g)
{
    uint8_t words[4 * WI_MT_N];
    for (int i = 0; i < WI_MT_N; i++)
        for (int k = 0; k < 4; k++)
            words[4 * i + k] = (uint8_t)(g->state[i] >> (8 * k));
    sha256_update(h, sizeof words, words);
    put_u64(h, (uint64_t)(int64_t)g->left);
    put_u64(h, (uint64_t)(int64_t)g->next);
    put_u64(h, g->seed);
    put_u64(h, (uint64_t)g->profile);
    put_u64(h, (uint64_t)g->has_next_double_normal);
    uint64_t d;
    memcpy(&d, &g->next_double_normal, sizeof d);
    put_u64(h, g->has_next_double_normal ? d : 0);
}

void wi_priv_rec_digest(const wi_priv_rec_t *r, struct sha256_ctx *h)
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
    put_generator(h, &r->g0);
    put_u64(h, (uint64_t)r->has_tail);
    for (int i = 0; r->has_tail && i < 16; i++)
        put_f32(h, r->tail[i]);
}
