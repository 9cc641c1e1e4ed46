/* The fills behind uniform_, normal_ (fill path) and trunc_normal_: vector
 * kernels, and on large tensors several threads, each starting at its own
 * position of the stream by jump-ahead.  Every element is computed from
 * its own draws, so the bits never depend on the thread count or on the
 * instruction set.  Not part of the ABI. */
#ifndef WI_RNG_FILL_H
#define WI_RNG_FILL_H

#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/rng.h>

#include "base/internal.h"

typedef enum {
    WI_FILL_UNIFORM, /* U24 * range + from (§3) */
    WI_FILL_NORMAL,  /* the fill path of normal_ (§4.1), n >= 16 */
    WI_FILL_TRUNC    /* uniform, erfinv, * scale, + shift, clamp (§6) */
} wi_fill_kind_t;

typedef struct {
    wi_fill_kind_t kind;
    float from, range;          /* UNIFORM and TRUNC */
    float mean, std;            /* NORMAL */
    float scale, shift, lo, hi; /* TRUNC */
} wi_fill_t;

struct wi_kernels;
/* The instruction set's kernels (WEIGHTINIT_ISA) and the thread count g
 * allows (WEIGHTINIT_THREADS): 0, or the error every fill from g would
 * give. */
WI_INTERNAL int wi_fill_settings(const wi_generator_t *g,
                                 const struct wi_kernels **k, int *threads,
                                 wi_error_t *err);

/* Fills a[0..n-1] from g (advanced exactly as PyTorch's kernel advances
 * its generator).  0, WI_ENOMEM, or the WEIGHTINIT_ISA /
 * WEIGHTINIT_THREADS error; on failure g is unchanged. */
WI_INTERNAL int wi_fill(wi_generator_t *g, float *a, int64_t n,
                        const wi_fill_t *f, wi_error_t *err);

/* wi_fill without NORMAL's ragged end: a[0..n-1] from the next n draws
 * (NORMAL: blocks of 16 from a[0]; the elements after the last whole
 * block are left as raw uniforms).  Any part of a fill is computed by
 * calling it with g at the part's first draw (NORMAL: a multiple of 16
 * into the fill).  Same returns as wi_fill. */
WI_INTERNAL int wi_fill_span(wi_generator_t *g, float *a, int64_t n,
                             const wi_fill_t *f, wi_error_t *err);
/* NORMAL's ragged end: out[0..15] = one block from the next 16 draws. */
WI_INTERNAL int wi_fill_normal_block(wi_generator_t *g, float *out,
                                     const wi_fill_t *f, wi_error_t *err);

#endif
