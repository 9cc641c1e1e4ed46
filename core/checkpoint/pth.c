/* torch.save's two formats read into a state dict: the zip archive (through
 * libzip) and the legacy stream, their storages shared as torch.load does. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include <weightinit/checkpoint.h>

#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/pickle.h"
#include "tensor/tensor_internal.h"

#define SUPPORTED "F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL"

/* A storage that several tensors of the dict are views of, kept as one
 * buffer that they all wrap (as torch.load gives them one storage), so
 * that a writer stores it once: freed with the last of them. */
struct block {
    atomic_size_t refs;
    uint8_t *bytes;
};

/* The bytes of one storage, as far as the reader got them. */
struct sbytes {
    const uint8_t *data; /* NULL until loaded */
    uint8_t *owned;      /* heap copy (zip records), freed by the reader */
    size_t nbytes;
    size_t users; /* tensors of the selected dict still to be built */
    struct block *block; /* the shared buffer (one reference is the reader's) */
};

struct pth {
    const char *source;
    wi_priv_blob_t *blob;
    wi_error_t *err;
    wi_priv_pickle_t *vm;
    int swap; /* the file's byte order is not the host's */
    uint64_t out, cap;
    struct sbytes *sb;
    /* zip */
    zip_t *za;
    char *prefix; /* "archive/" */
    int torchscript;
    wi_priv_select_t *sel; /* NULL: MMEngine's choice */
};

