/* torch.save's zip format, as torch.save(model.state_dict(), f) writes it:
 * <stem>/data.pkl (pickle protocol 2: an OrderedDict of
 * _rebuild_tensor_v2 calls), <stem>/byteorder, <stem>/data/<key> (raw
 * storages, stored, each starting on a 64-byte boundary so torch can map
 * them), <stem>/version.  The zip itself is libzip's; only the pickle
 * bytes are ours.
 *
 * libzip seeks in the archive it writes, so the archive is built in a
 * libzip memory buffer and then streamed to fp: fp may be a pipe. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zip.h>

#include <weightinit/checkpoint_write.h>

#include "base/buf.h"
#include "base/map.h"
#include "tensor/read.h"
#include "tensor/tensor_internal.h"
#include "write/write_internal.h"

#define ALIGN 64

/* ---- the pickle ---- */

struct pkl {
    wi_priv_buf_t b;
    int memo; /* next memo slot */
    int odict, rebuild, storage[16]; /* memo slots of globals, -1 unset */
};

static void put(struct pkl *p, const void *data, size_t n)
{
    wi_priv_buf_put(&p->b, data, n);
}

static void op(struct pkl *p, uint8_t c) { put(p, &c, 1); }

static void put_u32(struct pkl *p, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    put(p, b, 4);
}

static void str(struct pkl *p, const char *s)
{
    op(p, 'X'); /* BINUNICODE */
    put_u32(p, (uint32_t)strlen(s));
    put(p, s, strlen(s));
}

