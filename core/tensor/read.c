/* Reading a tensor's values in order, a part at a time: from its
 * storage, or computed from its record (a deferred view: its source's
 * values, converted).  The one way values leave a tensor: wi_tensor_read,
 * materialising and the piece writer (plan/piece.c) all use it. */
#include <stdlib.h>
#include <string.h>

#include <weightinit/tensor.h>

#include "tensor/convert.h"
#include "tensor/read.h"
#include "tensor/tensor_internal.h"

int wi_priv_tensor_cursor_start(wi_priv_tensor_cursor_t *c, const wi_tensor_t *t,
                                int64_t begin, int threads, wi_error_t *err)
{
    wi_rng_profile_t profile = WI_RNG_AVX2;
    const wi_tensor_t *src = wi_priv_tensor_view_source(t, &profile);
    const wi_tensor_t *v = src ? src : t;
    *c = (wi_priv_tensor_cursor_t){.t = t, .view = src != NULL, .profile = profile,
                                   .pos = begin};
    if (!wi_tensor_is_deferred(v)) /* t's own storage, or a view's source's */
        c->mem = (const char *)wi_tensor_const_data(v) +
                 (size_t)begin * wi_dtype_size(wi_tensor_dtype(v));
    else if ((c->rec = wi_priv_tensor_rec(v)) != NULL)
        return wi_priv_rec_cursor_start(&c->rc, c->rec, begin, threads, err);
    return 0;
}

/* The next count float32 values of a view's source: in its storage,
 * computed into fbuf, or zeros (NULL). */
static int source_values(wi_priv_tensor_cursor_t *c, int64_t count, float *fbuf,
                         const float **vals, wi_error_t *err)
{
    *vals = NULL;
    if (c->mem) {
        *vals = (const float *)c->mem;
        c->mem += (size_t)count * sizeof(float);
    } else if (c->rec) {
        int rc = wi_priv_rec_cursor_next(&c->rc, fbuf, count, err);
        if (rc < 0)
            return rc;
        *vals = fbuf;
    }
    return 0;
}

int wi_priv_tensor_cursor_next(wi_priv_tensor_cursor_t *c, int64_t count, void *out,
                               float *fbuf, const void **bytes, wi_error_t *err)
{
    wi_dtype_t dtype = wi_tensor_dtype(c->t);
    size_t es = wi_dtype_size(dtype);
    c->pos += count;
    *bytes = out;
    if (!c->view && c->mem) { /* in memory: no copy */
        *bytes = c->mem;
        c->mem += (size_t)count * es;
        return 0;
    }
    if (!c->view)
        return c->rec ? wi_priv_rec_cursor_next(&c->rc, (float *)out, count, err)
                      : (memset(out, 0, (size_t)count * es), 0);
    const float *vals;
    int rc = source_values(c, count, fbuf, &vals, err);
    if (rc < 0)
        return rc;
    if (!vals) /* zeros in any dtype */
        return memset(out, 0, (size_t)count * es), 0;
    if (wi_priv_convert_f32(dtype, c->profile, vals, out, (size_t)count) < 0)
        return wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL, "cannot convert to %s",
                            wi_dtype_name(dtype));
    return 0;
}

int wi_tensor_read(const wi_tensor_t *t, int64_t begin, int64_t count,
                   void *out, wi_error_t *err)
{
    return wi_priv_tensor_read(t, begin, count, out, 0, err);
}

int wi_priv_tensor_read(const wi_tensor_t *t, int64_t begin, int64_t count,
                        void *out, int threads, wi_error_t *err)
{
    if (begin < 0 || count < 0 || begin > wi_tensor_numel(t) - count)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "wi_tensor_read: elements [%lld, %lld + %lld) "
                            "are not within the tensor's %lld",
                            (long long)begin, (long long)begin,
                            (long long)count, (long long)wi_tensor_numel(t));
    wi_priv_tensor_cursor_t c;
    int rc = wi_priv_tensor_cursor_start(&c, t, begin, threads, err);
    float *f = NULL;
    if (rc == 0 && c.view && c.rec &&
        !(f = malloc((size_t)(count ? count : 1) * sizeof *f)))
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL,
                          "out of memory converting %lld elements", (long long)count);
    const void *bytes = NULL;
    if (rc == 0)
        rc = wi_priv_tensor_cursor_next(&c, count, out, f, &bytes, err);
    if (rc == 0 && bytes != out)
        memcpy(out, bytes, (size_t)count * wi_dtype_size(wi_tensor_dtype(t)));
    free(f);
    return rc;
}
