/* The safetensors reader: header and offsets checked by the reference
 * implementation's rules, then each selected tensor wrapped or copied;
 * or, for a write shared among processes, only the header's extents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <weightinit/checkpoint.h>
#include <weightinit/partition.h>

#include "checkpoint/checkpoint_internal.h"

/* safetensors' MAX_HEADER_SIZE. */
#define HEADER_MAX 100000000ull

struct entry {
    const char *name; /* borrowed from the JSON header */
    wi_dtype_t dtype;
    int ndim;
    int64_t shape[WI_MAX_DIMS];
    uint64_t begin, end, nbytes;
};

struct reader {
    wi_priv_blob_t *blob;
    const char *source;
    wi_error_t *err;
    uint64_t header_len;
    struct entry *entries;
    size_t n;
};

/* Every safetensors dtype name (tensor.rs), to tell "not supported by
 * weightinit" from "no such dtype". */
static const char *const known_dtypes[] = {
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3",
    "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
    "I32", "U32", "F32", "C64", "F64", "I64", "U64", NULL};

#define SUPPORTED "F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL"

static int fail(struct reader *r, int code, const char *name,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct reader *r, int code, const char *name,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wi_error_setv(r->err, code, r->source, name, fmt, ap);
    va_end(ap);
    return code;
}

/* The "not a safetensors file at all" explanation, when there is one. */
static const char *hint(const struct reader *r)
{
    const char *h = wi_priv_sniff_text(r->blob->data, r->blob->len);
    return h ? h : "not a safetensors file, or a corrupt one";
}

