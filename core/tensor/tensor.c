/* wi_tensor_t: dtypes, contiguous tensors that own, wrap or share storage,
 * deferred values read from their write records, and the write counter. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/tensor.h>

#include "tensor/record.h"
#include "tensor/convert.h"
#include "tensor/tensor_internal.h"

/* What few tensors need, allocated only for them: a tensor is 128 bytes
 * with its malloc header, for a million-parameter model of small
 * tensors to cost little more than its names. */
struct extra {
    void (*release)(void *data, void *ud);
    void *release_data;
    /* A deferred view: view_of's values converted to the tensor's dtype
     * (as torch's .to(dtype) rounds under view_profile), computed as
     * they are read. */
    const wi_tensor_t *view_of;
    wi_rng_profile_t view_profile;
    /* Part of a storage other tensors share (views a .pth reader kept
     * over one storage): its id, this tensor's first byte in it, its
     * size.  NULL: the tensor is its own storage. */
    const void *storage;
    uint64_t storage_offset, storage_nbytes;
};

struct wi_tensor {
    uint8_t dtype; /* a wi_dtype_t */
    uint8_t ndim;
    uint8_t owns_data;
    /* Deferred: no storage yet; the values are rec's (NULL: zeros).  Once
     * data has been handed out the tensor stays in memory, so a pointer
     * a caller holds never dangles. */
    uint8_t deferred;
    int64_t shape[WI_MAX_DIMS];
    int64_t numel;
    uint64_t version;
    void *data;
    wi_priv_rec_t *rec;
    uint64_t skipped_draws; /* of records replaced before being computed */
    struct extra *x;        /* NULL: no release, view or shared storage */
};

static const struct extra no_extra;

/* t's extra fields, read-only (zeros when it has none). */
static const struct extra *ex(const wi_tensor_t *t)
{
    return t->x ? t->x : &no_extra;
}

/* t's extra fields to set, allocated on first use; NULL when out of
 * memory. */
static struct extra *ex_mut(wi_tensor_t *t)
{
    if (!t->x)
        t->x = calloc(1, sizeof *t->x);
    return t->x;
}

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [WI_DTYPE_F32] = {"F32", 4},  [WI_DTYPE_F64] = {"F64", 8},
    [WI_DTYPE_F16] = {"F16", 2},  [WI_DTYPE_BF16] = {"BF16", 2},
    [WI_DTYPE_I64] = {"I64", 8},  [WI_DTYPE_I32] = {"I32", 4},
    [WI_DTYPE_I16] = {"I16", 2},  [WI_DTYPE_I8] = {"I8", 1},
    [WI_DTYPE_U8] = {"U8", 1},    [WI_DTYPE_BOOL] = {"BOOL", 1},
};
#define N_DTYPES (sizeof dtype_info / sizeof dtype_info[0])

size_t wi_dtype_size(wi_dtype_t dtype)
{
    return (unsigned)dtype < N_DTYPES ? dtype_info[dtype].size : 0;
}

const char *wi_dtype_name(wi_dtype_t dtype)
{
    return (unsigned)dtype < N_DTYPES ? dtype_info[dtype].name : NULL;
}

int wi_dtype_from_name(const char *name, wi_dtype_t *dtype)
{
    for (size_t i = 0; name && i < N_DTYPES; i++) {
        if (strcmp(dtype_info[i].name, name) == 0) {
            *dtype = (wi_dtype_t)i;
            return 0;
        }
    }
    return WI_ENOTFOUND;
}