/* Python's pickler: BININT1, BININT2, BININT, else LONG1. */
static void integer(struct pkl *p, int64_t v)
{
    if (v >= 0 && v < 256) {
        uint8_t b[2] = {'K', (uint8_t)v};
        put(p, b, 2);
    } else if (v >= 0 && v < 65536) {
        uint8_t b[3] = {'M', (uint8_t)v, (uint8_t)(v >> 8)};
        put(p, b, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        op(p, 'J');
        put_u32(p, (uint32_t)(int32_t)v);
    } else {
        uint8_t b[10] = {0x8a, 8};
        for (int i = 0; i < 8; i++)
            b[2 + i] = (uint8_t)((uint64_t)v >> (8 * i));
        put(p, b, 10);
    }
}

/* GLOBAL the first time (memoised with BINPUT), BINGET after. */
static void global(struct pkl *p, int *slot, const char *module,
                   const char *name)
{
    if (*slot >= 0) {
        uint8_t b[2] = {'h', (uint8_t)*slot};
        put(p, b, 2);
        return;
    }
    op(p, 'c');
    put(p, module, strlen(module));
    op(p, '\n');
    put(p, name, strlen(name));
    op(p, '\n');
    *slot = p->memo++;
    uint8_t b[2] = {'q', (uint8_t)*slot};
    put(p, b, 2);
}

static void ints_tuple(struct pkl *p, int n, const int64_t *v)
{
    static const uint8_t tuple_n[4] = {')', 0x85, 0x86, 0x87};
    if (n > 3)
        op(p, '(');
    for (int i = 0; i < n; i++)
        integer(p, v[i]);
    op(p, n > 3 ? 't' : tuple_n[n]);
}

/* torch.storage._dtype_to_storage_type_map for the dtypes we hold. */
static const char *storage_type(wi_dtype_t dt)
{
    switch (dt) {
    case WI_DTYPE_F32: return "FloatStorage";
    case WI_DTYPE_F64: return "DoubleStorage";
    case WI_DTYPE_F16: return "HalfStorage";
    case WI_DTYPE_BF16: return "BFloat16Storage";
    case WI_DTYPE_I64: return "LongStorage";
    case WI_DTYPE_I32: return "IntStorage";
    case WI_DTYPE_I16: return "ShortStorage";
    case WI_DTYPE_I8: return "CharStorage";
    case WI_DTYPE_U8: return "ByteStorage";
    case WI_DTYPE_BOOL: return "BoolStorage";
    }
    return NULL;
}

/* One distinct storage (wi_priv_tensor_storage: a tie, views the .pth
 * reader kept), written once as torch.save writes a shared one. */
struct storage {
    const void *id;
    const void *data;            /* its first byte, in memory */
    const wi_tensor_t *deferred; /* or its values, computed as written */
    wi_dtype_t dtype;
    int64_t numel;
};

/* _rebuild_tensor_v2(('storage', torch.XStorage, key, 'cpu', numel), 0,
 * size, stride, False, OrderedDict()). */
static void tensor(struct pkl *p, const wi_tensor_t *t, size_t key,
                   const struct storage *st, int64_t offset)
{
    int nd = wi_tensor_ndim(t);
    const int64_t *size = wi_tensor_shape(t);
    int64_t stride[WI_MAX_DIMS], s = 1;
    /* torch's contiguous strides treat a 0 size as 1. */
    for (int i = nd - 1; i >= 0; i--) {
        stride[i] = s;
        s *= size[i] > 1 ? size[i] : 1;
    }
    char keybuf[32];
    snprintf(keybuf, sizeof keybuf, "%zu", key);
    global(p, &p->rebuild, "torch._utils", "_rebuild_tensor_v2");
    op(p, '(');
    op(p, '(');
    str(p, "storage");
    global(p, &p->storage[st->dtype], "torch", storage_type(st->dtype));
    str(p, keybuf);
    str(p, "cpu");
    integer(p, st->numel);
    op(p, 't');
    op(p, 'Q'); /* BINPERSID */
    integer(p, offset);
    ints_tuple(p, nd, size);
    ints_tuple(p, nd, stride);
    op(p, 0x89); /* NEWFALSE: requires_grad */
    global(p, &p->odict, "collections", "OrderedDict");
    op(p, ')');
    op(p, 'R');
    op(p, 't');
    op(p, 'R');
}

/* ---- storages ---- */

/* The storage t is in (added to all when new; ids maps each id to its
 * first storage), and t's element offset in it. */
static int storage_of(struct storage *all, size_t *n, wi_priv_map_t *ids,
                      const wi_tensor_t *t, size_t *key, int64_t *offset)
{
    uint64_t off, nbytes;
    const void *id = wi_priv_tensor_storage(t, &off, &nbytes);
    wi_dtype_t dt = wi_tensor_dtype(t);
    size_t es = wi_dtype_size(dt);
    int64_t numel = (int64_t)(nbytes / es);
    *offset = (int64_t)(off / es);
    size_t i;
    /* The same memory seen as another dtype is another storage in torch
     * 1.13 (typed storages): look further only then. */
    if (id && wi_priv_map_get_ptr(ids, id, &i))
        for (; i < *n; i++)
            if (all[i].id == id && all[i].dtype == dt) {
                /* Over the same memory without a known storage size: the
                 * largest user's (every persistent id says so). */
                if (numel > all[i].numel)
                    all[i].numel = numel;
                *key = i;
                return 0;
            }
    const wi_tensor_t *lazy = id == (const void *)t && wi_tensor_is_deferred(t) ? t : NULL;
    const char *data = lazy || !id ? NULL : (const char *)wi_tensor_const_data(t) - off;
    all[*n] = (struct storage){id, data, lazy, dt, numel};
    if (id && !wi_priv_map_get_ptr(ids, id, &i) && wi_priv_map_put_ptr(ids, id, *n) < 0)
        return WI_ENOMEM;
    *key = (*n)++;
    return 0;
}

/* ---- the archive ---- */

/* torch names the folder after the file's stem; "archive" for anything
 * that is not a plain file name (a pipe, "-"). */
static void folder_name(const char *name, char *out, size_t size)
{
    const char *base = name ? strrchr(name, '/') : NULL;
    base = base ? base + 1 : name ? name : "";
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    int ok = n > 0 && n < size && (isalnum((unsigned char)base[0]) || base[0] == '_');
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)base[i]) || strchr("-_.", base[i]);
    if (ok)
        snprintf(out, size, "%.*s", (int)n, base);
    else
        snprintf(out, size, "archive");
}

/* Elements computed at a time for libzip: enough for every thread of
 * the fill to get its share, 16 MB of float32. */
#define PART ((int64_t)1 << 22)

/* A deferred storage's bytes, computed as libzip reads them: one
 * cursor per storage, so its generator jumps once. */
struct lazy_src {
    const wi_tensor_t *t;
    wi_priv_tensor_cursor_t c;
    void *scratch;       /* one part, shared: libzip reads one storage at a time */
    float *fbuf;         /* a view's values before conversion */
    const char *bytes;   /* the part being sent */
    int64_t have, used;  /* bytes of it, bytes sent */
    wi_error_t *err;
    int failed;
};