static int fail(struct pth *p, int code, const char *key, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(struct pth *p, int code, const char *key, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    wi_error_setv(p->err, code, p->source, key, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- building tensors ---- */

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

typedef int (*load_fn)(struct pth *p, const wi_priv_storage_t *st,
                       const char *key);

static void block_release(void *data, void *ud)
{
    struct block *b = ud;
    (void)data;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b->bytes);
        free(b);
    }
}

/* The storage's shared buffer (made on first use: the reader's copy
 * handed over, or the file's bytes copied; in host byte order). */
static struct block *block_of(struct pth *p, struct sbytes *sb, size_t esize)
{
    if (sb->block)
        return sb->block;
    struct block *b = malloc(sizeof *b);
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
static wi_tensor_t *share(struct pth *p, const wi_priv_pval_t *v,
                          struct sbytes *sb)
{
    const wi_priv_storage_t *st = v->u.tensor.storage;
    struct block *b = block_of(p, sb, st->esize);
    if (!b) {
        fail(p, WI_ENOMEM, NULL, "out of memory");
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
        fail(p, WI_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    return t;
}

/* Hands over the storage buffer when this tensor is all of it and its
 * only user, else copies. */
static wi_tensor_t *fill(struct pth *p, const wi_priv_pval_t *v,
                         struct sbytes *sb, uint64_t nbytes, const char *key)
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

/* An opaque value where data was needed: name the global that would
 * have built it. */
static int refuse_opaque(struct pth *p, const char *key,
                         const wi_priv_pval_t *v)
{
    const char *m = v->u.global.module, *n = v->u.global.name;
    if (strncmp(m, "torch", 5) == 0 && (m[5] == '\0' || m[5] == '.'))
        return fail(p, WI_EUNSUPPORTED, key,
                    "value is built by pickle global '%s %s', which "
                    "weightinit does not support (it reads tensors saved by "
                    "_rebuild_tensor_v2 with the classic dtypes)",
                    m, n);
    return fail(p, WI_EUNSUPPORTED, key,
                "value is built by pickle global '%s %s', which is not "
                "allowed (weightinit never imports or calls pickle globals)",
                m, n);
}

static wi_tensor_t *materialize(struct pth *p, const char *key,
                                const wi_priv_pval_t *v, load_fn load)
{
    if (v->kind == WI_PK_OPAQUE) {
        refuse_opaque(p, key, v);
        return NULL;
    }
    if (v->u.tensor.invalid) {
        fail(p, WI_EFORMAT, key, "invalid tensor: %s", v->u.tensor.invalid);
        return NULL;
    }
    const wi_priv_storage_t *st = v->u.tensor.storage;
    if (st->dtype < 0) {
        fail(p, WI_EUNSUPPORTED, key,
             "tensor has storage type torch.%s, which weightinit does not "
             "support (supported: " SUPPORTED ")",
             st->type_name);
        return NULL;
    }
    if (v->u.tensor.ndim > WI_MAX_DIMS) {
        fail(p, WI_EUNSUPPORTED, key,
             "tensor has %d dimensions; weightinit supports at most %d",
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
        fail(p, WI_EFORMAT, key,
             "tensors would need more than %llu MiB for a %zu-byte file "
             "(views repeating storage elements?); refusing",
             (unsigned long long)(p->cap >> 20), p->blob->len);
        return NULL;
    }
    p->out += nbytes;
    struct sbytes *sb = &p->sb[st->index];
    if (numel > 0 && !sb->data && load(p, st, key) < 0)
        return NULL;
    return fill(p, v, sb, nbytes, key);
}

/* ---- choosing the state dict (MMEngine's unwrapping) ---- */

static const wi_priv_pval_t *select_dict(struct pth *p,
                                         const wi_priv_pval_t *root)
{
    if (root->kind == WI_PK_OPAQUE) {
        fail(p, WI_EUNSUPPORTED, NULL,
             "no state_dict found: the file holds an object built by pickle "
             "global '%s %s'%s, not a dict of tensors (save "
             "model.state_dict() instead); weightinit never calls pickle "
             "globals",
             root->u.global.module, root->u.global.name,
             p->torchscript ? " (a TorchScript archive from torch.jit.save)"
                            : "");
        return NULL;
    }
    if (root->kind != WI_PK_DICT) {
        fail(p, WI_EFORMAT, NULL,
             "no state_dict found: the file holds %s, not a dict of tensors",
             wi_priv_pval_kind(root));
        return NULL;
    }
    const wi_priv_pval_t *sd = wi_priv_pdict_get(root, "state_dict");
    if (!sd || sd->kind == WI_PK_DICT)
        return sd ? sd : root;
    if (sd->kind == WI_PK_OPAQUE)
        refuse_opaque(p, "state_dict", sd);
    else
        fail(p, WI_EFORMAT, "state_dict",
             "checkpoint['state_dict'] is %s, not a dict of tensors",
             wi_priv_pval_kind(sd));
    return NULL;
}

/* A key as Python's repr spells control characters, for messages (a NUL
 * byte cannot be printed, nor carried by a C string). */
static const char *escape_key(const wi_priv_pval_t *k, char *buf, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < k->u.str.len && n + 5 < size; i++) {
        unsigned char c = (unsigned char)k->u.str.data[i];
        if (c == '\\')
            n += (size_t)snprintf(buf + n, size - n, "\\\\");
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return buf;
}

/* Names are C strings, in this library and in every caller's hands: a
 * key with a NUL byte would be cut short (and could alias another key),
 * so a tensor under one is refused, whichever reader asks for it. */
static int refuse_nul_key(struct pth *p, const char *path,
                          const wi_priv_pval_t *k)
{
    char key[200], full[400];
    snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
             escape_key(k, key, sizeof key));
    return fail(p, WI_EUNSUPPORTED, full,
                "expected a tensor name without NUL bytes, found a key with "
                "one: weightinit's names are C strings and cannot carry it "
                "(rename the key in Python and save again)");
}

/* 1 when a dict key can name a tensor: a str without NUL bytes. */
static int is_str(const wi_priv_pval_t *k)
{
    return k->kind == WI_PK_STR && strlen(k->u.str.data) == k->u.str.len;
}

/* For each distinct name key, in order of first appearance, the index of
 * its last value (Python dict semantics for repeated SETITEMs); other
 * keys (a str with a NUL byte, an int, a tuple...) are listed as they
 * come, for the caller to name or refuse. */
static size_t *unique_items(struct pth *p, const wi_priv_pval_t *d,
                            size_t *n)
{
    size_t len = d->u.dict.len, count = 0, found;
    size_t *pick = malloc((len ? len : 1) * sizeof *pick);
    wi_priv_strset_t seen = {0};
    int added;
    if (!pick) {
        fail(p, WI_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        const wi_priv_pval_t *k = d->u.dict.keys[i];
        if (!is_str(k)) {
            pick[count++] = i;
            continue;
        }
        if (wi_priv_strset_put(&seen, k->u.str.data, count, &found,
                               &added) < 0) {
            fail(p, WI_ENOMEM, NULL, "out of memory");
            goto fail;
        }
        if (added)
            pick[count++] = i;
        else
            pick[found] = i;
    }
    wi_priv_strset_free(&seen);
    *n = count;
    return pick;
fail:
    wi_priv_strset_free(&seen);
    free(pick);
    return NULL;
}

/* A value the selected dict's reader turns into a tensor or refuses:
 * tensors, and objects of torch and numpy (which may be arrays of a kind
 * we do not read).  An object from outside torch and numpy
 * (argparse.Namespace next to the weights, as DeiT saves) cannot hold
 * weights: it is skipped like an int. */
static int holds_weights(const wi_priv_pval_t *v)
{
    return v->kind == WI_PK_TENSOR ||
           (v->kind == WI_PK_OPAQUE &&
            (v->u.global.tensor || strncmp(v->u.global.module, "torch", 5) == 0 ||
             strncmp(v->u.global.module, "numpy", 5) == 0));
}

/* Tensors of the selected dict.  Other plain values (ints, strings,
 * nested dicts) are skipped: MMEngine would report them as unexpected
 * keys and load nothing from them.  Opaque objects are refused, since
 * under Python they might have been tensors.  p->sb must be allocated. */
static wi_state_dict_t *extract_dict(struct pth *p, const wi_priv_pval_t *d,
                                     load_fn load)
{
    size_t n;
    size_t *pick = d ? unique_items(p, d, &n) : NULL;
    if (!pick)
        return NULL;
    wi_state_dict_t *sd = wi_state_dict_new();
    if (!sd) {
        fail(p, WI_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const wi_priv_pval_t *v = d->u.dict.values[pick[i]];
        if (v->kind == WI_PK_TENSOR && !v->u.tensor.invalid)
            p->sb[v->u.tensor.storage->index].users++;
    }
    for (size_t i = 0; i < n; i++) {
        const wi_priv_pval_t *v = d->u.dict.values[pick[i]];
        const wi_priv_pval_t *k = d->u.dict.keys[pick[i]];
        /* MMEngine's revise_keys runs re.sub on every key: anything but a
         * str is a TypeError there. */
        if (k->kind != WI_PK_STR) {
            fail(p, WI_EFORMAT, NULL,
                 "state dict key number %zu is %s, not a tensor name", pick[i],
                 wi_priv_pval_kind(k));
            goto fail;
        }
        if (!holds_weights(v))
            continue;
        if (!is_str(k)) {
            refuse_nul_key(p, "", k);
            goto fail;
        }
        wi_tensor_t *t = materialize(p, k->u.str.data, v, load);
        if (!t || wi_state_dict_append_new(sd, k->u.str.data, t, p->err) < 0)
            goto fail;
    }
    free(pick);
    return sd;
fail:
    free(pick);
    wi_state_dict_free(sd);
    return NULL;
}

/* ---- other selections: a key, the automatic choice, everything ---- */

static int tensor_count(const wi_priv_pval_t *d)
{
    int n = 0;
    for (size_t i = 0; d->kind == WI_PK_DICT && i < d->u.dict.len; i++)
        n += d->u.dict.values[i]->kind == WI_PK_TENSOR;
    return n;
}

/* "'model' (9 tensors), 'ema' (9 tensors)": the top-level dicts that hold
 * tensors, for messages. */
static void candidates(const wi_priv_pval_t *root, char *buf, size_t size,
                       int *count, const char **only)
{
    size_t len = 0;
    *count = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < root->u.dict.len; i++) {
        const wi_priv_pval_t *k = root->u.dict.keys[i];
        int n = tensor_count(root->u.dict.values[i]);
        if (!is_str(k) || n == 0 || wi_priv_pdict_get(root, k->u.str.data) !=
                                        root->u.dict.values[i])
            continue;
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s'%s' (%d tensor%s)",
                                    *count ? ", " : "", k->u.str.data, n,
                                    n == 1 ? "" : "s");
        *only = k->u.str.data;
        ++*count;
    }
}

static const wi_priv_pval_t *choose(struct pth *p, const wi_priv_pval_t *d,
                                    const char *path)
{
    free(p->sel->chosen);
    if (!(p->sel->chosen = strdup(path)))
        fail(p, WI_ENOMEM, NULL, "out of memory");
    return p->sel->chosen ? d : NULL;
}

static const wi_priv_pval_t *select_auto(struct pth *p,
                                         const wi_priv_pval_t *root)
{
    const wi_priv_pval_t *sd = wi_priv_pdict_get(root, "state_dict");
    if (sd && sd->kind == WI_PK_DICT)
        return choose(p, sd, "state_dict");
    char list[400];
    int count;
    const char *only = NULL;
    candidates(root, list, sizeof list, &count, &only);
    if (count > 1) {
        fail(p, WI_EINVAL, NULL,
             "the checkpoint holds tensors under several keys: %s; choose "
             "one as the key",
             list);
        return NULL;
    }
    if (count == 1 && tensor_count(root) == 0)
        return choose(p, wi_priv_pdict_get(root, only), only);
    return choose(p, root, "");
}

/* The dict at a dotted path; a key may itself hold dots, so at each level
 * the longest key that the rest of the path starts with wins. */
static const wi_priv_pval_t *select_key(struct pth *p,
                                        const wi_priv_pval_t *root,
                                        const char *key)
{
    const wi_priv_pval_t *d = root;
    const char *rest = key;
    while (*rest) {
        const wi_priv_pval_t *next = NULL;
        size_t best = 0;
        for (size_t i = 0; d->kind == WI_PK_DICT && i < d->u.dict.len; i++) {
            const wi_priv_pval_t *k = d->u.dict.keys[i];
            size_t n = is_str(k) ? k->u.str.len : 0;
            if (n > best && strncmp(rest, k->u.str.data, n) == 0 &&
                (rest[n] == '\0' || rest[n] == '.')) {
                best = n;
                next = wi_priv_pdict_get(d, k->u.str.data);
            }
        }
        if (!next || d->kind != WI_PK_DICT) {
            char list[400];
            int count;
            const char *only;
            candidates(root, list, sizeof list, &count, &only);
            fail(p, WI_ENOTFOUND, key,
                 "the checkpoint has no dict '%s'; %s%s", key,
                 count ? "dicts holding tensors: " : "its top level holds ",
                 count ? list
                       : tensor_count(root) ? "the tensors (the key '')"
                                            : "no tensors");
            return NULL;
        }
        d = next;
        rest += best + (rest[best] == '.');
    }
    if (d->kind == WI_PK_DICT)
        return choose(p, d, key);
    if (d->kind == WI_PK_OPAQUE)
        refuse_opaque(p, key, d);
    else
        fail(p, WI_EINVAL, key, "checkpoint['%s'] is %s, not a dict of tensors",
             key, wi_priv_pval_kind(d));
    return NULL;
}

/* Everything: tensors at any depth of dicts, lists and tuples, named by
 * their dotted path; the non-tensor values near the top described in
 * sel->info["structure"]. */
struct walk {
    struct pth *p;
    load_fn load;
    wi_state_dict_t *sd; /* NULL: the counting pass */
    json_t *structure;
    size_t budget, left; /* values a pass may reach, and still may */
};

#define WALK_DEPTH 64
#define STRUCTURE_DEPTH 2
#define STRUCTURE_MAX 200 /* entries: an optimizer state can have thousands */

/* Python's type names, for inspect's stable "kind" field. */
static const char *kind_name(const wi_priv_pval_t *v)
{
    switch (v->kind) {
    case WI_PK_NONE: return "None";
    case WI_PK_BOOL: return "bool";
    case WI_PK_INT:
    case WI_PK_BIGINT: return "int";
    case WI_PK_FLOAT: return "float";
    case WI_PK_STR: return "str";
    case WI_PK_TUPLE: return "tuple";
    case WI_PK_LIST: return "list";
    case WI_PK_SET: return "set";
    case WI_PK_DICT: return v->u.dict.ordered ? "OrderedDict" : "dict";
    case WI_PK_GLOBAL: return "class";
    case WI_PK_OPAQUE: return "object";
    case WI_PK_STORAGE: return "storage";
    case WI_PK_TENSOR: return "tensor";
    }
    return "?";
}

static json_t *describe(const wi_priv_pval_t *v, const char *path)
{
    json_t *o = json_pack("{s:s, s:s}", "path", path, "kind", kind_name(v));
    if (!o)
        return NULL;
    switch (v->kind) {
    case WI_PK_BOOL:
        json_object_set_new(o, "value", json_boolean(v->u.i));
        break;
    case WI_PK_INT:
        json_object_set_new(o, "value", json_integer(v->u.i));
        break;
    case WI_PK_FLOAT:
        json_object_set_new(o, "value", json_real(v->u.f));
        break;
    case WI_PK_STR: {
        /* One line, at most 60 characters: a config text is long. */
        char brief[64];
        size_t n = strcspn(v->u.str.data, "\r\n");
        n = n > 60 ? 60 : n;
        snprintf(brief, sizeof brief, "%.*s%s", (int)n, v->u.str.data,
                 n < v->u.str.len ? "..." : "");
        json_object_set_new(o, "value", json_string(brief));
        break;
    }
    case WI_PK_OPAQUE:
    case WI_PK_GLOBAL: {
        char name[300];
        snprintf(name, sizeof name, "%s.%s", v->u.global.module,
                 v->u.global.name);
        json_object_set_new(o, "class", json_string(name));
        break;
    }
    case WI_PK_DICT:
        json_object_set_new(o, "items", json_integer((json_int_t)v->u.dict.len));
        json_object_set_new(o, "tensors", json_integer(tensor_count(v)));
        break;
    case WI_PK_LIST:
    case WI_PK_TUPLE:
    case WI_PK_SET:
        json_object_set_new(o, "items", json_integer((json_int_t)v->u.seq.len));
        break;
    default:
        break;
    }
    return o;
}

/* A tensor in a form we do not build (a tensor subclass, a quantized or
 * sparse tensor): inspect must not pass it over in silence. */
static int unread_tensor(const wi_priv_pval_t *v)
{
    return v->kind == WI_PK_OPAQUE &&
           (v->u.global.tensor ||
            (strcmp(v->u.global.module, "torch._utils") == 0 &&
             strncmp(v->u.global.name, "_rebuild_", 9) == 0));
}

static size_t items(const wi_priv_pval_t *v)
{
    return v->kind == WI_PK_DICT ? v->u.dict.len
           : v->kind == WI_PK_LIST || v->kind == WI_PK_TUPLE ? v->u.seq.len
                                                              : 0;
}

/* Bounds of the walk, so that every tensor is named or the walk fails:
 * values nested deeper than WALK_DEPTH (a structure that contains itself,
 * through the memo) and more visits than the budget (a list of two
 * references to a list of two references to ... has 2^depth paths). */
static int step(struct walk *w, const wi_priv_pval_t *v, const char *path,
                int depth)
{
    if (w->left-- == 0)
        return fail(w->p, WI_EUNSUPPORTED, path,
                    "the checkpoint's values are shared over more than %zu "
                    "paths (objects that refer to each other again and "
                    "again): too many to name every tensor",
                    w->budget);
    if (depth > WALK_DEPTH &&
        (v->kind == WI_PK_TENSOR || unread_tensor(v) || items(v)))
        return fail(w->p, WI_EUNSUPPORTED, path,
                    "values nested more than %d levels deep (a structure "
                    "that contains itself?): too deep to name every tensor",
                    WALK_DEPTH);
    return 0;
}

/* 1 when a tensor lies at or under v, 0 when none does, or an error. */
static int reaches_tensor(struct walk *w, const wi_priv_pval_t *v,
                          const char *path, int depth)
{
    int rc = step(w, v, path, depth);
    if (rc < 0 || v->kind == WI_PK_TENSOR || unread_tensor(v))
        return rc < 0 ? rc : 1;
    for (size_t i = 0; rc == 0 && depth <= WALK_DEPTH && i < items(v); i++)
        rc = reaches_tensor(w, v->kind == WI_PK_DICT ? v->u.dict.values[i]
                                                     : v->u.seq.items[i],
                            path, depth + 1);
    return rc;
}

static int walk(struct walk *w, const wi_priv_pval_t *v, const char *path,
                int depth);

static int walk_item(struct walk *w, const wi_priv_pval_t *v,
                     const char *path, const char *key, int depth)
{
    char full[1024];
    if ((size_t)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
                         key) >= sizeof full)
        return fail(w->p, WI_EUNSUPPORTED, path, "key path longer than %zu "
                    "bytes", sizeof full);
    return walk(w, v, full, depth + 1);
}

/* A dict item whose key cannot name a tensor (a str with a NUL byte, a
 * tuple, a float, None): refused when a tensor lies under it, passed
 * over otherwise, like the other values that are not tensors. */
static int walk_unnamed(struct walk *w, const wi_priv_pval_t *k,
                        const wi_priv_pval_t *v, const char *path, int depth)
{
    int rc = reaches_tensor(w, v, path, depth + 1);
    if (rc <= 0)
        return rc;
    if (k->kind == WI_PK_STR)
        return refuse_nul_key(w->p, path, k);
    return fail(w->p, WI_EUNSUPPORTED, *path ? path : NULL,
                "expected dict keys that are strs or ints, found %s as the "
                "key of a tensor: a tensor needs a name",
                wi_priv_pval_kind(k));
}

static int walk_dict(struct walk *w, const wi_priv_pval_t *v,
                     const char *path, int depth)
{
    size_t n, *pick = unique_items(w->p, v, &n);
    int rc = pick ? 0 : WI_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const wi_priv_pval_t *k = v->u.dict.keys[pick[i]],
                             *val = v->u.dict.values[pick[i]];
        char num[32];
        if (k->kind == WI_PK_INT) {
            snprintf(num, sizeof num, "%lld", (long long)k->u.i);
            rc = walk_item(w, val, path, num, depth);
        } else if (is_str(k)) {
            rc = walk_item(w, val, path, k->u.str.data, depth);
        } else {
            rc = walk_unnamed(w, k, val, path, depth);
        }
    }
    free(pick);
    return rc;
}

static int walk(struct walk *w, const wi_priv_pval_t *v, const char *path,
                int depth)
{
    struct pth *p = w->p;
    int rc = step(w, v, path, depth);
    if (rc < 0 || depth > WALK_DEPTH)
        return rc;
    if (unread_tensor(v))
        return refuse_opaque(p, path, v);
    if (v->kind == WI_PK_TENSOR) {
        if (!w->sd) {
            if (!v->u.tensor.invalid)
                p->sb[v->u.tensor.storage->index].users++;
            return 0;
        }
        wi_tensor_t *t = materialize(p, path, v, w->load);
        return t ? wi_state_dict_append_new(w->sd, path, t, p->err) : WI_EFORMAT;
    }
    if (!w->sd && depth > 0 && depth <= STRUCTURE_DEPTH &&
        json_array_size(w->structure) < STRUCTURE_MAX &&
        json_array_append_new(w->structure, describe(v, path)) < 0)
        return fail(p, WI_ENOMEM, NULL, "out of memory");
    if (v->kind == WI_PK_DICT)
        return walk_dict(w, v, path, depth);
    for (size_t i = 0; rc == 0 && (v->kind == WI_PK_LIST || v->kind == WI_PK_TUPLE) &&
                       i < v->u.seq.len; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        rc = walk_item(w, v->u.seq.items[i], path, key, depth);
    }
    return rc;
}

static wi_state_dict_t *extract_all(struct pth *p, const wi_priv_pval_t *root,
                                    load_fn load)
{
    struct walk w = {p, load, NULL, json_array(), 0, 0};
    json_t *info = json_pack("{s:s, s:o, s:s}", "format",
                             p->za ? "torch-zip" : "torch-legacy", "structure",
                             w.structure, "kind", kind_name(root));
    if (!info || !w.structure) {
        fail(p, WI_ENOMEM, NULL, "out of memory");
        json_decref(info);
        return NULL;
    }
    if (root->kind == WI_PK_DICT)
        json_object_set_new(info, "items", json_integer((json_int_t)root->u.dict.len));
    if (root->kind == WI_PK_OPAQUE) {
        select_dict(p, root); /* its message: not a dict of tensors */
        json_decref(info);
        return NULL;
    }
    /* Every value holds a pointer's worth of the VM's memory for each
     * reference to it: more visits than a few per reference means values
     * shared over and over. */
    w.budget = w.left = wi_priv_pickle_memory(p->vm) / 4 + 4096;
    int rc = walk(&w, root, "", 0);
    if (rc == 0 && !(w.sd = wi_state_dict_new()))
        rc = fail(p, WI_ENOMEM, NULL, "out of memory");
    w.left = w.budget;
    if (rc < 0 || walk(&w, root, "", 0) < 0) {
        wi_state_dict_free(w.sd);
        json_decref(info);
        return NULL;
    }
    json_decref(p->sel->info);
    p->sel->info = info;
    return w.sd;
}

static wi_state_dict_t *extract(struct pth *p, const wi_priv_pval_t *root,
                                load_fn load)
{
    if (p->sel && p->sel->mode == WI_SEL_ALL)
        return extract_all(p, root, load);
    const wi_priv_pval_t *d;
    if (!p->sel || root->kind != WI_PK_DICT)
        d = select_dict(p, root); /* or its message: not a dict */
    else if (p->sel->mode == WI_SEL_AUTO)
        d = select_auto(p, root);
    else
        d = select_key(p, root, p->sel->key ? p->sel->key : "");
    return d ? extract_dict(p, d, load) : NULL;
}

static int alloc_sbytes(struct pth *p)
{
    size_t ns = wi_priv_pickle_nstorages(p->vm);
    p->sb = calloc(ns ? ns : 1, sizeof *p->sb);
    return p->sb ? 0 : fail(p, WI_ENOMEM, NULL, "out of memory");
}

static void pth_free(struct pth *p)
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

static int storage_nbytes(struct pth *p, const wi_priv_storage_t *st,
                          uint64_t *nbytes)
{
    if (__builtin_mul_overflow((uint64_t)st->numel, (uint64_t)st->esize,
                               nbytes) ||
        *nbytes > SIZE_MAX)
        return fail(p, WI_EFORMAT, NULL,
                    "storage '%s' of %lld elements is too large", st->key,
                    (long long)st->numel);
    return 0;
}

/* ---- the zip format ---- */

static int zip_fail(struct pth *p, int zcode, const char *what)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, zcode);
    const char *why = zcode == ZIP_ER_NOZIP
                          ? "no end of central directory record: truncated "
                            "download or not a zip archive"
                          : zip_error_strerror(&ze);
    fail(p, WI_EFORMAT, NULL, "%s: %s", what, why);
    zip_error_fini(&ze);
    return WI_EFORMAT;
}