/* Checks the shape and computes numel and byte size without overflow. */
static int check_shape(wi_dtype_t dtype, int ndim, const int64_t *shape,
                       int64_t *numel, uint64_t *nbytes, wi_error_t *err)
{
    size_t esize = wi_dtype_size(dtype);
    if (esize == 0)
        return wi_error_set(err, WI_EINVAL, NULL, NULL, "unknown dtype %d",
                            (int)dtype);
    if (ndim < 0 || ndim > WI_MAX_DIMS || (ndim > 0 && !shape))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "a tensor has 0 to %d dimensions, got %d",
                            WI_MAX_DIMS, ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return wi_error_set(err, WI_EINVAL, NULL, NULL,
                                "tensor size %lld in dimension %d is negative",
                                (long long)shape[i], i);
        if (shape[i] != 0 && n > INT64_MAX / shape[i])
            return wi_error_set(err, WI_EINVAL, NULL, NULL,
                                "tensor has more than 2^63 elements");
        n *= shape[i];
    }
    if ((uint64_t)n > (uint64_t)INT64_MAX / esize ||
        (uint64_t)n * esize > (uint64_t)SIZE_MAX)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "tensor of %lld elements is too large (more "
                            "than 2^63 bytes at %zu bytes each)",
                            (long long)n, esize);
    *numel = n;
    *nbytes = (uint64_t)n * esize;
    return 0;
}

static wi_tensor_t *tensor_alloc(wi_dtype_t dtype, int ndim,
                                 const int64_t *shape, int64_t numel)
{
    wi_tensor_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
    return t;
}

/* WEIGHTINIT_DEFER=0 computes every write when it is made (the eager
 * path, to compare the two). */
static int defer_enabled(void)
{
    static int enabled = -1;
    if (enabled < 0) {
        const char *e = getenv("WEIGHTINIT_DEFER");
        enabled = !(e && strcmp(e, "0") == 0);
    }
    return enabled;
}

/* Zeroed storage for t's bytes: calloc, so that large tensors get
 * lazily zeroed pages from the kernel.  0 or WI_ENOMEM with err. */
static int new_storage(const wi_tensor_t *t, void **data, wi_error_t *err)
{
    uint64_t nbytes = wi_tensor_nbytes(t);
    *data = calloc(nbytes ? (size_t)nbytes : 1, 1);
    return *data ? 0
                 : wi_error_set(err, WI_ENOMEM, NULL, NULL,
                                "cannot allocate a tensor of %llu bytes",
                                (unsigned long long)nbytes);
}

static void adopt_storage(wi_tensor_t *t, void *data)
{
    t->data = data;
    t->owns_data = 1;
    t->deferred = 0;
}

static int alloc_storage(wi_tensor_t *t, wi_error_t *err)
{
    void *data;
    int rc = new_storage(t, &data, err);
    if (rc == 0)
        adopt_storage(t, data);
    return rc;
}

