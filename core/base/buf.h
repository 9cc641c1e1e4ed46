/* A growing byte buffer for text and binary records built piece by piece
 * (Python reprs, MMEngine's key lists, the .pth pickle).  An allocation
 * failure is sticky: later appends do nothing and `oom` stays set, so a
 * builder checks once at the end.  The bytes are always followed by a NUL
 * (not counted in len), so text needs no terminating step.  Zero-
 * initialised is empty.  Internal; not exported. */
#ifndef WI_BUF_H
#define WI_BUF_H

#include <stddef.h>
#include <stdio.h>

#include "base/internal.h"

typedef struct wi_priv_buf {
    char *data; /* owned; NULL while empty */
    size_t len, cap;
    int oom;
    int count_only; /* set by the caller: appends only count len (a
                       first pass that sizes a large text exactly) */
    FILE *sink;     /* set by the caller: appends go to this stream
                       instead (len counts them; a failed write sets
                       oom, errno says why) */
} wi_priv_buf_t;

/* Appends n bytes of data. */
WI_INTERNAL void wi_priv_buf_put(wi_priv_buf_t *b, const void *data, size_t n);
/* Appends a NUL-terminated string. */
WI_INTERNAL void wi_priv_buf_puts(wi_priv_buf_t *b, const char *s);
/* Frees the bytes and empties b. */
WI_INTERNAL void wi_priv_buf_free(wi_priv_buf_t *b);

#endif