struct zw {
    zip_t *za;
    zip_source_t *out;
    uint64_t offset; /* where the next local header will start */
    const char *name;
    wi_error_t *err;
    struct lazy_src *lazy; /* one per storage, live until zip_close */
    void *scratch;
    float *fbuf;
};

static int zfail(struct zw *z, const char *what)
{
    return wi_error_set(z->err, WI_EIO, z->name, NULL,
                        "cannot build the .pth archive (%s): %s", what,
                        z->za ? zip_strerror(z->za) : "libzip failed");
}

static zip_int64_t lazy_read(struct lazy_src *l, void *data, zip_uint64_t len)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(l->t));
    zip_uint64_t sent = 0;
    while (sent < len) {
        if (l->used == l->have) {
            int64_t left = wi_tensor_numel(l->t) - l->c.pos;
            if (left == 0)
                break;
            int64_t cnt = left < PART ? left : PART;
            const void *b;
            if (wi_priv_tensor_cursor_next(&l->c, cnt, l->scratch, l->fbuf, &b,
                                           l->err) < 0) {
                l->failed = 1;
                return -1;
            }
            l->bytes = b;
            l->have = cnt * (int64_t)es;
            l->used = 0;
        }
        zip_uint64_t n = (zip_uint64_t)(l->have - l->used);
        n = n < len - sent ? n : len - sent;
        memcpy((char *)data + sent, l->bytes + l->used, (size_t)n);
        l->used += (int64_t)n;
        sent += n;
    }
    return (zip_int64_t)sent;
}

/* Buffers of PART elements for the deferred tensors of sd: scratch
 * as wide as the widest, fbuf when one is a view (else NULL).  0 or -1
 * (out of memory). */
static int lazy_buffers(const wi_state_dict_t *sd, struct zw *z)
{
    size_t widest = 0;
    int views = 0;
    wi_rng_profile_t profile;
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        size_t es = wi_dtype_size(wi_tensor_dtype(t));
        if (wi_tensor_is_deferred(t) && es > widest)
            widest = es;
        views |= wi_priv_tensor_view_source(t, &profile) != NULL;
    }
    z->scratch = widest ? malloc((size_t)PART * widest) : NULL;
    z->fbuf = views ? malloc((size_t)PART * sizeof *z->fbuf) : NULL;
    return (widest && !z->scratch) || (views && !z->fbuf) ? -1 : 0;
}

/* libzip's source callback for a deferred storage. */
static zip_int64_t lazy_cb(void *ud, void *data, zip_uint64_t len,
                           zip_source_cmd_t cmd)
{
    struct lazy_src *l = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        l->have = l->used = 0;
        if (wi_priv_tensor_cursor_start(&l->c, l->t, 0, 0, l->err) < 0) {
            l->failed = 1;
            return -1;
        }
        return 0;
    case ZIP_SOURCE_READ: return lazy_read(l, data, len);
    case ZIP_SOURCE_CLOSE: return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = wi_tensor_nbytes(l->t);
        st->valid |= ZIP_STAT_SIZE;
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR: return zip_error_to_data(&(zip_error_t){.zip_err = ZIP_ER_READ}, data, len);
    case ZIP_SOURCE_FREE: return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ,
                                              ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                                              ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default: return -1;
    }
}

/* Adds one stored record; the "FB" local extra field pads its data to a
 * 64-byte boundary, as torch's PyTorchStreamWriter does.  A deferred
 * storage (lazy) is computed while libzip copies it. */