static int zip_open_blob(struct pth *p)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src =
        zip_source_buffer_create(p->blob->data, p->blob->len, 0, &ze);
    if (src && !(p->za = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    int code = zip_error_code_zip(&ze);
    zip_error_fini(&ze);
    if (!p->za)
        return zip_fail(p, code, "cannot read the torch.save zip archive");
    return 0;
}

/* torch's reader takes the folder from the first entry and refuses any
 * entry outside it. */
static int find_prefix(struct pth *p)
{
    zip_int64_t n = zip_get_num_entries(p->za, 0);
    const char *first = n > 0 ? zip_get_name(p->za, 0, ZIP_FL_ENC_RAW) : NULL;
    if (!first)
        return fail(p, WI_EFORMAT, NULL,
                    "the zip archive is empty: not a torch.save file");
    const char *slash = strchr(first, '/');
    if (!slash || slash == first)
        return fail(p, WI_EFORMAT, NULL,
                    "file in archive is not in a subdirectory: '%.100s' "
                    "(not a torch.save file)",
                    first);
    size_t plen = (size_t)(slash - first) + 1;
    if (!(p->prefix = strndup(first, plen)))
        return fail(p, WI_ENOMEM, NULL, "out of memory");
    for (zip_int64_t i = 1; i < n; i++) {
        const char *name = zip_get_name(p->za, (zip_uint64_t)i,
                                        ZIP_FL_ENC_RAW);
        if (!name || strncmp(name, p->prefix, plen) != 0)
            return fail(p, WI_EFORMAT, NULL,
                        "file in archive is not in the subdirectory '%s': "
                        "'%.100s'",
                        p->prefix, name ? name : "?");
    }
    return 0;
}

/* Index of prefix + rel, or -1. */
static zip_int64_t locate(struct pth *p, const char *rel)
{
    char name[1024];
    if ((size_t)snprintf(name, sizeof name, "%s%s", p->prefix, rel) >=
        sizeof name)
        return -1;
    return zip_name_locate(p->za, name, ZIP_FL_ENC_RAW);
}

/* Reads record rel (which must hold exactly `expect` bytes unless expect
 * is SIZE_MAX; at most `limit` bytes) into a new buffer. */
static int read_record(struct pth *p, const char *rel, const char *key,
                       size_t expect, uint64_t limit, uint8_t **out,
                       size_t *len)
{
    zip_int64_t idx = locate(p, rel);
    zip_stat_t st;
    if (idx < 0)
        return fail(p, WI_EFORMAT, key,
                    "the zip archive has no record '%s%s'%s", p->prefix, rel,
                    strcmp(rel, "data.pkl") == 0 ? ": not a torch.save file"
                                                 : " (truncated or corrupt "
                                                   "file?)");
    if (zip_stat_index(p->za, (zip_uint64_t)idx, 0, &st) < 0 ||
        !(st.valid & ZIP_STAT_SIZE))
        return zip_fail(p, zip_error_code_zip(zip_get_error(p->za)),
                        "cannot read the zip directory");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
        st.encryption_method != ZIP_EM_NONE)
        return fail(p, WI_EUNSUPPORTED, key, "record '%s%s' is encrypted",
                    p->prefix, rel);
    if (expect != SIZE_MAX && st.size != expect)
        return fail(p, WI_EFORMAT, key,
                    "record '%s%s' holds %llu bytes but its storage needs "
                    "%zu (truncated or corrupt file?)",
                    p->prefix, rel, (unsigned long long)st.size, expect);
    if (st.size > limit || st.size > SIZE_MAX - 1)
        return fail(p, WI_EUNSUPPORTED, key,
                    "record '%s%s' of %llu bytes is larger than the %llu-byte "
                    "limit",
                    p->prefix, rel, (unsigned long long)st.size,
                    (unsigned long long)limit);
    zip_flags_t flags = 0;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Let mutated records past the CRC check, to reach the pickle VM. */
    if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE)
        flags = ZIP_FL_COMPRESSED;
