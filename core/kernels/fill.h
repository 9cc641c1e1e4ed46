/* The fills behind uniform_, normal_ (fill path) and trunc_normal_: vector
 * kernels, and on large tensors several threads, each starting at its own
 * position of the stream by jump-ahead.  Every element is computed from
 * its own draws, so the bits never depend on the thread count or on the
 * instruction set.  Not part of the ABI. */
#ifndef WI_KERNELS_FILL_H
#define WI_KERNELS_FILL_H

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

/* Fills a[0..n-1] from g (advanced exactly as PyTorch's kernel advances
 * its generator).  0, WI_ENOMEM, or the WEIGHTINIT_ISA /
 * WEIGHTINIT_THREADS error; on failure g is unchanged. */
WI_INTERNAL int wi_fill(wi_generator_t *g, float *a, int64_t n,
                        const wi_fill_t *f, wi_error_t *err);

#endif
