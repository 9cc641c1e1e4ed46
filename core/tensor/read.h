/* Reading a tensor's values in order, a part at a time (read.c): what
 * wi_tensor_read, materialising and the piece writer share.  Not part of
 * the ABI. */
#ifndef WI_TENSOR_READ_H
#define WI_TENSOR_READ_H

#include <stdint.h>

#include <weightinit/tensor.h>

#include "base/internal.h"
#include "tensor/record.h"

typedef struct wi_priv_tensor_cursor {
    const wi_tensor_t *t;
    int view;                 /* t converts its source's float32 values */
    wi_rng_profile_t profile; /* ... rounding as this profile's .to(dtype) */
    const char *mem;          /* the next bytes when in memory (t's, or the source's) */
    const wi_priv_rec_t *rec; /* else the record computing them (NULL: zeros) */
    wi_priv_rec_cursor_t rc;
    int64_t pos;              /* the next element */
} wi_priv_tensor_cursor_t;

/* Positions c at element begin of t (0 <= begin <= t's elements), a
 * computed t's generator with `threads` threads (0: as t's generator
 * allows).  t must outlive c and stay as it is (not materialised) while
 * c reads.  For a normal fill every part but the last must end on a
 * multiple of 16 (tensor/record.h).  0 or WI_ENOMEM with err. */
WI_INTERNAL int wi_priv_tensor_cursor_start(wi_priv_tensor_cursor_t *c,
                                            const wi_tensor_t *t, int64_t begin,
                                            int threads, wi_error_t *err);
/* The next count elements' bytes in *bytes: a pointer into t's storage
 * when t is in memory, else computed into out (count elements of t's
 * dtype).  fbuf holds count floats: a computed view's values before
 * conversion (unused otherwise, may then be NULL).  0, or the WI_E*
 * code with err. */
WI_INTERNAL int wi_priv_tensor_cursor_next(wi_priv_tensor_cursor_t *c, int64_t count,
                                           void *out, float *fbuf,
                                           const void **bytes, wi_error_t *err);

#endif