#endif
    uint8_t *buf = malloc(st.size ? (size_t)st.size : 1);
    zip_file_t *zf = buf ? zip_fopen_index(p->za, (zip_uint64_t)idx, flags)
                         : NULL;
    zip_int64_t got = 0, r = 0;
    while (zf && (uint64_t)got < st.size &&
           (r = zip_fread(zf, buf + got, st.size - (zip_uint64_t)got)) > 0)
        got += r;
    int ok = zf && r >= 0 && (uint64_t)got == st.size;
    char why[128];
    snprintf(why, sizeof why, "%s",
             !buf ? "out of memory"
             : zf ? (r < 0 ? zip_file_strerror(zf) : "the record is short")
                  : zip_strerror(p->za));
    if (zf)
        zip_fclose(zf);
    if (!ok) {
        free(buf);
        return fail(p, buf ? WI_EFORMAT : WI_ENOMEM, key,
                    "cannot read record '%s%s': %s (truncated or corrupt "
                    "file?)",
                    p->prefix, rel, why);
    }
    *out = buf;
    *len = (size_t)st.size;
    return 0;
}

static int zip_load(struct pth *p, const wi_priv_storage_t *st,
                    const char *key)
{
    struct sbytes *sb = &p->sb[st->index];
    char rel[512];
    uint64_t nbytes;
    if (storage_nbytes(p, st, &nbytes) < 0)
        return WI_EFORMAT;
    if ((size_t)snprintf(rel, sizeof rel, "data/%s", st->key) >= sizeof rel)
        return fail(p, WI_EFORMAT, key, "storage key '%.64s...' is too long",
                    st->key);
    if (read_record(p, rel, key, (size_t)nbytes, p->cap, &sb->owned,
                    &sb->nbytes) < 0)
        return WI_EFORMAT;
    sb->data = sb->owned;
    return 0;
}

