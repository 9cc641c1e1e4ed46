/* A growing byte buffer with a sticky out-of-memory flag (buf.h), for
 * Python reprs, key lists and the .pth pickle built piece by piece. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void wi_priv_buf_put(wi_priv_buf_t *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->oom = 1;
        return;
    }
    if (b->count_only || b->sink) {
        if (b->sink && n && fwrite(data, 1, n, b->sink) != n)
            b->oom = 1;
        b->len += n;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        /* Doubling keeps appends amortised O(1); 64 spares tiny reallocs. */
        size_t cap = (b->len + n + 1) * 2 + 64;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void wi_priv_buf_puts(wi_priv_buf_t *b, const char *s)
{
    wi_priv_buf_put(b, s, strlen(s));
}

void wi_priv_buf_free(wi_priv_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
