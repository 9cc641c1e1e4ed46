/* The write plan's unit: what a deferred tensor's last full write was
 * (a fill with its exact float parameters and the generator as it stood
 * at the write's first draw, or a constant), so that any range of its
 * values can be computed later, in any order, by any thread, and equal
 * what the write would have stored.  Not part of the ABI. */
#ifndef WI_PLAN_RECORD_H
#define WI_PLAN_RECORD_H

#include <stdint.h>

#include <weightinit/error.h>

#include "base/internal.h"
#include "rng/fill.h"
#include "rng/rng_internal.h"

typedef enum { WI_REC_FILL, WI_REC_CONST } wi_rec_kind_t;

/* 88 bytes (96 with malloc's header): a model of millions of small
 * tensors records millions of writes, so the generator is a shared
 * snapshot plus a draw count and the flags are bytes. */
typedef struct wi_priv_rec {
    wi_fill_t fill;     /* FILL */
    float value;        /* CONST */
    float mul;          /* a float32 multiply after the write (torch's
                           tensor * S), when has_mul */
    uint8_t kind;       /* a wi_rec_kind_t */
    uint8_t has_tail;   /* NORMAL with n % 16: the redrawn last block */
    uint8_t has_mul;    /* the values are then multiplied by mul */
    int threads;        /* FILL: the generator's thread setting */
    int64_t n;          /* elements written */
    wi_priv_snap_t *snap; /* FILL: a reference; the write's first draw is */
    uint64_t off;         /* this many draws past it */
    float *tail;        /* NORMAL with n % 16: the redrawn last block's
                           16 values, for elements [n - 16, n); else NULL */
} wi_priv_rec_t;

/* *out = a new record of the fill f of n elements drawing from g, which
 * then advances exactly as the fill itself would advance it (by
 * jump-ahead, drawing nothing but NORMAL's 16-draw ragged end).  0, or
 * the error the fill would give (WI_ENOMEM, the WEIGHTINIT_ISA or
 * WEIGHTINIT_THREADS error), g unchanged then.  Free with
 * wi_priv_rec_free. */
WI_INTERNAL int wi_priv_rec_fill(wi_priv_rec_t **out, wi_generator_t *g,
                                 int64_t n, const wi_fill_t *f,
                                 wi_error_t *err);
/* A new record of n elements set to value; NULL when out of memory. */
WI_INTERNAL wi_priv_rec_t *wi_priv_rec_const(int64_t n, float value,
                                             wi_error_t *err);
/* A new record equal to r (sharing its snapshot); NULL when out of
 * memory. */
WI_INTERNAL wi_priv_rec_t *wi_priv_rec_dup(const wi_priv_rec_t *r,
                                           wi_error_t *err);
/* r's values multiplied by s afterwards (torch's tensor * s in float32):
 * 0, or 1 when r already has a multiply (the caller then computes the
 * values and multiplies them itself: two roundings do not fold). */
WI_INTERNAL int wi_priv_rec_scale(wi_priv_rec_t *r, float s);
/* Frees r and its references; NULL allowed. */
WI_INTERNAL void wi_priv_rec_free(wi_priv_rec_t *r);

/* Computes consecutive parts of a record, the generator carried from
 * one part to the next (one jump for the whole run). */
typedef struct {
    const wi_priv_rec_t *r;
    wi_generator_t g;
    int64_t start, pos; /* the first element, the next one */
} wi_priv_rec_cursor_t;

/* Positions c at element begin (anywhere) with `threads` threads (0: as
 * g0 allows).  For a NORMAL fill every part but the last must end on a
 * multiple of 16: the next part's block would be behind the generator.
 * 0 or WI_ENOMEM. */
WI_INTERNAL int wi_priv_rec_cursor_start(wi_priv_rec_cursor_t *c,
                                         const wi_priv_rec_t *r,
                                         int64_t begin, int threads,
                                         wi_error_t *err);
/* out[0 .. count) = the next count elements; c advances past them. */
WI_INTERNAL int wi_priv_rec_cursor_next(wi_priv_rec_cursor_t *c, float *out,
                                        int64_t count, wi_error_t *err);

/* The draws the write took from the generator. */
WI_INTERNAL uint64_t wi_priv_rec_draws(const wi_priv_rec_t *r);

#endif
