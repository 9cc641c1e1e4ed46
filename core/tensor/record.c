/* Recording a write costs its jump-ahead, not its values; evaluating any
 * range positions a copy of the recorded generator at the range's first
 * draw and runs the same fill kernels the eager write runs, so the bits
 * are the eager bits (torch-rng.md §3, §4.1, §6: every element depends
 * only on its own draws, NORMAL's on its 16-element block). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "tensor/record.h"

static wi_priv_rec_t *rec_new(wi_rec_kind_t kind, int64_t n, wi_error_t *err)
{
    wi_priv_rec_t *r = calloc(1, sizeof *r);
    if (!r) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL,
                     "out of memory recording a write of %lld elements",
                     (long long)n);
        return NULL;
    }
    r->kind = kind;
    r->n = n;
    return r;
}

void wi_priv_rec_free(wi_priv_rec_t *r)
{
    if (!r)
        return;
    wi_priv_snap_unref(r->snap);
    free(r->tail);
    free(r);
}

uint64_t wi_priv_rec_draws(const wi_priv_rec_t *r)
{
    if (r->kind != WI_REC_FILL)
        return 0;
    return (uint64_t)r->n + (r->has_tail ? 16u : 0u);
}

/* The ragged end's draws follow the n uniforms: drawn now, the tail is
 * known and evaluation never needs the position past n.  g is past the
 * n draws; it moves past the tail's 16. */
static int draw_tail(wi_priv_rec_t *r, wi_generator_t *g, wi_error_t *err)
{
    r->tail = malloc(16 * sizeof *r->tail);
    if (!r->tail)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL,
                            "out of memory recording a write of %lld "
                            "elements", (long long)r->n);
    wi_generator_t t = *g;
    int rc = wi_fill_normal_block(&t, r->tail, &r->fill, err);
    return rc < 0 ? rc : wi_priv_snap_skip(g, 16, err);
}

int wi_priv_rec_fill(wi_priv_rec_t **out, wi_generator_t *g, int64_t n,
                     const wi_fill_t *f, wi_error_t *err)
{
    /* The settings the eager fill would refuse are refused now, not when
     * the values are computed. */
    const wi_kernels_t *k;
    int threads;
    int rc = wi_fill_settings(g, &k, &threads, err);
    if (rc < 0)
        return rc;
    wi_priv_rec_t *r = rec_new(WI_REC_FILL, n, err);
    if (!r)
        return WI_ENOMEM;
    r->fill = *f;
    r->threads = g->threads;
    r->snap = wi_priv_snap_take(g, &r->off);
    if (!r->snap) {
        wi_priv_rec_free(r);
        return wi_error_set(err, WI_ENOMEM, NULL, NULL,
                            "out of memory recording a write of %lld "
                            "elements", (long long)n);
    }
    wi_generator_t before = *g; /* g is unchanged on failure */
    rc = wi_priv_snap_skip(g, (uint64_t)n, err);
    r->has_tail = f->kind == WI_FILL_NORMAL && n % 16 != 0;
    if (rc == 0 && r->has_tail)
        rc = draw_tail(r, g, err);
    if (rc < 0) {
        *g = before;
        wi_priv_rec_free(r);
        return rc;
    }
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

wi_priv_rec_t *wi_priv_rec_dup(const wi_priv_rec_t *r, wi_error_t *err)
{
    wi_priv_rec_t *c = rec_new(r->kind, r->n, err);
    if (!c)
        return NULL;
    float *tail = c->tail;
    *c = *r;
    c->tail = tail;
    if (r->tail) {
        c->tail = malloc(16 * sizeof *c->tail);
        if (!c->tail) {
            c->snap = NULL;
            wi_priv_rec_free(c);
            wi_error_set(err, WI_ENOMEM, NULL, NULL,
                         "out of memory copying a write of %lld elements",
                         (long long)r->n);
            return NULL;
        }
        memcpy(c->tail, r->tail, 16 * sizeof *c->tail);
    }
    if (c->snap)
        wi_priv_snap_ref(c->snap);
    return c;
}

int wi_priv_rec_scale(wi_priv_rec_t *r, float s)
{
    if (r->kind == WI_REC_CONST) {
        r->value = r->value * s; /* every element's own multiply */
        return 0;
    }
    if (r->has_mul)
        return 1;
    r->has_mul = 1;
    r->mul = s;
    return 0;
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
    c->g = *wi_priv_snap_gen(r->snap);
    c->g.threads = threads > 0 ? threads : r->threads;
    return wi_generator_skip(&c->g, r->off + (uint64_t)first_draw(r, begin),
                             err);
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
    if (rc == 0 && r->has_mul)
        for (int64_t i = 0; i < count; i++)
            out[i] = out[i] * r->mul;
    c->pos = e;
    return rc;
}
