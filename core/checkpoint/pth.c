/* torch.save's two formats read into a state dict: the zip archive
 * (pth_zip.c) and the legacy stream (pth_legacy.c), their storages shared
 * as torch.load does; here the tensors are built from the storages. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/pickle.h"
#include "checkpoint/pth_internal.h"
#include "tensor/tensor_internal.h"

#define SUPPORTED "F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL"

/* A storage that several tensors of the dict are views of, kept as one
 * buffer that they all wrap (as torch.load gives them one storage), so
 * that a writer stores it once: freed with the last of them. */
struct wi_priv_pth_block {
    atomic_size_t refs;
    uint8_t *bytes;
};

int wi_priv_pth_fail(struct wi_priv_pth *p, int code, const char *key,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wi_error_setv(p->err, code, p->source, key, fmt, ap);
    va_end(ap);
    return code;
}

/* Copies a strided view into dst, row-major.  The view was checked to lie
 * inside the storage, so every index below is in bounds. */
static void strided_copy(uint8_t *dst, const uint8_t *src, size_t esize,
                         int nd, const int64_t *size, const int64_t *stride,
                         int64_t offset)
{
    if (nd == 0) {
        memcpy(dst, src + (size_t)offset * esize, esize);
        return;
    }
    int64_t idx[WI_MAX_DIMS] = {0};
    int64_t inner = size[nd - 1], istride = stride[nd - 1], base = offset;
    for (;;) {
        if (istride == 1) {
            memcpy(dst, src + (size_t)base * esize, (size_t)inner * esize);
            dst += (size_t)inner * esize;
        } else {
            for (int64_t j = 0; j < inner; j++, dst += esize)
                memcpy(dst, src + (size_t)(base + j * istride) * esize,
                       esize);
        }
        /* base only ever names an element of the view: a size-1
         * dimension may carry any stride, so never step past its end. */
        int d = nd - 2;
        for (; d >= 0; d--) {
            if (++idx[d] < size[d]) {
                base += stride[d];
                break;
            }
            base -= stride[d] * (size[d] - 1);
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

static int contiguous(const wi_priv_pval_t *v)
{
    int64_t expect = 1;
    for (int i = v->u.tensor.ndim - 1; i >= 0; i--) {
        if (v->u.tensor.size[i] != 1 && v->u.tensor.stride[i] != expect)
            return 0;
        expect *= v->u.tensor.size[i];
    }
    return 1;
}

static void release_free(void *data, void *ud)
{
    (void)ud;
    free(data);
}

static void block_release(void *data, void *ud)
{
    struct wi_priv_pth_block *b = ud;
    (void)data;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b->bytes);
        free(b);
    }
}

/* The storage's shared buffer (made on first use: the reader's copy
 * handed over, or the file's bytes copied; in host byte order). */
static struct wi_priv_pth_block *block_of(struct wi_priv_pth *p,
                                          struct wi_priv_pth_sbytes *sb,
                                          size_t esize)
{
    if (sb->block)
        return sb->block;
    struct wi_priv_pth_block *b = malloc(sizeof *b);
    uint8_t *bytes = !b ? NULL : sb->owned ? sb->owned : malloc(sb->nbytes ? sb->nbytes : 1);
    if (!bytes) {
        free(b);
        return NULL;
    }
    if (bytes != sb->owned)
        memcpy(bytes, sb->data, sb->nbytes);
    if (p->swap)
        wi_priv_swap_elements(bytes, sb->nbytes, esize);
    atomic_init(&b->refs, 1);
    b->bytes = bytes;
    sb->owned = NULL;
    sb->data = bytes;
    return sb->block = b;
}

/* A contiguous view of a storage other tensors of the dict use: wraps
 * the storage's shared buffer, marked as that storage. */
static wi_tensor_t *share(struct wi_priv_pth *p, const wi_priv_pval_t *v,
                          struct wi_priv_pth_sbytes *sb)
{
    const wi_priv_storage_t *st = v->u.tensor.storage;
    struct wi_priv_pth_block *b = block_of(p, sb, st->esize);
    if (!b) {
        wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    uint64_t off = (uint64_t)v->u.tensor.offset * st->esize;
    atomic_fetch_add(&b->refs, 1);
    wi_tensor_t *t = wi_tensor_wrap((wi_dtype_t)st->dtype, v->u.tensor.ndim,
                                    v->u.tensor.size, b->bytes + off,
                                    block_release, b, p->err);
    if (!t) {
        block_release(NULL, b);
    } else if (wi_priv_tensor_set_storage(t, b, off, sb->nbytes) < 0) {
        wi_tensor_free(t); /* releases the block's reference */
        wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    return t;
}

/* Hands over the storage buffer when this tensor is all of it and its
 * only user, else copies. */
static wi_tensor_t *fill(struct wi_priv_pth *p, const wi_priv_pval_t *v,
                         struct wi_priv_pth_sbytes *sb, uint64_t nbytes,
                         const char *key)
{
    const wi_priv_storage_t *st = v->u.tensor.storage;
    wi_tensor_t *t;
    if (nbytes && contiguous(v) && (sb->block || sb->users > 1)) {
        t = share(p, v, sb);
    } else if (sb->owned && sb->users == 1 && v->u.tensor.offset == 0 &&
               nbytes == sb->nbytes && contiguous(v)) {
        t = wi_tensor_wrap((wi_dtype_t)st->dtype, v->u.tensor.ndim,
                           v->u.tensor.size, sb->owned, release_free, NULL,
                           p->err);
        if (t)
            sb->owned = NULL, sb->data = NULL;
    } else {
        t = wi_tensor_new((wi_dtype_t)st->dtype, v->u.tensor.ndim,
                          v->u.tensor.size, p->err);
        if (t && nbytes)
            strided_copy(wi_tensor_data(t), sb->data, st->esize,
                         v->u.tensor.ndim, v->u.tensor.size,
                         v->u.tensor.stride, v->u.tensor.offset);
    }
    if (!t) {
        if (p->err) {
            snprintf(p->err->source, sizeof p->err->source, "%s", p->source);
            snprintf(p->err->path, sizeof p->err->path, "%s", key);
        }
        return NULL;
    }
    /* A shared buffer is in host order already. */
    if (p->swap && !sb->block)
        wi_priv_swap_elements(wi_tensor_data(t), (size_t)nbytes, st->esize);
    if (--sb->users == 0 && (sb->owned || sb->block)) {
        free(sb->owned);
        block_release(NULL, sb->block);
        sb->owned = NULL, sb->data = NULL, sb->block = NULL;
    }
    return t;
}

int wi_priv_pth_refuse_opaque(struct wi_priv_pth *p, const char *key,
                              const wi_priv_pval_t *v)
{
    const char *m = v->u.global.module, *n = v->u.global.name;
    if (strncmp(m, "torch", 5) == 0 && (m[5] == '\0' || m[5] == '.'))
        return wi_priv_pth_fail(p, WI_EUNSUPPORTED, key,
                                "value is built by pickle global '%s %s', "
                                "which weightinit does not support (it reads "
                                "tensors saved by _rebuild_tensor_v2 with the "
                                "classic dtypes)",
                                m, n);
    return wi_priv_pth_fail(p, WI_EUNSUPPORTED, key,
                            "value is built by pickle global '%s %s', which is "
                            "not allowed (weightinit never imports or calls "
                            "pickle globals)",
                            m, n);
}

wi_tensor_t *wi_priv_pth_materialize(struct wi_priv_pth *p, const char *key,
                                     const wi_priv_pval_t *v,
                                     wi_priv_pth_load_fn load)
{
    if (v->kind == WI_PK_OPAQUE) {
        wi_priv_pth_refuse_opaque(p, key, v);
        return NULL;
    }
    if (v->u.tensor.invalid) {
        wi_priv_pth_fail(p, WI_EFORMAT, key, "invalid tensor: %s",
                         v->u.tensor.invalid);
        return NULL;
    }
    const wi_priv_storage_t *st = v->u.tensor.storage;
    if (st->dtype < 0) {
        wi_priv_pth_fail(p, WI_EUNSUPPORTED, key,
                         "tensor has storage type torch.%s, which weightinit "
                         "does not support (supported: " SUPPORTED ")",
                         st->type_name);
        return NULL;
    }
    if (v->u.tensor.ndim > WI_MAX_DIMS) {
        wi_priv_pth_fail(p, WI_EUNSUPPORTED, key,
                         "tensor has %d dimensions; weightinit supports "
                         "at most %d",
                         v->u.tensor.ndim, WI_MAX_DIMS);
        return NULL;
    }
    int64_t numel = 1;
    for (int i = 0; i < v->u.tensor.ndim; i++)
        numel *= v->u.tensor.size[i]; /* checked when the tensor was built */
    uint64_t nbytes;
    if (__builtin_mul_overflow((uint64_t)numel, (uint64_t)st->esize,
                               &nbytes) ||
        nbytes > p->cap - p->out) {
        wi_priv_pth_fail(p, WI_EFORMAT, key,
                         "tensors would need more than %llu MiB for a %zu-byte "
                         "file (views repeating storage elements?); refusing",
                         (unsigned long long)(p->cap >> 20), p->blob->len);
        return NULL;
    }
    p->out += nbytes;
    struct wi_priv_pth_sbytes *sb = &p->sb[st->index];
    if (numel > 0 && !sb->data && load(p, st, key) < 0)
        return NULL;
    return fill(p, v, sb, nbytes, key);
}

int wi_priv_pth_alloc_sbytes(struct wi_priv_pth *p)
{
    size_t ns = wi_priv_pickle_nstorages(p->vm);
    p->sb = calloc(ns ? ns : 1, sizeof *p->sb);
    return p->sb ? 0 : wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
}

void wi_priv_pth_free(struct wi_priv_pth *p)
{
    size_t ns = p->vm ? wi_priv_pickle_nstorages(p->vm) : 0;
    for (size_t i = 0; p->sb && i < ns; i++) {
        free(p->sb[i].owned);
        block_release(NULL, p->sb[i].block);
    }
    free(p->sb);
    wi_priv_pickle_free(p->vm);
    if (p->za)
        zip_discard(p->za);
    free(p->prefix);
}

int wi_priv_pth_storage_nbytes(struct wi_priv_pth *p,
                               const wi_priv_storage_t *st, uint64_t *nbytes)
{
    if (__builtin_mul_overflow((uint64_t)st->numel, (uint64_t)st->esize,
                               nbytes) ||
        *nbytes > SIZE_MAX)
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "storage '%s' of %lld elements is too large",
                                st->key, (long long)st->numel);
    return 0;
}
