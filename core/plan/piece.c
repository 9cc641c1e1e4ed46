/* Computing a range of a tensor's values 256 KB at a time and writing it
 * at a file offset with pwrite (piece.h), for the writers and partition. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "plan/piece.h"
#include "tensor/record.h"
#include "tensor/convert.h"
#include "tensor/tensor_internal.h"

/* A deferred piece: computed from its record (or its view's source's
 * record, then converted), SUB elements at a time. */
static int computed(const wi_tensor_t *t, int64_t begin, int64_t count, void *buf,
                    float *fbuf, wi_priv_emit_fn emit, void *ud, wi_error_t *err,
                    int *io)
{
    wi_rng_profile_t profile = WI_RNG_AVX2;
    const wi_tensor_t *src = wi_priv_tensor_view_source(t, &profile);
    const wi_priv_rec_t *r = wi_priv_tensor_rec(src ? src : t); /* F32, or zeros */
    size_t es = wi_dtype_size(wi_tensor_dtype(t));
    float *vals = src ? fbuf : buf;
    wi_priv_rec_cursor_t c;
    if (r && wi_priv_rec_cursor_start(&c, r, begin, 1, err) < 0)
        return -1;
    if (!r) /* zeros in any dtype (a view's too) */
        memset(buf, 0, (size_t)WI_PIECE_SUB * es);
    for (int64_t done = 0; done < count; done += WI_PIECE_SUB) {
        int64_t cnt = count - done < WI_PIECE_SUB ? count - done : WI_PIECE_SUB;
        if (r && wi_priv_rec_cursor_next(&c, vals, cnt, err) < 0)
            return -1;
        if (r && src &&
            wi_priv_convert_f32(wi_tensor_dtype(t), profile, vals, buf, (size_t)cnt) < 0)
            return wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL,
                                "cannot convert to %s", wi_dtype_name(wi_tensor_dtype(t))),
                   -1;
        if ((*io = emit(ud, (uint64_t)done * es, buf, (size_t)cnt * es)) != 0)
            return -1;
    }
    return 0;
}

int wi_priv_compute_piece(const wi_tensor_t *t, int64_t begin, int64_t count,
                          void *buf, float *fbuf, wi_priv_emit_fn emit, void *ud,
                          wi_error_t *err, int *io)
{
    if (wi_tensor_is_deferred(t))
        return computed(t, begin, count, buf, fbuf, emit, ud, err, io);
    size_t es = wi_dtype_size(wi_tensor_dtype(t));
    const char *data = (const char *)wi_tensor_const_data(t) + (size_t)begin * es;
    for (int64_t done = 0; done < count; done += WI_PIECE_SUB) {
        int64_t cnt = count - done < WI_PIECE_SUB ? count - done : WI_PIECE_SUB;
        if ((*io = emit(ud, (uint64_t)done * es, data + (size_t)done * es,
                        (size_t)cnt * es)) != 0)
            return -1;
    }
    return 0;
}

int wi_priv_pwrite_all(int fd, const void *data, size_t len, uint64_t at)
{
    const char *p = data;
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        ssize_t w = pwrite(fd, p, chunk, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        len -= (size_t)w;
        at += (uint64_t)w;
    }
    return 0;
}