static int add(struct zw *z, const char *rec, const void *data, uint64_t len,
               struct lazy_src *lazy)
{
    static const uint8_t none;
    zip_source_t *src = lazy ? zip_source_function(z->za, lazy_cb, lazy)
                             : zip_source_buffer(z->za, len ? data : &none, len, 0);
    zip_int64_t idx = src ? zip_file_add(z->za, rec, src, ZIP_FL_ENC_UTF_8)
                          : -1;
    if (idx < 0) {
        zip_source_free(src);
        return zfail(z, rec);
    }
    size_t nlen = strlen(rec);
    uint64_t start = z->offset + 30 + nlen + 4;
    uint16_t pad = (uint16_t)((ALIGN - start % ALIGN) % ALIGN);
    uint8_t zeds[ALIGN];
    memset(zeds, 'Z', sizeof zeds);
    /* DOS time 1980-01-01 00:00 (local), so equal inputs give equal
     * files. */
    struct tm epoch = {.tm_year = 80, .tm_mday = 1, .tm_isdst = -1};
    if (zip_set_file_compression(z->za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) < 0 ||
        zip_file_extra_field_set(z->za, (zip_uint64_t)idx, 0x4246 /* "FB" */,
                                 ZIP_EXTRA_FIELD_NEW, zeds, pad,
                                 ZIP_FL_LOCAL) < 0 ||
        zip_file_set_mtime(z->za, (zip_uint64_t)idx, mktime(&epoch), 0) < 0)
        return zfail(z, rec);
    z->offset = start + pad + len;
    return 0;
}

/* Streams the archive; progress counts its bytes as the tensors' data
 * (the pickle and zip records are a few kB), the tensors as done at the
 * end. */
static int stream_out(struct zw *z, FILE *fp, const wi_state_dict_t *sd,
                      wi_priv_progress_t *pr)
{
    zip_stat_t st;
    zip_source_t *out = z->out;
    if (zip_source_stat(out, &st) < 0 || zip_source_open(out) < 0)
        return wi_error_set(z->err, WI_EIO, z->name, NULL,
                            "cannot read back the .pth archive: %s",
                            zip_error_strerror(zip_source_error(out)));
    uint8_t buf[1 << 16];
    zip_int64_t n;
    int bad = 0;
    uint64_t data = 0, params = 0, sent = 0, last = 0, told = 0;
    for (size_t i = 0; pr && pr->ctx && i < wi_state_dict_size(sd); i++) {
        data += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
        params += (uint64_t)wi_tensor_numel(wi_state_dict_tensor(sd, i));
    }
    while (!bad && (n = zip_source_read(out, buf, sizeof buf)) > 0) {
        bad = fwrite(buf, 1, (size_t)n, fp) != (size_t)n;
        sent += (uint64_t)n;
        if (pr && pr->ctx && st.size > 0 && sent - last >= WI_PROGRESS_STEP) {
            last = sent;
            uint64_t now = (uint64_t)((double)data * ((double)sent / (double)st.size));
            now = now > data ? data : now;
            wi_priv_progress_add(pr, now - told, 0, 0);
            told = now;
        }
    }
    bad |= n < 0;
    if (!bad && pr && pr->ctx)
        wi_priv_progress_add(pr, data - told, params, wi_state_dict_size(sd));
    zip_source_close(out);
    if (bad || fflush(fp) != 0 || ferror(fp))
        return wi_error_set(z->err, WI_EIO, z->name, NULL, "write failed");
    return 0;
}

static int build_pickle(struct pkl *p, const wi_state_dict_t *sd,
                        struct storage *st, size_t *nst, size_t *keys,
                        int64_t *offsets)
{
    p->odict = p->rebuild = -1;
    for (size_t i = 0; i < sizeof p->storage / sizeof *p->storage; i++)
        p->storage[i] = -1;
    size_t n = wi_state_dict_size(sd);
    /* Storages first: a shared storage's size is known only after all its
     * users, and every persistent id must say it. */
    wi_priv_map_t ids = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = storage_of(st, nst, &ids, wi_state_dict_tensor(sd, i), &keys[i],
                        &offsets[i]);
    wi_priv_map_clear(&ids);
    if (rc < 0)
        return rc;
    static const uint8_t head[] = {0x80, 2};
    put(p, head, 2);
    global(p, &p->odict, "collections", "OrderedDict");
    op(p, ')');
    op(p, 'R');
    for (size_t i = 0; i < n; i++) {
        /* Python's pickler batches SETITEMS by 1000. */
        if (i % 1000 == 0)
            op(p, '(');
        str(p, wi_state_dict_name(sd, i));
        tensor(p, wi_state_dict_tensor(sd, i), keys[i], &st[keys[i]], offsets[i]);
        if (i % 1000 == 999 || i + 1 == n)
            op(p, 'u');
    }
    op(p, '.');
    return p->b.oom ? WI_ENOMEM : 0;
}