static int check_lengths(struct reader *r)
{
    const uint8_t *d = r->blob->data;
    size_t len = r->blob->len;
    if (len < 8)
        return fail(r, WI_EFORMAT, NULL,
                    "file is %zu bytes, too small for a safetensors header "
                    "(an 8-byte length, then JSON)%s%s",
                    len, len ? ": " : "", len ? hint(r) : "");
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | d[i];
    r->header_len = n;
    if (n > HEADER_MAX)
        return fail(r, WI_EFORMAT, NULL,
                    "safetensors header length %llu is larger than the "
                    "100000000-byte limit: %s",
                    (unsigned long long)n, hint(r));
    if (n > len - 8)
        return fail(r, WI_EFORMAT, NULL,
                    "safetensors header length %llu exceeds the file size "
                    "(%zu bytes): truncated download?",
                    (unsigned long long)n, len);
    return 0;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static int parse_metadata(struct reader *r, json_t *meta)
{
    const char *k;
    json_t *v;
    if (!json_is_object(meta))
        return fail(r, WI_EFORMAT, "__metadata__",
                    "safetensors __metadata__ is %s, expected an object of "
                    "strings",
                    json_kind(meta));
    json_object_foreach(meta, k, v) {
        if (!json_is_string(v))
            return fail(r, WI_EFORMAT, "__metadata__",
                        "safetensors __metadata__ value of '%s' is %s; "
                        "metadata values must be strings",
                        k, json_kind(v));
    }
    return 0;
}

static int parse_dtype(struct reader *r, struct entry *e, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return fail(r, WI_EFORMAT, e->name, "tensor dtype is %s, expected "
                                            "a string such as \"F32\"",
                    v ? json_kind(v) : "missing");
    if (wi_dtype_from_name(s, &e->dtype) == 0)
        return 0;
    for (const char *const *k = known_dtypes; *k; k++)
        if (strcmp(*k, s) == 0)
            return fail(r, WI_EUNSUPPORTED, e->name,
                        "tensor has dtype %s, which weightinit does not "
                        "support (supported: " SUPPORTED ")",
                        s);
    return fail(r, WI_EFORMAT, e->name,
                "tensor has unknown dtype '%.64s' (dtype names are "
                "case-sensitive: " SUPPORTED ", ...)",
                s);
}

/* A JSON integer >= 0, as the reference's usize fields. */
static int get_uint(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int parse_shape(struct reader *r, struct entry *e, json_t *v)
{
    if (!json_is_array(v))
        return fail(r, WI_EFORMAT, e->name, "tensor shape is %s, expected "
                                            "an array of integers",
                    v ? json_kind(v) : "missing");
    size_t nd = json_array_size(v);
    if (nd > WI_MAX_DIMS)
        return fail(r, WI_EUNSUPPORTED, e->name,
                    "tensor has %zu dimensions; weightinit supports at "
                    "most %d",
                    nd, WI_MAX_DIMS);
    e->ndim = (int)nd;
    uint64_t numel = 1, dim, bytes;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(v, i);
        if (get_uint(d, &dim) < 0)
            return fail(r, WI_EFORMAT, e->name,
                        "tensor shape[%zu] is %s, expected an integer >= 0",
                        i, json_is_integer(d) ? "negative" : json_kind(d));
        e->shape[i] = (int64_t)dim;
        if (__builtin_mul_overflow(numel, dim, &numel))
            return fail(r, WI_EFORMAT, e->name,
                        "tensor shape overflows 64 bits");
    }
    if (__builtin_mul_overflow(numel, (uint64_t)wi_dtype_size(e->dtype),
                               &bytes) ||
        numel > INT64_MAX)
        return fail(r, WI_EFORMAT, e->name,
                    "tensor byte size overflows 64 bits");
    e->nbytes = bytes;
    return 0;
}

static int parse_offsets(struct reader *r, struct entry *e, json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        get_uint(json_array_get(v, 0), &e->begin) < 0 ||
        get_uint(json_array_get(v, 1), &e->end) < 0)
        return fail(r, WI_EFORMAT, e->name,
                    "tensor data_offsets must be [begin, end], two integers "
                    ">= 0");
    if (e->end < e->begin)
        return fail(r, WI_EFORMAT, e->name,
                    "tensor data_offsets [%llu, %llu] end before they begin",
                    (unsigned long long)e->begin,
                    (unsigned long long)e->end);
    if (e->end - e->begin != e->nbytes) {
        char shape[128];
        wi_shape_format(e->ndim, e->shape, shape, sizeof shape);
        return fail(r, WI_EFORMAT, e->name,
                    "invalid shape, data type, or offset for tensor: %s %s "
                    "needs %llu bytes but data_offsets [%llu, %llu] hold "
                    "%llu",
                    wi_dtype_name(e->dtype), shape,
                    (unsigned long long)e->nbytes,
                    (unsigned long long)e->begin,
                    (unsigned long long)e->end,
                    (unsigned long long)(e->end - e->begin));
    }
    return 0;
}

static int parse_entry(struct reader *r, const char *name, json_t *info)
{
    struct entry *e = &r->entries[r->n];
    memset(e, 0, sizeof *e);
    e->name = name;
    if (!json_is_object(info))
        return fail(r, WI_EFORMAT, name,
                    "tensor header entry is %s, expected an object with "
                    "dtype, shape and data_offsets",
                    json_kind(info));
    int rc;
    if ((rc = parse_dtype(r, e, json_object_get(info, "dtype"))) < 0 ||
        (rc = parse_shape(r, e, json_object_get(info, "shape"))) < 0 ||
        (rc = parse_offsets(r, e, json_object_get(info, "data_offsets"))) < 0)
        return rc;
    r->n++;
    return 0;
}