wi_tensor_t *wi_tensor_new(wi_dtype_t dtype, int ndim, const int64_t *shape,
                           wi_error_t *err)
{
    int64_t numel;
    uint64_t nbytes;
    if (check_shape(dtype, ndim, shape, &numel, &nbytes, err) < 0)
        return NULL;
    wi_tensor_t *t = tensor_alloc(dtype, ndim, shape, numel);
    if (!t) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    t->deferred = 1;
    if (!defer_enabled() && alloc_storage(t, err) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

wi_tensor_t *wi_tensor_wrap(wi_dtype_t dtype, int ndim, const int64_t *shape,
                            void *data, void (*release)(void *, void *),
                            void *release_data, wi_error_t *err)
{
    int64_t numel;
    uint64_t nbytes;
    if (check_shape(dtype, ndim, shape, &numel, &nbytes, err) < 0)
        return NULL;
    wi_tensor_t *t = tensor_alloc(dtype, ndim, shape, numel);
    if (!t) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    t->data = data;
    if (release) {
        struct extra *x = ex_mut(t);
        if (!x) {
            free(t);
            wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
            return NULL;
        }
        x->release = release;
        x->release_data = release_data;
    }
    return t;
}

void wi_tensor_free(wi_tensor_t *t)
{
    if (!t)
        return;
    if (t->owns_data)
        free(t->data);
    else if (ex(t)->release)
        t->x->release(t->data, t->x->release_data);
    wi_priv_rec_free(t->rec);
    free(t->x);
    free(t);
}

wi_dtype_t wi_tensor_dtype(const wi_tensor_t *t) { return (wi_dtype_t)t->dtype; }
int wi_tensor_ndim(const wi_tensor_t *t) { return t->ndim; }
const int64_t *wi_tensor_shape(const wi_tensor_t *t) { return t->shape; }
int64_t wi_tensor_numel(const wi_tensor_t *t) { return t->numel; }
int wi_tensor_materialize(wi_tensor_t *t, wi_error_t *err)
{
    if (!t->deferred)
        return 0;
    void *data;
    int rc = new_storage(t, &data, err);
    /* Computed while t is still deferred; zeros are calloc's already. */
    if (rc == 0 && (t->rec || ex(t)->view_of))
        rc = wi_priv_tensor_read(t, 0, t->numel, data, 0, err);
    if (rc < 0) {
        free(data);
        return rc;
    }
    adopt_storage(t, data);
    wi_priv_rec_free(t->rec);
    t->rec = NULL;
    return 0;
}

int wi_tensor_is_deferred(const wi_tensor_t *t) { return t->deferred; }

void *wi_tensor_data(wi_tensor_t *t)
{
    return wi_tensor_materialize(t, NULL) < 0 ? NULL : t->data;
}

const void *wi_tensor_const_data(const wi_tensor_t *t)
{
    /* Materialising changes no value: the tensor is logically const. */
    return wi_tensor_data((wi_tensor_t *)t);
}

void wi_priv_tensor_set_rec(wi_tensor_t *t, wi_priv_rec_t *rec)
{
    if (t->rec)
        t->skipped_draws += wi_priv_rec_draws(t->rec);
    wi_priv_rec_free(t->rec);
    t->rec = rec;
}

void wi_tensor_write_info(const wi_tensor_t *t, wi_tensor_write_info_t *info)
{
    static const char *const fills[] = {
        [WI_FILL_UNIFORM] = "uniform", [WI_FILL_NORMAL] = "normal",
        [WI_FILL_TRUNC] = "trunc_normal"};
    memset(info, 0, sizeof *info);
    info->skipped_draws = t->skipped_draws;
    const wi_priv_rec_t *r = t->deferred ? t->rec : NULL;
    if (!r) {
        info->kind = t->deferred ? "zeros" : "memory";
        return;
    }
    info->draws = wi_priv_rec_draws(r);
    if (r->kind == WI_REC_CONST) {
        info->kind = "constant";
        info->p[0] = r->value;
        return;
    }
    const wi_fill_t *f = &r->fill;
    info->kind = fills[f->kind];
    double times = r->has_mul ? r->mul : 1.0;
    if (f->kind == WI_FILL_NORMAL) {
        info->p[0] = f->mean;
        info->p[1] = f->std;
        info->p[2] = times;
        return;
    }
    info->p[0] = f->from;
    info->p[1] = f->range;
    info->p[2] = times; /* overwritten below for TRUNC (never scaled) */
    if (f->kind == WI_FILL_TRUNC) {
        info->p[2] = f->scale;
        info->p[3] = f->shift;
        info->p[4] = f->lo;
        info->p[5] = f->hi;
    }
}

int wi_priv_tensor_records(const wi_tensor_t *t)
{
    return t->deferred && t->dtype == WI_DTYPE_F32;
}

const wi_priv_rec_t *wi_priv_tensor_rec(const wi_tensor_t *t)
{
    return t->deferred ? t->rec : NULL;
}

int wi_priv_tensor_scale(wi_tensor_t *t, float s, wi_error_t *err)
{
    if (t->dtype != WI_DTYPE_F32)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "scaling a tensor: expected F32, found %s",
                            wi_dtype_name(t->dtype));
    /* A recorded write takes the multiply along: nothing is computed. */
    if (t->deferred && t->rec && wi_priv_rec_scale(t->rec, s) == 0)
        return 0;
    int rc = wi_tensor_materialize(t, err);
    if (rc < 0)
        return rc;
    float *d = t->data;
    for (int64_t i = 0; i < t->numel; i++)
        d[i] = d[i] * s;
    return 0;
}

void *wi_priv_tensor_overwrite_data(wi_tensor_t *t, wi_error_t *err)
{
    if (t->deferred) {
        if (alloc_storage(t, err) < 0)
            return NULL;
        wi_priv_tensor_set_rec(t, NULL);
    }
    return t->data;
}
uint64_t wi_tensor_version(const wi_tensor_t *t) { return t->version; }
static _Atomic uint64_t all_writes;

void wi_tensor_bump_version(wi_tensor_t *t)
{
    t->version++;
    atomic_fetch_add_explicit(&all_writes, 1, memory_order_relaxed);
}

uint64_t wi_priv_tensor_writes(void)
{
    return atomic_load_explicit(&all_writes, memory_order_relaxed);
}

uint64_t wi_tensor_nbytes(const wi_tensor_t *t)
{
    return (uint64_t)t->numel * wi_dtype_size(t->dtype);
}

int wi_tensor_same_shape(const wi_tensor_t *a, const wi_tensor_t *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

char *wi_shape_format(int ndim, const int64_t *shape, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld",
                                 i ? ", " : "", (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

wi_tensor_t *wi_priv_tensor_clone(const wi_tensor_t *t, wi_error_t *err)
{
    wi_tensor_t *c = wi_tensor_new(t->dtype, t->ndim, t->shape, err);
    if (!c || !t->deferred || !c->deferred) {
        if (c && wi_tensor_copy_(c, t, err) < 0) {
            wi_tensor_free(c);
            return NULL;
        }
        return c;
    }
    if (t->rec && !(c->rec = wi_priv_rec_dup(t->rec, err))) {
        wi_tensor_free(c);
        return NULL;
    }
    wi_tensor_bump_version(c); /* as copy_ would */
    return c;
}

wi_tensor_t *wi_priv_tensor_convert_view(const wi_tensor_t *src, wi_dtype_t dtype,
                                         wi_rng_profile_t profile, wi_error_t *err)
{
    wi_tensor_t *t = wi_tensor_new(dtype, src->ndim, src->shape, err);
    if (!t)
        return NULL;
    if (!t->deferred) { /* WEIGHTINIT_DEFER=0: converted now */
        const void *s = wi_tensor_const_data(src);
        if (!s || wi_priv_convert_f32(dtype, profile, s, t->data, (size_t)src->numel) < 0) {
            wi_tensor_free(t);
            wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
            return NULL;
        }
        return t;
    }
    struct extra *x = ex_mut(t);
    if (!x) {
        wi_tensor_free(t);
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    x->view_of = src;
    x->view_profile = profile;
    return t;
}

int wi_priv_tensor_set_storage(wi_tensor_t *t, const void *storage,
                               uint64_t offset, uint64_t nbytes)
{
    struct extra *x = ex_mut(t);
    if (!x)
        return WI_ENOMEM;
    x->storage = storage;
    x->storage_offset = offset;
    x->storage_nbytes = nbytes;
    return 0;
}

const void *wi_priv_tensor_storage(const wi_tensor_t *t, uint64_t *offset,
                                   uint64_t *nbytes)
{
    const struct extra *x = ex(t);
    *offset = x->storage ? x->storage_offset : 0;
    *nbytes = x->storage ? x->storage_nbytes : wi_tensor_nbytes(t);
    if (t->numel == 0) /* torch: an empty tensor's storage has no data */
        return NULL;
    if (x->storage)
        return x->storage;
    /* A deferred tensor has no memory yet: it is its own storage (a tie
     * lists the same tensor under two names). */
    return t->deferred ? (const void *)t : t->data;
}

const wi_tensor_t *wi_priv_tensor_view_source(const wi_tensor_t *t,
                                              wi_rng_profile_t *profile)
{
    if (!t->deferred || !ex(t)->view_of)
        return NULL;
    *profile = t->x->view_profile;
    return t->x->view_of;
}