/* "little" (or absent: files before pytorch#101688) or "big". */
static int read_byteorder(struct pth *p)
{
    uint8_t *buf;
    size_t len;
    if (locate(p, "byteorder") < 0)
        return 0;
    if (read_record(p, "byteorder", NULL, SIZE_MAX, 64, &buf, &len) < 0)
        return WI_EFORMAT;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    int big = len == 3 && memcmp(buf, "big", 3) == 0;
    int little = len == 6 && memcmp(buf, "little", 6) == 0;
    free(buf);
    if (!big && !little)
        return fail(p, WI_EFORMAT, NULL,
                    "record '%sbyteorder' is neither 'little' nor 'big'",
                    p->prefix);
    p->swap = big == WI_HOST_LITTLE_ENDIAN;
    return 0;
}

wi_state_dict_t *wi_priv_pth_zip_select(wi_priv_blob_t *blob,
                                        const char *source,
                                        wi_priv_select_t *sel, wi_error_t *err)
{
    struct pth p = {.source = source, .blob = blob, .err = err, .sel = sel};
    p.cap = wi_priv_output_cap(blob->len);
    wi_state_dict_t *sd = NULL;
    uint8_t *pkl = NULL;
    size_t pkl_len = 0, pos = 0;
    wi_priv_pval_t *root;
    if (zip_open_blob(&p) < 0 || find_prefix(&p) < 0 ||
        read_record(&p, "data.pkl", NULL, SIZE_MAX, WI_PICKLE_MAX_BYTES, &pkl,
                    &pkl_len) < 0 ||
        read_byteorder(&p) < 0)
        goto done;
    p.torchscript = locate(&p, "constants.pkl") >= 0;
    if (!(p.vm = wi_priv_pickle_new())) {
        fail(&p, WI_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if (wi_priv_pickle_run(p.vm, pkl, pkl_len, &pos, 5, source, "data.pkl",
                           &root, err) < 0 ||
        alloc_sbytes(&p) < 0)
        goto done;
    sd = extract(&p, root, zip_load);
done:
    free(pkl);
    pth_free(&p);
    return sd;
}

/* ---- the legacy stream ---- */

/* Python's int 0x1950a86a20f9469cfc6c as LONG1 bytes. */
static const uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                  0x20, 0x6a, 0xa8, 0x50, 0x19};

static int run(struct pth *p, size_t *pos, const char *what,
               wi_priv_pval_t **out)
{
    return wi_priv_pickle_run(p->vm, p->blob->data, p->blob->len, pos, 6,
                              p->source, what, out, p->err);
}

/* Magic number, protocol version, sys_info. */
static int legacy_preamble(struct pth *p, size_t *pos)
{
    wi_priv_pval_t *v;
    if (run(p, pos, "legacy torch.save stream: magic number pickle", &v) < 0)
        return WI_EFORMAT;
    if (v->kind != WI_PK_BIGINT || v->u.str.len != sizeof magic ||
        memcmp(v->u.str.data, magic, sizeof magic) != 0)
        return fail(p, WI_EFORMAT, NULL,
                    "invalid magic number; corrupt file? (a pickle that is "
                    "not a torch.save checkpoint)");
    if (run(p, pos, "legacy torch.save stream: protocol version pickle",
            &v) < 0)
        return WI_EFORMAT;
    if (v->kind != WI_PK_INT || v->u.i != 1001)
        return fail(p, WI_EUNSUPPORTED, NULL,
                    "legacy torch.save protocol version is not 1001");
    if (run(p, pos, "legacy torch.save stream: sys_info pickle", &v) < 0)
        return WI_EFORMAT;
    const wi_priv_pval_t *le = wi_priv_pdict_get(v, "little_endian");
    if (v->kind != WI_PK_DICT || (le && le->kind != WI_PK_BOOL))
        return fail(p, WI_EFORMAT, NULL,
                    "legacy torch.save sys_info is not a dict with a "
                    "boolean little_endian");
    p->swap = (le ? (int)le->u.i : 1) != WI_HOST_LITTLE_ENDIAN;
    return 0;
}

/* After the key list: per key, an int64 element count and raw bytes. */
static int legacy_storages(struct pth *p, size_t pos,
                           const wi_priv_pval_t *keys)
{
    const uint8_t *d = p->blob->data;
    size_t len = p->blob->len;
    if (keys->kind != WI_PK_LIST)
        return fail(p, WI_EFORMAT, NULL,
                    "legacy torch.save storage key list is %s, not a list",
                    wi_priv_pval_kind(keys));
    for (size_t i = 0; i < keys->u.seq.len; i++) {
        const wi_priv_pval_t *k = keys->u.seq.items[i];
        const wi_priv_storage_t *st =
            k->kind == WI_PK_STR ? wi_priv_pickle_find_storage(p->vm,
                                                               k->u.str.data)
                                 : NULL;
        if (!st)
            return fail(p, WI_EFORMAT, NULL,
                        "legacy torch.save storage key %zu is not a storage "
                        "of the object pickle",
                        i);
        uint64_t nbytes, numel;
        if (len - pos < 8)
            return fail(p, WI_EFORMAT, NULL,
                        "truncated file: the size of storage '%s' is missing "
                        "at byte %zu",
                        st->key, pos);
        memcpy(&numel, d + pos, 8);
        if (p->swap)
            wi_priv_swap_elements(&numel, 8, 8);
        pos += 8;
        if (numel != (uint64_t)st->numel)
            return fail(p, WI_EFORMAT, NULL,
                        "storage '%s' has wrong size: expected %lld got %llu",
                        st->key, (long long)st->numel,
                        (unsigned long long)numel);
        if (storage_nbytes(p, st, &nbytes) < 0)
            return WI_EFORMAT;
        if (nbytes > len - pos)
            return fail(p, WI_EFORMAT, NULL,
                        "truncated file: storage '%s' needs %llu bytes at "
                        "byte %zu, only %zu left",
                        st->key, (unsigned long long)nbytes, pos, len - pos);
        p->sb[st->index].data = d + pos;
        p->sb[st->index].nbytes = (size_t)nbytes;
        pos += (size_t)nbytes;
    }
    return 0;
}

static int legacy_load(struct pth *p, const wi_priv_storage_t *st,
                       const char *key)
{
    return fail(p, WI_EFORMAT, key,
                "storage '%s' has no data in the file (missing from the "
                "storage key list)",
                st->key);
}

wi_state_dict_t *wi_priv_pth_legacy_select(wi_priv_blob_t *blob,
                                           const char *source,
                                           wi_priv_select_t *sel,
                                           wi_error_t *err)
{
    struct pth p = {.source = source, .blob = blob, .err = err, .sel = sel};
    p.cap = wi_priv_output_cap(blob->len);
    wi_state_dict_t *sd = NULL;
    wi_priv_pval_t *root, *keys;
    size_t pos = 0;
    if (!(p.vm = wi_priv_pickle_new())) {
        fail(&p, WI_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if (legacy_preamble(&p, &pos) < 0 ||
        run(&p, &pos, "legacy torch.save stream: object pickle", &root) < 0 ||
        run(&p, &pos, "legacy torch.save stream: storage key list", &keys) <
            0 ||
        alloc_sbytes(&p) < 0 || legacy_storages(&p, pos, keys) < 0)
        goto done;
    sd = extract(&p, root, legacy_load);
done:
    pth_free(&p);
    return sd;
}