static int by_offsets(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a;
    const struct entry *y = *(const struct entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Checks 6 and 10: sorted by offsets, the tensors tile the byte buffer
 * exactly: no overlap, no gap, nothing after the last one. */
static int check_tiling(struct reader *r)
{
    uint64_t avail = r->blob->len - 8 - r->header_len, pos = 0;
    const struct entry **order = malloc((r->n ? r->n : 1) * sizeof *order);
    if (!order)
        return fail(r, WI_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        order[i] = &r->entries[i];
    qsort(order, r->n, sizeof *order, by_offsets);
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        const struct entry *e = order[i];
        if (e->begin < pos)
            rc = fail(r, WI_EFORMAT, e->name,
                      "tensor data_offsets [%llu, %llu] overlap tensor '%s' "
                      "(which ends at %llu)",
                      (unsigned long long)e->begin,
                      (unsigned long long)e->end, order[i - 1]->name,
                      (unsigned long long)pos);
        else if (e->begin > pos)
            rc = fail(r, WI_EFORMAT, e->name,
                      "tensor data_offsets [%llu, %llu] leave a gap: the "
                      "previous tensor ends at %llu",
                      (unsigned long long)e->begin,
                      (unsigned long long)e->end, (unsigned long long)pos);
        pos = e->end;
    }
    free(order);
    if (rc == 0 && pos > avail)
        rc = fail(r, WI_EFORMAT, NULL,
                  "the header describes %llu bytes of tensor data but only "
                  "%llu follow it: truncated download?",
                  (unsigned long long)pos, (unsigned long long)avail);
    else if (rc == 0 && pos < avail)
        rc = fail(r, WI_EFORMAT, NULL,
                  "incomplete metadata, file not fully covered: %llu "
                  "trailing bytes after the last tensor",
                  (unsigned long long)(avail - pos));
    return rc;
}

static void release_blob(void *data, void *blob)
{
    (void)data;
    wi_priv_blob_unref(blob);
}

/* Wraps the mapped bytes when they can be used in place (aligned, host
 * order); copies otherwise. */
static wi_tensor_t *make_tensor(struct reader *r, const struct entry *e)
{
    uint8_t *src = r->blob->data + 8 + r->header_len + e->begin;
    size_t esize = wi_dtype_size(e->dtype);
    wi_tensor_t *t;
    if (e->nbytes && WI_HOST_LITTLE_ENDIAN && (uintptr_t)src % esize == 0) {
        wi_priv_blob_ref(r->blob);
        t = wi_tensor_wrap(e->dtype, e->ndim, e->shape, src, release_blob,
                           r->blob, r->err);
        if (!t)
            wi_priv_blob_unref(r->blob);
        return t;
    }
    t = wi_tensor_new(e->dtype, e->ndim, e->shape, r->err);
    if (t && e->nbytes) {
        memcpy(wi_tensor_data(t), src, (size_t)e->nbytes);
        if (!WI_HOST_LITTLE_ENDIAN)
            wi_priv_swap_elements(wi_tensor_data(t), (size_t)e->nbytes,
                                  esize);
    }
    return t;
}

static wi_state_dict_t *build(struct reader *r)
{
    wi_state_dict_t *sd = wi_state_dict_new();
    if (!sd) {
        fail(r, WI_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct entry *e = &r->entries[i];
        wi_tensor_t *t = make_tensor(r, e);
        if (!t || wi_state_dict_append_new(sd, e->name, t, r->err) < 0) {
            if (r->err) {
                snprintf(r->err->source, sizeof r->err->source, "%s",
                         r->source);
                snprintf(r->err->path, sizeof r->err->path, "%s", e->name);
            }
            wi_state_dict_free(sd);
            return NULL;
        }
    }
    return sd;
}

static int parse_header(struct reader *r, json_t **root)
{
    json_error_t jerr;
    *root = json_loadb((const char *)r->blob->data + 8, r->header_len,
                       JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        return fail(r, WI_EFORMAT, NULL,
                    "safetensors header is not valid JSON: %s (header byte "
                    "%d)",
                    jerr.text, jerr.position);
    if (!json_is_object(*root))
        return fail(r, WI_EFORMAT, NULL,
                    "safetensors header is %s, expected a JSON object",
                    json_kind(*root));
    size_t n = json_object_size(*root);
    r->entries = malloc((n ? n : 1) * sizeof *r->entries);
    if (!r->entries)
        return fail(r, WI_ENOMEM, NULL, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(*root, key, v) {
        int rc = strcmp(key, "__metadata__") == 0 ? parse_metadata(r, v)
                                                  : parse_entry(r, key, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A safetensors file is one flat dict: only the top level can be
 * selected. */
static int select_top(struct reader *r, wi_priv_select_t *sel, json_t *root)
{
    if (sel->mode == WI_SEL_KEY && sel->key && sel->key[0])
        return fail(r, WI_ENOTFOUND, sel->key,
                    "the checkpoint has no dict '%s': a safetensors file "
                    "holds one flat dict of tensors, the key ''",
                    sel->key);
    if (sel->mode != WI_SEL_ALL) {
        free(sel->chosen);
        return (sel->chosen = strdup("")) ? 0
                                          : fail(r, WI_ENOMEM, NULL,
                                                 "out of memory");
    }
    json_t *meta = json_object_get(root, "__metadata__");
    json_t *info = json_pack("{s:s, s:s, s:[], s:O?}", "format", "safetensors",
                             "kind", "dict", "structure", "metadata", meta);
    if (!info)
        return fail(r, WI_ENOMEM, NULL, "out of memory");
    json_decref(sel->info);
    sel->info = info;
    return 0;
}

wi_state_dict_t *wi_priv_safetensors_read(wi_priv_blob_t *blob,
                                          const char *source, wi_error_t *err)
{
    return wi_priv_safetensors_select(blob, source, NULL, err);
}

wi_state_dict_t *wi_priv_safetensors_select(wi_priv_blob_t *blob,
                                            const char *source,
                                            wi_priv_select_t *sel,
                                            wi_error_t *err)
{
    struct reader r = {blob, source, err, 0, NULL, 0};
    json_t *root = NULL;
    wi_state_dict_t *sd = NULL;
    if (check_lengths(&r) == 0 && parse_header(&r, &root) == 0 &&
        check_tiling(&r) == 0 && (!sel || select_top(&r, sel, root) == 0))
        sd = build(&r);
    free(r.entries);
    json_decref(root);
    return sd;
}

/* The extent of header entry e: sd's tensor of its name, whose dtype
 * and size must agree (the header was written for another model
 * otherwise). */
static int entry_extent(struct reader *r, const struct entry *e,
                        const wi_state_dict_t *sd, size_t file, wi_extent_t *out)
{
    const wi_tensor_t *t = wi_state_dict_find(sd, e->name);
    if (!t)
        return fail(r, WI_EFORMAT, e->name, "a tensor the state dict does not have");
    if (e->dtype != wi_tensor_dtype(t) || e->nbytes != wi_tensor_nbytes(t))
        return fail(r, WI_EFORMAT, e->name,
                    "the header says %s of %llu bytes, the state dict %s of %llu",
                    wi_dtype_name(e->dtype), (unsigned long long)e->nbytes,
                    wi_dtype_name(wi_tensor_dtype(t)),
                    (unsigned long long)wi_tensor_nbytes(t));
    *out = (wi_extent_t){t, file, 8 + r->header_len + e->begin};
    return 0;
}

int wi_extents_from_safetensors(int fd, const char *name, const wi_state_dict_t *sd,
                                size_t file, wi_extent_t **out, size_t *n,
                                wi_error_t *err)
{
    wi_priv_blob_t *blob = wi_priv_blob_map_fd(fd, name, err);
    if (!blob)
        return err ? err->code : WI_EIO;
    struct reader r = {blob, name, err, 0, NULL, 0};
    json_t *root = NULL;
    int rc = check_lengths(&r);
    if (rc == 0)
        rc = parse_header(&r, &root);
    if (rc == 0)
        rc = check_tiling(&r);
    wi_extent_t *grown = rc == 0 ? realloc(*out, (*n + r.n + 1) * sizeof *grown) : NULL;
    if (rc == 0 && !grown)
        rc = fail(&r, WI_ENOMEM, NULL, "out of memory");
    if (grown)
        *out = grown;
    for (size_t i = 0; rc == 0 && i < r.n; i++)
        if ((rc = entry_extent(&r, &r.entries[i], sd, file, &(*out)[*n])) == 0)
            ++*n;
    free(r.entries);
    json_decref(root);
    wi_priv_blob_unref(blob);
    return rc;
}