static int check_tensors(const wi_state_dict_t *sd, const char *name,
                         wi_error_t *err)
{
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        if (!storage_type(wi_tensor_dtype(t)))
            return wi_error_set(err, WI_EUNSUPPORTED, name,
                                wi_state_dict_name(sd, i),
                                "dtype %d cannot be written to .pth",
                                (int)wi_tensor_dtype(t));
    }
    return 0;
}

static int write_archive(struct zw *z, const char *folder, const struct pkl *p,
                         const struct storage *st, size_t nst)
{
    char rec[512];
    snprintf(rec, sizeof rec, "%s/data.pkl", folder);
    if (add(z, rec, p->b.data, p->b.len, NULL) < 0)
        return WI_EIO;
    snprintf(rec, sizeof rec, "%s/byteorder", folder);
    if (add(z, rec, "little", 6, NULL) < 0)
        return WI_EIO;
    for (size_t i = 0; i < nst; i++) {
        struct lazy_src *l = st[i].deferred ? &z->lazy[i] : NULL;
        if (l)
            *l = (struct lazy_src){.t = st[i].deferred, .scratch = z->scratch,
                                   .fbuf = z->fbuf, .err = z->err};
        snprintf(rec, sizeof rec, "%s/data/%zu", folder, i);
        if (add(z, rec, st[i].data,
                (uint64_t)st[i].numel * wi_dtype_size(st[i].dtype), l) < 0)
            return WI_EIO;
    }
    snprintf(rec, sizeof rec, "%s/version", folder);
    if (add(z, rec, "3\n", 2, NULL) < 0)
        return WI_EIO;
    if (zip_close(z->za) < 0) {
        for (size_t i = 0; i < nst; i++)
            if (st[i].deferred && z->lazy[i].failed)
                return z->err ? z->err->code : WI_ENOMEM;
        return zfail(z, "closing");
    }
    z->za = NULL;
    return 0;
}

int wi_pth_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                 wi_error_t *err)
{
    return wi_priv_pth_write(fp, name, sd, NULL, err);
}

int wi_priv_pth_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                      wi_priv_progress_t *pr, wi_error_t *err)
{
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1)
        return wi_error_set(err, WI_EUNSUPPORTED, name, NULL,
                            "writing .pth needs a little-endian host");
    if (!fp || !sd)
        return wi_error_set(err, WI_EINVAL, name, NULL,
                            "wi_pth_write: fp and sd are required");
    int rc = check_tensors(sd, name, err);
    if (rc == 0)
        rc = wi_priv_check_space(fp, name, wi_priv_state_dict_bytes(sd), err);
    if (rc < 0)
        return rc;
    size_t n = wi_state_dict_size(sd), nst = 0;
    struct storage *st = malloc((n ? n : 1) * sizeof *st);
    size_t *keys = malloc((n ? n : 1) * sizeof *keys);
    int64_t *offsets = malloc((n ? n : 1) * sizeof *offsets);
    struct pkl p = {0};
    struct zw z = {.name = name, .err = err};
    char folder[256];
    folder_name(name, folder, sizeof folder);
    zip_error_t ze;
    zip_error_init(&ze);
    z.lazy = calloc(n ? n : 1, sizeof *z.lazy);
    if (!st || !keys || !offsets || !z.lazy || lazy_buffers(sd, &z) < 0 ||
        build_pickle(&p, sd, st, &nst, keys, offsets) < 0) {
        rc = wi_error_set(err, WI_ENOMEM, name, NULL, "out of memory");
        goto done;
    }
    z.out = zip_source_buffer_create(NULL, 0, 0, &ze);
    if (z.out)
        zip_source_keep(z.out);
    z.za = z.out ? zip_open_from_source(z.out, ZIP_TRUNCATE, &ze) : NULL;
    if (!z.za) {
        rc = wi_error_set(err, WI_EIO, name, NULL,
                          "cannot build the .pth archive: %s",
                          zip_error_strerror(&ze));
        goto done;
    }
    rc = write_archive(&z, folder, &p, st, nst);
    if (rc == 0)
        rc = stream_out(&z, fp, sd, pr);
done:
    if (z.za)
        zip_discard(z.za);
    zip_source_free(z.out);
    zip_error_fini(&ze);
    wi_priv_buf_free(&p.b);
    free(st);
    free(keys);
    free(offsets);
    free(z.lazy);
    free(z.scratch);
    free(z.fbuf);
    return rc;
}
