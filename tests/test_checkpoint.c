/* Checkpoint readers: the conformance files (driven by their JSON
 * sidecars), then hostile files built in memory. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include <weightinit/checkpoint.h>

#include "util.h"

/* ---- helpers ---- */

struct buf {
    uint8_t *d;
    size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        ck_assert_ptr_nonnull(b->d);
    }
    if (n)
        memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_le(struct buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        put(b, &c, 1);
    }
}

static void op(struct buf *b, int c)
{
    uint8_t u = (uint8_t)c;
    put(b, &u, 1);
}

static void pk_str(struct buf *b, const char *s)
{
    op(b, 'X');
    put_le(b, strlen(s), 4);
    put(b, s, strlen(s));
}

static void pk_int(struct buf *b, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        op(b, 'J');
        put_le(b, (uint64_t)v, 4);
    } else {
        op(b, 0x8a);
        op(b, 8);
        put_le(b, (uint64_t)v, 8);
    }
}

static void pk_global(struct buf *b, const char *module, const char *name)
{
    op(b, 'c');
    put(b, module, strlen(module));
    op(b, '\n');
    put(b, name, strlen(name));
    op(b, '\n');
}

static void pk_ints(struct buf *b, int n, const int64_t *v)
{
    op(b, '(');
    for (int i = 0; i < n; i++)
        pk_int(b, v[i]);
    op(b, 't');
}

struct tspec {
    const char *stype, *key;
    int64_t numel, offset;
    int ndim;
    int64_t size[4], stride[4];
};

/* _rebuild_tensor_v2(persistent id, offset, size, stride, False,
 * OrderedDict()) with a 5-field (zip) or 6-field (legacy) id. */
/* The argument tuple of _rebuild_tensor_v2. */
static void pk_tensor_args(struct buf *b, const struct tspec *t, int pid_len)
{
    op(b, '(');
    op(b, '(');
    pk_str(b, "storage");
    pk_global(b, "torch", t->stype);
    pk_str(b, t->key);
    pk_str(b, "cpu");
    pk_int(b, t->numel);
    if (pid_len == 6)
        op(b, 'N');
    op(b, 't');
    op(b, 'Q');
    pk_int(b, t->offset);
    pk_ints(b, t->ndim, t->size);
    pk_ints(b, t->ndim, t->stride);
    op(b, 0x89);
    pk_global(b, "collections", "OrderedDict");
    op(b, ')');
    op(b, 'R');
    op(b, 't');
}

static void pk_tensor(struct buf *b, const struct tspec *t, int pid_len)
{
    pk_global(b, "torch._utils", "_rebuild_tensor_v2");
    pk_tensor_args(b, t, pid_len);
    op(b, 'R');
}

static void pk_odict_begin(struct buf *b)
{
    op(b, 0x80);
    op(b, 2);
    pk_global(b, "collections", "OrderedDict");
    op(b, ')');
    op(b, 'R');
    op(b, '(');
}

static void pk_odict_end(struct buf *b)
{
    op(b, 'u');
    op(b, '.');
}

/* A legacy torch.save stream around an object pickle; storages[i] is
 * keys[i]'s element count and bytes.  nst -1: the object pickle ends the
 * stream (no key list). */
struct lstorage {
    const char *key;
    int64_t numel;
    const void *data;
    size_t nbytes;
};

static void legacy(struct buf *out, const struct buf *obj,
                   const struct lstorage *st, int nst, int little)
{
    static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc,
                                    0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8,
                                    0x50, 0x19, '.'};
    static const uint8_t proto[] = {0x80, 0x02, 'M', 0xe9, 0x03, '.'};
    put(out, magic, sizeof magic);
    put(out, proto, sizeof proto);
    op(out, 0x80);
    op(out, 2);
    op(out, '}');
    pk_str(out, "little_endian");
    op(out, little ? 0x88 : 0x89);
    op(out, 's');
    op(out, '.');
    put(out, obj->d, obj->n);
    if (nst < 0)
        return;
    op(out, 0x80);
    op(out, 2);
    op(out, ']');
    op(out, '(');
    for (int i = 0; i < nst; i++)
        pk_str(out, st[i].key);
    op(out, 'e');
    op(out, '.');
    for (int i = 0; i < nst; i++) {
        uint64_t n = (uint64_t)st[i].numel;
        if (!little)
            n = __builtin_bswap64(n);
        put(out, &n, 8);
        put(out, st[i].data, st[i].nbytes);
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

struct zentry {
    const char *name;
    const void *data;
    size_t n;
};

/* A minimal STORED zip (what torch writes, minus the alignment). */
static void zip(struct buf *out, const struct zentry *e, int n)
{
    struct buf cd = {0};
    for (int i = 0; i < n; i++) {
        uint32_t crc = crc32(e[i].data, e[i].n);
        size_t ofs = out->n, nl = strlen(e[i].name);
        put_le(out, 0x04034b50, 4);
        put_le(out, 20, 2);
        put_le(out, 0, 2);
        put_le(out, 0, 2);
        put_le(out, 0, 2);
        put_le(out, 0x21, 2);
        put_le(out, crc, 4);
        put_le(out, e[i].n, 4);
        put_le(out, e[i].n, 4);
        put_le(out, nl, 2);
        put_le(out, 0, 2);
        put(out, e[i].name, nl);
        put(out, e[i].data, e[i].n);
        put_le(&cd, 0x02014b50, 4);
        put_le(&cd, 20, 2);
        put_le(&cd, 20, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0x21, 2);
        put_le(&cd, crc, 4);
        put_le(&cd, e[i].n, 4);
        put_le(&cd, e[i].n, 4);
        put_le(&cd, nl, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 2);
        put_le(&cd, 0, 4);
        put_le(&cd, ofs, 4);
        put(&cd, e[i].name, nl);
    }
    size_t cd_ofs = out->n;
    put(out, cd.d, cd.n);
    put_le(out, 0x06054b50, 4);
    put_le(out, 0, 2);
    put_le(out, 0, 2);
    put_le(out, (uint64_t)n, 2);
    put_le(out, (uint64_t)n, 2);
    put_le(out, cd.n, 4);
    put_le(out, cd_ofs, 4);
    put_le(out, 0, 2);
    free(cd.d);
}

static char *tmpdir;

static void setup(void) { tmpdir = wi_test_mkdtemp(); }

static void teardown(void)
{
    wi_test_rmtree(tmpdir);
    free(tmpdir);
}

/* Writes the bytes to a file in the temp folder; returns its path. */
static const char *write_tmp(const char *name, const void *d, size_t n)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(d, 1, n, f), n);
    fclose(f);
    return path;
}

static wi_state_dict_t *load_bytes(const void *d, size_t n, wi_error_t *err)
{
    return wi_checkpoint_load(write_tmp("ckpt", d, n), err);
}

static wi_state_dict_t *load_ok(const void *d, size_t n)
{
    wi_error_t err;
    char msg[1024];
    wi_error_clear(&err);
    wi_state_dict_t *sd = load_bytes(d, n, &err);
    ck_assert_msg(sd, "load failed: %s",
                  wi_error_format(&err, msg, sizeof msg));
    return sd;
}

/* The load fails with a one-line message containing one of words
 * (case-insensitive, '|'-separated). */
static void check_error_msg(const wi_error_t *err, const char *words)
{
    char msg[1024], w[256];
    wi_error_format(err, msg, sizeof msg);
    if (getenv("WI_TEST_VERBOSE"))
        printf("  error: %s\n", msg);
    ck_assert_msg(err->code < 0, "no error code for: %s", msg);
    ck_assert_msg(!strchr(msg, '\n'), "message is not one line: %s", msg);
    snprintf(w, sizeof w, "%s", words);
    for (char *save, *tok = strtok_r(w, "|", &save); tok;
         tok = strtok_r(NULL, "|", &save))
        if (strcasestr(msg, tok))
            return;
    ck_abort_msg("message '%s' mentions none of '%s'", msg, words);
}

static void load_fails(const void *d, size_t n, const char *words)
{
    wi_error_t err;
    wi_error_clear(&err);
    wi_state_dict_t *sd = load_bytes(d, n, &err);
    ck_assert_msg(!sd, "hostile file loaded (expected: %s)", words);
    check_error_msg(&err, words);
}

static void ck_floats(const wi_state_dict_t *sd, const char *name,
                      const float *want, size_t n)
{
    wi_tensor_t *t = wi_state_dict_find(sd, name);
    ck_assert_msg(t, "no tensor '%s'", name);
    ck_assert_int_eq(wi_tensor_dtype(t), WI_DTYPE_F32);
    ck_assert_int_eq(wi_tensor_numel(t), (int64_t)n);
    const float *got = wi_tensor_const_data(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s[%zu] = %g, want %g", name, i,
                      (double)got[i], (double)want[i]);
}

/* ---- the conformance files ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_ok_sidecar(const char *file, json_t *side)
{
    char *path = wi_test_data_path(file);
    wi_error_t err;
    char msg[1024];
    wi_error_clear(&err);
    wi_state_dict_t *sd = wi_checkpoint_load(path, &err);
    ck_assert_msg(sd, "%s: %s", file, wi_error_format(&err, msg, sizeof msg));
    json_t *tensors = json_object_get(side, "tensors");
    ck_assert_uint_eq(wi_state_dict_size(sd), json_array_size(tensors));
    size_t i;
    json_t *want;
    json_array_foreach(tensors, i, want) {
        json_t *kif = json_object_get(want, "key_in_file");
        const char *name = json_string_value(
            kif ? kif : json_object_get(want, "name"));
        ck_assert_str_eq(wi_state_dict_name(sd, i), name);
        wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        ck_assert_str_eq(wi_dtype_name(wi_tensor_dtype(t)),
                         json_string_value(json_object_get(want, "dtype")));
        json_t *shape = json_object_get(want, "shape");
        ck_assert_int_eq(wi_tensor_ndim(t), (int)json_array_size(shape));
        for (size_t d = 0; d < json_array_size(shape); d++)
            ck_assert_int_eq(wi_tensor_shape(t)[d],
                             json_integer_value(json_array_get(shape, d)));
        char hex[65];
        wi_test_sha256_hex(wi_tensor_const_data(t), wi_tensor_nbytes(t), hex);
        ck_assert_msg(strcmp(hex, json_string_value(json_object_get(
                                      want, "sha256"))) == 0,
                      "%s %s: sha256 differs", file, name);
    }
    wi_state_dict_free(sd);
    free(path);
}

static void check_error_sidecar(const char *file, json_t *side)
{
    char *path = wi_test_data_path(file);
    wi_error_t err;
    char words[512] = "";
    wi_error_clear(&err);
    wi_state_dict_t *sd = wi_checkpoint_load(path, &err);
    ck_assert_msg(!sd, "%s: hostile file loaded", file);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(side, "error_mentions_any"), i, w) {
        strncat(words, json_string_value(w), sizeof words - strlen(words) - 2);
        strcat(words, "|");
    }
    check_error_msg(&err, words);
    free(path);
}

START_TEST(conformance_sidecars)
{
    char *dir = wi_test_data_path("checkpoints");
    DIR *dp = opendir(dir);
    ck_assert_ptr_nonnull(dp);
    char *names[256];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dp)) && n < 256;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, n, sizeof *names, by_name);
    ck_assert_uint_ge(n, 9);
    for (size_t i = 0; i < n; i++) {
        char rel[600];
        snprintf(rel, sizeof rel, "checkpoints/%s", names[i]);
        json_t *side = wi_test_load_json(rel);
        const char *file = json_string_value(json_object_get(side, "file"));
        const char *expect = json_string_value(json_object_get(side, "expect"));
        snprintf(rel, sizeof rel, "checkpoints/%s", file);
        if (strcmp(expect, "ok") == 0)
            check_ok_sidecar(rel, side);
        else
            check_error_sidecar(rel, side);
        json_decref(side);
        free(names[i]);
    }
    free(dir);
}
END_TEST

/* ---- safetensors ---- */

/* 8-byte length (n, or the header's own length when n is -1), header,
 * then data bytes. */
static struct buf st_file(const char *hdr, int64_t n, const void *data,
                          size_t nd)
{
    struct buf b = {0};
    put_le(&b, n < 0 ? strlen(hdr) : (uint64_t)n, 8);
    put(&b, hdr, strlen(hdr));
    put(&b, data, nd);
    return b;
}

static const float four[4] = {1, 2, 3, 4};

static void st_fails(const char *hdr, size_t nd, const char *words)
{
    uint8_t data[64] = {0};
    ck_assert_uint_le(nd, sizeof data);
    struct buf b = st_file(hdr, -1, data, nd);
    load_fails(b.d, b.n, words);
    free(b.d);
}

#define F32(name, shape, b, e)                                               \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape                       \
    ",\"data_offsets\":[" #b "," #e "]}"

START_TEST(safetensors_ok_edge_cases)
{
    /* empty header, leading/trailing whitespace, rank 0, empty tensor,
     * a misaligned F32 after 3 bytes of U8 (copied, not wrapped) */
    struct buf b = st_file("{}", -1, NULL, 0);
    wi_state_dict_t *sd = load_ok(b.d, b.n);
    ck_assert_uint_eq(wi_state_dict_size(sd), 0);
    wi_state_dict_free(sd);
    free(b.d);

    uint8_t data[3 + 4 + 4] = {7, 8, 9};
    float x = 2.5f, y = -1.0f;
    memcpy(data + 3, &x, 4);
    memcpy(data + 7, &y, 4);
    b = st_file(" \n{\"__metadata__\":{\"format\":\"pt\"},"
                "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[3,7]},"
                "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[7,7]},"
                "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[7,11],"
                "\"extra\":1}}   ",
                -1, data, sizeof data);
    sd = load_ok(b.d, b.n);
    ck_assert_uint_eq(wi_state_dict_size(sd), 4);
    ck_assert_str_eq(wi_state_dict_name(sd, 0), "u");
    ck_assert_str_eq(wi_state_dict_name(sd, 3), "v");
    ck_assert_int_eq(((uint8_t *)wi_tensor_data(wi_state_dict_tensor(sd, 0)))[2], 9);
    ck_floats(sd, "s", &x, 1);
    ck_assert_int_eq(wi_tensor_ndim(wi_state_dict_find(sd, "s")), 0);
    ck_assert_int_eq(wi_tensor_numel(wi_state_dict_find(sd, "e")), 0);
    ck_floats(sd, "v", &y, 1);
    free(b.d);
    /* tensors outlive the mapping's other users */
    wi_state_dict_free(sd);

    b = st_file("{" F32("a", "[4]", 0, 16) "}", -1, four, sizeof four);
    sd = load_ok(b.d, b.n);
    ck_floats(sd, "a", four, 4);
    wi_state_dict_free(sd);
    free(b.d);
}
END_TEST

START_TEST(safetensors_hostile)
{
    struct buf b;
    /* header length 1 TiB, and 2^64 - 1 */
    b = st_file("{}", (int64_t)1 << 40, NULL, 0);
    load_fails(b.d, b.n, "100000000");
    free(b.d);
    b = st_file("{}", -1, NULL, 0);
    memset(b.d, 0xff, 8);
    load_fails(b.d, b.n, "limit");
    free(b.d);
    /* header length beyond the end of the file */
    b = st_file("{}  ", 1000, NULL, 0);
    load_fails(b.d, b.n, "exceeds the file size");
    free(b.d);
    /* truncated JSON header */
    st_fails("{\"a\":{\"dtype\":\"F32\"", 0, "not valid JSON");
    st_fails(" [1, 2]", 0, "expected a JSON object");
    /* overlap, gap, trailing bytes, truncated data */
    st_fails("{" F32("a", "[2]", 0, 8) "," F32("b", "[2]", 4, 12) "}", 12,
             "overlap");
    st_fails("{" F32("a", "[2]", 0, 8) "," F32("b", "[2]", 12, 20) "}", 20,
             "gap");
    st_fails("{" F32("a", "[2]", 0, 8) "}", 12, "trailing");
    st_fails("{" F32("a", "[2]", 0, 8) "}", 4, "truncated");
    st_fails("{" F32("a", "[2]", 0, 8) "," F32("b", "[2]", 0, 8) "}", 8,
             "overlap");
    /* shape/size disagreement, end before begin */
    st_fails("{" F32("a", "[3]", 0, 8) "}", 8, "needs 12 bytes");
    st_fails("{" F32("a", "[0]", 8, 0) "}", 8, "end before");
    /* duplicate keys (stricter than the reference, which keeps the last) */
    st_fails("{" F32("a", "[2]", 0, 8) "," F32("a", "[2]", 0, 8) "}", 8,
             "duplicate");
    /* metadata must be string -> string */
    st_fails("{\"__metadata__\":{\"n\":1}}", 0, "__metadata__");
    st_fails("{\"__metadata__\":[]}", 0, "__metadata__");
    /* dtypes: unknown, known but unsupported, missing */
    st_fails("{\"w\":{\"dtype\":\"f32\",\"shape\":[],\"data_offsets\":[0,4]}}",
             4, "unknown dtype");
    st_fails("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],"
             "\"data_offsets\":[0,1]}}",
             1, "w: tensor has dtype F8_E4M3");
    st_fails("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "dtype");
    /* bad shapes and offsets */
    st_fails("{" F32("w", "[-1]", 0, 0) "}", 0, "shape[0]");
    st_fails("{" F32("w", "[2.0]", 0, 8) "}", 8, "shape[0]");
    st_fails("{" F32("w", "[4611686018427387904,4611686018427387904]", 0, 0)
             "}", 0, "overflow");
    st_fails("{" F32("w", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", 4, "dimensions");
    st_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
             4, "data_offsets");
    st_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
             "\"data_offsets\":[0,99999999999999999999]}}",
             4, "JSON");
    st_fails("{\"w\":3}", 0, "expected an object");
}
END_TEST

START_TEST(not_a_checkpoint)
{
    static const char lfs[] =
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 102502400\n";
    load_fails(lfs, strlen(lfs), "git-lfs");
    static const char html[] = "<!DOCTYPE html>\n<html><body>404</body></html>";
    load_fails(html, strlen(html), "HTML");
    static const char html2[] = "<html>\n  <head><title>Login</title>";
    load_fails(html2, strlen(html2), "HTML");
    load_fails("", 0, "empty");
    load_fails("abc", 3, "truncated");
    load_fails("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10, "gzip");

    wi_error_t err;
    char path[1024];
    snprintf(path, sizeof path, "%s/missing.pth", tmpdir);
    ck_assert_ptr_null(wi_checkpoint_load(path, &err));
    check_error_msg(&err, "missing.pth can not be found.");
    ck_assert_int_eq(err.code, WI_EFILE);
    ck_assert_ptr_null(wi_checkpoint_load(tmpdir, &err));
    check_error_msg(&err, "directory");
}
END_TEST

/* ---- pickles (in legacy streams and hand-made zips) ---- */

static const float six[6] = {0, 1, 2, 3, 4, 5};

/* A legacy file whose object pickle is obj, with storage "k" = six
 * (nst 1) or none (nst 0); nst -1 leaves out the key list and storages,
 * so that the object pickle ends the file. */
static void legacy_fails_n(const struct buf *obj, int nst, const char *words)
{
    struct lstorage st = {"k", 6, six, sizeof six};
    struct buf b = {0};
    legacy(&b, obj, &st, nst, 1);
    load_fails(b.d, b.n, words);
    free(b.d);
}

static void legacy_fails(const struct buf *obj, const char *words)
{
    legacy_fails_n(obj, 1, words);
}

static void tensor_fails(const struct tspec *t, const char *words)
{
    struct buf obj = {0};
    pk_odict_begin(&obj);
    pk_str(&obj, "w");
    pk_tensor(&obj, t, 6);
    pk_odict_end(&obj);
    legacy_fails(&obj, words);
    free(obj.d);
}

START_TEST(legacy_views)
{
    /* w: the transpose of a 2x3 view (strides 1, 3); v: offset 4, 2
     * elements; c: stride 0 (an expanded scalar); z: empty; the int is
     * skipped; i: I64 */
    struct tspec w = {"FloatStorage", "k", 6, 0, 2, {3, 2}, {1, 3}};
    struct tspec v = {"FloatStorage", "k", 6, 4, 1, {2}, {1}};
    struct tspec c = {"FloatStorage", "k", 6, 5, 2, {2, 2}, {0, 0}};
    struct tspec z = {"FloatStorage", "k", 6, 99, 2, {0, 3}, {3, 1}};
    struct tspec i64 = {"LongStorage", "j", 2, 1, 0, {0}, {0}};
    /* a size-1 dimension may have any stride (torch ignores it) */
    struct tspec s1 = {"FloatStorage", "k", 6, 1, 2, {1, 2}, {INT64_MAX, 1}};
    struct buf obj = {0}, b = {0};
    pk_odict_begin(&obj);
    pk_str(&obj, "w");
    pk_tensor(&obj, &w, 6);
    pk_str(&obj, "n");
    pk_int(&obj, 3);
    pk_str(&obj, "v");
    pk_tensor(&obj, &v, 6);
    pk_str(&obj, "c");
    pk_tensor(&obj, &c, 6);
    pk_str(&obj, "z");
    pk_tensor(&obj, &z, 6);
    pk_str(&obj, "i");
    pk_tensor(&obj, &i64, 6);
    pk_str(&obj, "s1");
    pk_tensor(&obj, &s1, 6);
    pk_odict_end(&obj);
    int64_t longs[2] = {-7, 1234567890123};
    struct lstorage st[2] = {{"j", 2, longs, sizeof longs},
                             {"k", 6, six, sizeof six}};
    legacy(&b, &obj, st, 2, 1);
    wi_state_dict_t *sd = load_ok(b.d, b.n);
    ck_assert_uint_eq(wi_state_dict_size(sd), 6);
    const float wt[6] = {0, 3, 1, 4, 2, 5}, vt[2] = {4, 5},
                ct[4] = {5, 5, 5, 5}, s1t[2] = {1, 2};
    ck_floats(sd, "s1", s1t, 2);
    ck_floats(sd, "w", wt, 6);
    ck_floats(sd, "v", vt, 2);
    ck_floats(sd, "c", ct, 4);
    ck_assert_int_eq(wi_tensor_numel(wi_state_dict_find(sd, "z")), 0);
    ck_assert_ptr_null(wi_state_dict_find(sd, "n"));
    wi_tensor_t *ti = wi_state_dict_find(sd, "i");
    ck_assert_int_eq(wi_tensor_dtype(ti), WI_DTYPE_I64);
    ck_assert_int_eq(*(int64_t *)wi_tensor_data(ti), 1234567890123);
    wi_state_dict_free(sd);
    free(b.d);

    /* the same, saved big-endian */
    float six_be[6];
    memcpy(six_be, six, sizeof six);
    for (int k = 0; k < 6; k++) {
        uint32_t u;
        memcpy(&u, &six_be[k], 4);
        u = __builtin_bswap32(u);
        memcpy(&six_be[k], &u, 4);
    }
    int64_t longs_be[2] = {(int64_t)__builtin_bswap64((uint64_t)longs[0]),
                           (int64_t)__builtin_bswap64((uint64_t)longs[1])};
    struct lstorage st_be[2] = {{"j", 2, longs_be, sizeof longs},
                                {"k", 6, six_be, sizeof six}};
    b = (struct buf){0};
    legacy(&b, &obj, st_be, 2, 0);
    sd = load_ok(b.d, b.n);
    ck_floats(sd, "w", wt, 6);
    ck_assert_int_eq(*(int64_t *)wi_tensor_data(wi_state_dict_find(sd, "i")),
                     1234567890123);
    wi_state_dict_free(sd);
    free(b.d);
    free(obj.d);
}
END_TEST

START_TEST(legacy_hostile_stream)
{
    struct buf obj = {0}, b = {0};
    struct lstorage st = {"k", 6, six, sizeof six};
    struct tspec w = {"FloatStorage", "k", 6, 0, 1, {6}, {1}};
    pk_odict_begin(&obj);
    pk_str(&obj, "w");
    pk_tensor(&obj, &w, 6);
    pk_odict_end(&obj);

    /* the storage bytes cut short, then the element count wrong */
    legacy(&b, &obj, &st, 1, 1);
    load_fails(b.d, b.n - 1, "truncated");
    load_fails(b.d, b.n - 24, "truncated");
    /* the object pickle cut inside a string */
    load_fails(b.d, 60, "truncated");
    free(b.d);
    b = (struct buf){0};
    st.numel = 5;
    legacy(&b, &obj, &st, 1, 1);
    load_fails(b.d, b.n, "wrong size");
    free(b.d);
    /* bad magic number */
    b = (struct buf){0};
    st.numel = 6;
    legacy(&b, &obj, &st, 1, 1);
    b.d[13] ^= 1;
    load_fails(b.d, b.n, "magic");
    free(b.d);
    /* storage key list naming an unknown storage */
    b = (struct buf){0};
    st.key = "nope";
    legacy(&b, &obj, &st, 1, 1);
    load_fails(b.d, b.n, "not a storage");
    free(b.d);
    free(obj.d);
}
END_TEST

/* bytes as the object pickle of a legacy file with no storages; as the
 * end of the file when truncated. */
static void raw_fails(const char *bytes, size_t n, const char *words)
{
    struct buf obj = {0};
    put(&obj, bytes, n);
    legacy_fails_n(&obj, strstr(words, "truncated") || strstr(words, "STOP")
                             ? -1 : 0,
                   words);
    free(obj.d);
}

/* A string literal's bytes, without the terminating NUL. */
#define RAW(lit, words) raw_fails(lit, sizeof(lit) - 1, words)

START_TEST(pickle_hostile_opcodes)
{
    RAW("\x80\x02h\x05.", "bad memo index");
    RAW("\x80\x02j\x00\x00\x01\x00.", "bad memo index");
    RAW("\x80\x02N\x72\xff\xff\xff\xff.", "out of range");
    RAW("\x80\x02R.", "underflow");
    RAW("\x80\x02N\x86.", "underflow");
    RAW("\x80\x02N(s.", "underflow");
    RAW("\x80\x02.", "underflow");
    RAW("\x80\x02t.", "without a MARK");
    RAW("\x80\x02\xff.", "unknown pickle opcode 0xff");
    RAW("\x80\x02" "C\x01x.", "SHORT_BINBYTES");
    RAW("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00.", "FRAME");
    RAW("\x80\x02X\xff\xff\xff\x7f", "truncated");
    RAW("\x80\x02X\x02\x00\x00\x00\xc3\x28.", "UTF-8");
    RAW("\x80\x02K", "truncated");
    RAW("\x80\x02" "cos\n", "truncated");
    RAW("\x80\x02N", "before STOP");
    RAW("\x80\x09N.", "protocol");
    RAW("\x80\x02K\x01K\x01K\x02s.", "SETITEM on an int");
    RAW("\x80\x02}K\x01" "b.", "BUILD on a dict");
    RAW("\x80\x02K\x01)R.", "not callable");
    RAW("\x80\x02(K\x01\x85Q.", "persistent id");
    /* deep nesting */
    struct buf obj = {0};
    op(&obj, 0x80);
    op(&obj, 2);
    for (int i = 0; i < 5000; i++)
        op(&obj, '(');
    legacy_fails_n(&obj, -1, "nesting");
    free(obj.d);
    /* a huge dict that Python's recursion limit could never produce is
     * still just data: 100000 entries, no tensors, loads empty */
    obj = (struct buf){0};
    op(&obj, 0x80);
    op(&obj, 2);
    op(&obj, '}');
    op(&obj, '(');
    for (int i = 0; i < 100000; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        pk_str(&obj, k);
        op(&obj, 'N');
    }
    op(&obj, 'u');
    op(&obj, '.');
    struct lstorage st = {"k", 6, six, sizeof six};
    struct buf b = {0};
    /* no persistent id names "k": the key list refers to nothing */
    legacy(&b, &obj, &st, 0, 1);
    wi_state_dict_t *sd = load_ok(b.d, b.n);
    ck_assert_uint_eq(wi_state_dict_size(sd), 0);
    wi_state_dict_free(sd);
    free(b.d);
    free(obj.d);
}
END_TEST

START_TEST(pickle_hostile_tensors)
{
    /* storage too small for size/stride/offset */
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 3, 1, {4}, {1}},
                 "reaches element 6");
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 0, 2, {2, 3}, {4, 1}},
                 "holds only 6");
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 6, 0, {0}, {0}},
                 "reaches element 6");
    /* checked arithmetic */
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 0, 2, {2, 2},
                                 {(int64_t)1 << 62, 1}},
                 "overflows|reaches");
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 0, 2,
                                 {(int64_t)1 << 40, (int64_t)1 << 40},
                                 {0, 0}},
                 "overflows");
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, INT64_MAX, 1, {2},
                                 {1}},
                 "overflows");
    /* negative size, stride, offset */
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 0, 1, {-1}, {1}},
                 "size[0] is -1");
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 5, 1, {2}, {-1}},
                 "stride[0] is -1");
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, -1, 1, {1}, {1}},
                 "offset -1 is negative");
    /* a stride-0 view that would need 4 GiB from a 24-byte storage */
    tensor_fails(&(struct tspec){"FloatStorage", "k", 6, 0, 1,
                                 {(int64_t)1 << 30}, {0}},
                 "refusing");
    /* not a storage type */
    tensor_fails(&(struct tspec){"Tensor", "k", 6, 0, 1, {6}, {1}},
                 "not a torch storage type");
    /* the persistent id says 8 elements, the file holds 6 */
    tensor_fails(&(struct tspec){"FloatStorage", "k", 8, 0, 1, {8}, {1}},
                 "wrong size");
}
END_TEST

START_TEST(pickle_globals_and_selection)
{
    struct tspec w = {"FloatStorage", "k", 6, 0, 1, {6}, {1}};
    struct tspec cf = {"ComplexFloatStorage", "c", 3, 0, 1, {3}, {1}};
    struct buf obj = {0};
    /* {'meta': numpy-ish object, 'optimizer': complex tensor,
     *  'state_dict': OrderedDict(w=...)} loads w only */
    op(&obj, 0x80);
    op(&obj, 2);
    op(&obj, '}');
    op(&obj, '(');
    pk_str(&obj, "meta");
    pk_global(&obj, "numpy.core.multiarray", "scalar");
    pk_str(&obj, "f8");
    op(&obj, 0x85);
    op(&obj, 'R');
    op(&obj, '}');
    op(&obj, 'b');
    pk_str(&obj, "optimizer");
    pk_tensor(&obj, &cf, 6);
    pk_str(&obj, "state_dict");
    op(&obj, '}');
    pk_str(&obj, "w");
    pk_tensor(&obj, &w, 6);
    op(&obj, 's');
    op(&obj, 'u');
    op(&obj, '.');
    struct lstorage st[2] = {{"c", 3, six, sizeof six},
                             {"k", 6, six, sizeof six}};
    struct buf b = {0};
    legacy(&b, &obj, st, 2, 1);
    wi_state_dict_t *sd = load_ok(b.d, b.n);
    ck_assert_uint_eq(wi_state_dict_size(sd), 1);
    ck_floats(sd, "w", six, 6);
    wi_state_dict_free(sd);
    free(b.d);
    free(obj.d);

    /* an opaque object in the state dict */
    obj = (struct buf){0};
    pk_odict_begin(&obj);
    pk_str(&obj, "w");
    pk_global(&obj, "numpy", "ndarray");
    op(&obj, ')');
    op(&obj, 0x81);
    pk_odict_end(&obj);
    legacy_fails_n(&obj, 0, "'numpy ndarray', which is not allowed");
    free(obj.d);

    /* state_dict is an opaque call, a list; the root is a list */
    RAW("\x80\x02}X\x0a\x00\x00\x00state_dictcfoo\nbar\n)Rs.", "'foo bar', which is not allowed");
    RAW("\x80\x02}X\x0a\x00\x00\x00state_dict]s.", "is a list");
    RAW("\x80\x02].", "no state_dict found");
    RAW("\x80\x02" "ctorch.nn\nLinear\n)\x81}b.", "'torch.nn Linear'");
    /* code-running globals are refused anywhere in the file */
    RAW("\x80\x02}X\x01\x00\x00\x00m" "cposix\nsystem\n"
              "X\x04\x00\x00\x00true\x85Rs.", "'posix system' is not allowed");
    RAW("\x80\x02" "c__builtin__\neval\n.", "not allowed");
    /* _rebuild_from_type_v2(_rebuild_tensor_v2, Tensor, args, state) is
     * the tensor; the same with a subclass, or _rebuild_tensor_v3, is
     * refused with the global's name */
    for (int sub = 0; sub < 3; sub++) {
        obj = (struct buf){0};
        pk_odict_begin(&obj);
        pk_str(&obj, "w");
        if (sub == 2) {
            pk_global(&obj, "torch._utils", "_rebuild_tensor_v3");
            pk_tensor_args(&obj, &w, 6);
        } else {
            pk_global(&obj, "torch._tensor", "_rebuild_from_type_v2");
            op(&obj, '(');
            pk_global(&obj, "torch._utils", "_rebuild_tensor_v2");
            pk_global(&obj, sub ? "my.module" : "torch", sub ? "MyTensor"
                                                             : "Tensor");
            pk_tensor_args(&obj, &w, 6);
            op(&obj, '}');
            op(&obj, 't');
        }
        op(&obj, 'R');
        pk_odict_end(&obj);
        b = (struct buf){0};
        legacy(&b, &obj, st + 1, 1, 1);
        if (sub == 0) {
            sd = load_ok(b.d, b.n);
            ck_floats(sd, "w", six, 6);
            wi_state_dict_free(sd);
        } else {
            load_fails(b.d, b.n, sub == 1 ? "'my.module MyTensor'"
                                          : "'torch._utils _rebuild_tensor_v3',"
                                            " which weightinit does not "
                                            "support");
        }
        free(b.d);
        free(obj.d);
    }
    /* a storage type weightinit cannot hold, asked for */
    obj = (struct buf){0};
    pk_odict_begin(&obj);
    pk_str(&obj, "z");
    pk_tensor(&obj, &cf, 6);
    pk_odict_end(&obj);
    b = (struct buf){0};
    legacy(&b, &obj, st, 1, 1);
    load_fails(b.d, b.n, "z: tensor has storage type torch.ComplexFloatStorage");
    free(b.d);
    free(obj.d);
    /* keys must be strings */
    RAW("\x80\x02}K\x01N" "s.", "key number 0 is an int");
}
END_TEST

/* A zip around data.pkl and storage records, folder "archive/". */
static void zip_with(struct buf *out, const struct buf *pkl,
                     const char *byteorder, const void *data, size_t n,
                     const char *data_name)
{
    struct zentry e[4] = {{"archive/data.pkl", pkl->d, pkl->n}};
    int k = 1;
    if (byteorder)
        e[k++] = (struct zentry){"archive/byteorder", byteorder,
                                 strlen(byteorder)};
    if (data)
        e[k++] = (struct zentry){data_name, data, n};
    e[k++] = (struct zentry){"archive/version", "3\n", 2};
    zip(out, e, k);
}

START_TEST(zip_cases)
{
    struct tspec w = {"FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}};
    struct buf pkl = {0}, b = {0};
    pk_odict_begin(&pkl);
    pk_str(&pkl, "module.w");
    pk_tensor(&pkl, &w, 5);
    pk_odict_end(&pkl);

    zip_with(&b, &pkl, "little", six, sizeof six, "archive/data/0");
    wi_state_dict_t *sd = load_ok(b.d, b.n);
    ck_floats(sd, "module.w", six, 6); /* keys are not stripped */
    wi_state_dict_free(sd);
    free(b.d);

    float six_be[6];
    for (int k = 0; k < 6; k++) {
        uint32_t u;
        memcpy(&u, &six[k], 4);
        u = __builtin_bswap32(u);
        memcpy(&six_be[k], &u, 4);
    }
    b = (struct buf){0};
    zip_with(&b, &pkl, "big", six_be, sizeof six_be, "archive/data/0");
    sd = load_ok(b.d, b.n);
    ck_floats(sd, "module.w", six, 6);
    wi_state_dict_free(sd);
    free(b.d);

    b = (struct buf){0};
    zip_with(&b, &pkl, "middle", six, sizeof six, "archive/data/0");
    load_fails(b.d, b.n, "byteorder");
    free(b.d);
    b = (struct buf){0};
    zip_with(&b, &pkl, NULL, six, sizeof six - 4, "archive/data/0");
    load_fails(b.d, b.n, "holds 20 bytes");
    free(b.d);
    b = (struct buf){0};
    zip_with(&b, &pkl, NULL, NULL, 0, NULL);
    load_fails(b.d, b.n, "no record 'archive/data/0'");
    free(b.d);
    b = (struct buf){0};
    zip_with(&b, &pkl, NULL, six, sizeof six, "other/data/0");
    load_fails(b.d, b.n, "subdirectory");
    free(b.d);
    /* truncation anywhere: never a crash, always an error */
    b = (struct buf){0};
    zip_with(&b, &pkl, NULL, six, sizeof six, "archive/data/0");
    for (size_t cut = 4; cut < b.n; cut += 7) {
        wi_error_t err;
        ck_assert_ptr_null(load_bytes(b.d, cut, &err));
        ck_assert_int_lt(err.code, 0);
    }
    /* a stored record whose bytes are corrupted fails the CRC */
    b.d[b.n - 200] ^= 0x55;
    {
        wi_error_t err;
        wi_state_dict_t *bad = load_bytes(b.d, b.n, &err);
        if (bad)
            wi_state_dict_free(bad); /* the flip may hit a name or padding */
    }
    free(b.d);
    struct zentry only = {"data.pkl", pkl.d, pkl.n};
    b = (struct buf){0};
    zip(&b, &only, 1);
    load_fails(b.d, b.n, "not in a subdirectory");
    free(b.d);
    struct zentry other = {"x/readme.txt", "hi", 2};
    b = (struct buf){0};
    zip(&b, &other, 1);
    load_fails(b.d, b.n, "data.pkl");
    free(b.d);
    b = (struct buf){0};
    zip(&b, NULL, 0);
    load_fails(b.d, b.n, "empty");
    free(b.d);
    free(pkl.d);
}
END_TEST

/* Inputs the fuzzers once found troublesome (tests/data/checkpoints/
 * regress/): each must load or fail cleanly. */
START_TEST(fuzz_regressions)
{
    char *dir = wi_test_data_path("checkpoints/regress");
    DIR *dp = opendir(dir);
    if (!dp) {
        free(dir);
        return;
    }
    for (struct dirent *e; (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        wi_error_t err;
        wi_error_clear(&err);
        wi_state_dict_t *sd = wi_checkpoint_load(path, &err);
        if (sd)
            wi_state_dict_free(sd);
        else
            ck_assert_msg(err.code < 0, "%s: no error code", e->d_name);
    }
    closedir(dp);
    free(dir);
}
END_TEST

/* ---- another process truncating the file (issue 8, item 20) ---- */

#define BIG_N 65536 /* 256 KiB of data: many pages to lose */

/* A safetensors file with one F32 tensor "w" = 0, 1, ..., BIG_N-1 whose
 * data starts at file offset 72. */
static const char *write_big(const char *name)
{
    char hdr[128];
    int h = snprintf(hdr, sizeof hdr, "{\"w\":{\"dtype\":\"F32\",\"shape\":"
                     "[%d],\"data_offsets\":[0,%d]}}", BIG_N, 4 * BIG_N);
    while (h % 8) /* aligned data, so the mapped load wraps it in place */
        hdr[h++] = ' ';
    struct buf b = {0};
    put_le(&b, (uint64_t)h, 8);
    put(&b, hdr, (size_t)h);
    for (int i = 0; i < BIG_N; i++) {
        float v = (float)i;
        put(&b, &v, 4);
    }
    const char *path = write_tmp(name, b.d, b.n);
    free(b.d);
    return path;
}

static void truncate_file(const char *path)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 0), 0);
    close(fd);
}

/* 0 when every value is still i (touching every page). */
static int count_wrong(const wi_state_dict_t *sd)
{
    const float *v = wi_tensor_data(wi_state_dict_tensor(sd, 0));
    int wrong = 0;
    for (int i = 0; i < BIG_N; i++)
        wrong += v[i] != (float)i;
    return wrong;
}

/* wi_checkpoint_load reads the file: emptying it afterwards changes
 * nothing (with a mapping, this read would raise SIGBUS). */
START_TEST(truncated_after_load)
{
    const char *path = write_big("big.safetensors");
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(path, &err);
    ck_assert_ptr_nonnull(sd);
    truncate_file(path);
    ck_assert_int_eq(count_wrong(sd), 0);
    wi_state_dict_free(sd);
}
END_TEST

/* wi_checkpoint_load_mapped's contract: a truncation under a live state
 * dict raises SIGBUS on the next read of a lost page (seen from a child,
 * with the default action); replacing the file by rename is safe. */
START_TEST(mapped_contract)
{
    const char *path = write_big("big.safetensors");
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", path);
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load_mapped(saved, &err);
    ck_assert_ptr_nonnull(sd);
    const char *other = write_big("other.safetensors");
    float zero = 0;
    int fd = open(other, O_WRONLY);
    ck_assert_int_eq(pwrite(fd, &zero, 4, 72 + 4 * 100), 4); /* w[100] = 0 */
    close(fd);
    ck_assert_int_eq(rename(other, saved), 0);
    ck_assert_int_eq(count_wrong(sd), 0);
    wi_state_dict_free(sd);

    sd = wi_checkpoint_load_mapped(saved, &err);
    ck_assert_ptr_nonnull(sd);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGBUS, SIG_DFL); /* the sanitizers' handler off */
        truncate_file(saved);
        _exit(count_wrong(sd) == 1 ? 0 : 3); /* the new file's w[100] */
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
                  "child status %d: expected SIGBUS", status);
    wi_state_dict_free(sd);
}
END_TEST

/* ---- every key accounted for, by every reader (issue 16) ---- */

/* A str of n bytes, NULs included. */
static void pk_strn(struct buf *b, const char *s, size_t n)
{
    op(b, 'X');
    put_le(b, n, 4);
    put(b, s, n);
}

static const struct tspec w6 = {"FloatStorage", "k", 6, 0, 1, {6}, {1}};

/* A legacy file (storage "k" = six) whose object pickle is an
 * OrderedDict: "a" = the tensor, then the items that add writes. */
static const char *keys_file(void (*add)(struct buf *))
{
    struct buf obj = {0}, b = {0};
    struct lstorage st = {"k", 6, six, sizeof six};
    pk_odict_begin(&obj);
    pk_str(&obj, "a");
    pk_tensor(&obj, &w6, 6);
    add(&obj);
    pk_odict_end(&obj);
    legacy(&b, &obj, &st, 1, 1);
    const char *path = write_tmp("keys.pth", b.d, b.n);
    free(b.d);
    free(obj.d);
    return path;
}

/* Pretrained and convert's default (wi_checkpoint_load), convert's
 * automatic choice (load_key NULL) and inspect (load_all) on one file:
 * each reads exactly the tensors of want ("a,b"), or, when want is NULL,
 * fails with a message holding words. */
enum { PRETRAINED, CONVERT, INSPECT };

static void reader(int which, const char *path, const char *want,
                   const char *words)
{
    static const char *const names[] = {"load", "load_key", "load_all"};
    wi_error_t err;
    wi_error_clear(&err);
    wi_state_dict_t *sd = which == PRETRAINED ? wi_checkpoint_load(path, &err)
                          : which == CONVERT
                              ? wi_checkpoint_load_key(path, NULL, NULL, &err)
                              : wi_checkpoint_load_all(path, NULL, &err);
    char got[512] = "", msg[1024];
    for (size_t i = 0; sd && i < wi_state_dict_size(sd); i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
                 i ? "," : "", wi_state_dict_name(sd, i));
    if (want) {
        ck_assert_msg(sd, "%s: %s", names[which],
                      wi_error_format(&err, msg, sizeof msg));
        ck_assert_msg(strcmp(got, want) == 0, "%s: tensors %s, want %s",
                      names[which], got, want);
    } else {
        ck_assert_msg(!sd, "%s: read %s (expected: %s)", names[which], got,
                      words);
        check_error_msg(&err, words);
    }
    wi_state_dict_free(sd);
}

static void readers(const char *path, const char *want, const char *words)
{
    for (int which = PRETRAINED; which <= INSPECT; which++)
        reader(which, path, want, words);
}

static void nul_key_tensor(struct buf *b)
{
    pk_strn(b, "b\0c", 3);
    pk_tensor(b, &w6, 6);
}

static void nul_key_int(struct buf *b)
{
    pk_strn(b, "m\0", 2);
    pk_int(b, 5);
}

static void nested_nul_key(struct buf *b)
{
    pk_str(b, "n");
    op(b, '}');
    pk_strn(b, "x\0y", 3);
    pk_tensor(b, &w6, 6);
    op(b, 's');
}

static void tuple_key(struct buf *b)
{
    pk_str(b, "n");
    op(b, '}');
    pk_str(b, "t");
    op(b, 0x85); /* TUPLE1 */
    pk_tensor(b, &w6, 6);
    op(b, 's');
}

static void repeated_key(struct buf *b)
{
    struct tspec later = {"FloatStorage", "k", 6, 2, 1, {4}, {1}};
    pk_str(b, "a");
    pk_tensor(b, &later, 6);
}

static void deep_tensor(struct buf *b)
{
    pk_str(b, "d");
    for (int i = 0; i < 70; i++) {
        op(b, '}');
        pk_str(b, "k");
    }
    pk_tensor(b, &w6, 6);
    for (int i = 0; i < 70; i++)
        op(b, 's');
}

/* "g": T40, where T0 = [] and Ti = (Ti-1, Ti-1) through the memo:
 * 2^40 paths to walk, in a few hundred bytes. */
static void shared_lists(struct buf *b)
{
    pk_str(b, "g");
    op(b, ']');
    op(b, 'q');
    op(b, 0);
    for (int i = 1; i <= 40; i++) {
        op(b, 'h'); /* BINGET: Ti-1 twice on the stack */
        op(b, i - 1);
        op(b, 0x86); /* TUPLE2 */
        op(b, 'q');
        op(b, i);
    }
}

static void quantized(struct buf *b)
{
    pk_str(b, "n");
    op(b, '}');
    pk_str(b, "q");
    pk_global(b, "torch._utils", "_rebuild_qtensor");
    op(b, ')');
    op(b, 'R');
    op(b, 's');
}

/* torch.load reads every one of these; weightinit's readers agree with
 * each other on each key: a name, or a one-line refusal. */
START_TEST(keys_accounted_for)
{
    /* Names are C strings: a tensor under a key with a NUL byte is
     * refused by every reader, naming it escaped as Python would. */
    readers(keys_file(nul_key_tensor), NULL,
            "b\\x00c: expected a tensor name without NUL bytes");
    /* such a key that holds no tensor is passed over like any value */
    readers(keys_file(nul_key_int), "a", NULL);
    /* under a nested dict: what inspect lists, refused there */
    reader(PRETRAINED, keys_file(nested_nul_key), "a", NULL);
    reader(INSPECT, keys_file(nested_nul_key), NULL,
           "n.x\\x00y: expected a tensor name without NUL bytes");
    reader(INSPECT, keys_file(tuple_key), NULL,
           "n: expected dict keys that are strs or ints, found a tuple");
    /* a repeated SETITEM keeps the first place and the last value */
    const char *path = keys_file(repeated_key);
    readers(path, "a", NULL);
    wi_error_t err;
    wi_state_dict_t *all = wi_checkpoint_load_all(path, NULL, &err);
    ck_assert_ptr_nonnull(all);
    ck_floats(all, "a", six + 2, 4);
    wi_state_dict_free(all);
    /* depth, sharing and tensors we do not build: said, never dropped */
    reader(PRETRAINED, keys_file(deep_tensor), "a", NULL);
    reader(INSPECT, keys_file(deep_tensor), NULL,
           "nested more than 64 levels deep");
    reader(PRETRAINED, keys_file(shared_lists), "a", NULL);
    reader(INSPECT, keys_file(shared_lists), NULL, "shared over more than");
    reader(INSPECT, keys_file(quantized), NULL,
           "n.q: value is built by pickle global 'torch._utils "
           "_rebuild_qtensor'");
}
END_TEST

/* ---- sharded checkpoint indexes ---- */

static const char *write_text(const char *name, const char *text)
{
    return write_tmp(name, text, strlen(text));
}

/* A one-tensor safetensors file "w" = four. */
static void write_shard_st(const char *name)
{
    struct buf b = st_file("{" F32("w", "[4]", 0, 16) "}", -1, four,
                           sizeof four);
    write_tmp(name, b.d, b.n);
    free(b.d);
}

/* Every reader refuses the index at name with one line: the index, the
 * tensor, then words. */
static void index_fails(const char *name, const char *tensor,
                        const char *words)
{
    char path[1024], want[1400];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    snprintf(want, sizeof want, "%s: %s: %s", path, tensor, words);
    for (int which = PRETRAINED; which <= INSPECT; which++) {
        wi_error_t err;
        char msg[1024];
        wi_error_clear(&err);
        wi_state_dict_t *sd =
            which == PRETRAINED ? wi_checkpoint_load(path, &err)
            : which == CONVERT  ? wi_checkpoint_load_key(path, NULL, NULL, &err)
                                : wi_checkpoint_load_all(path, NULL, &err);
        ck_assert_msg(!sd, "%s: read", name);
        wi_error_format(&err, msg, sizeof msg);
        ck_assert_msg(strncmp(msg, want, strlen(want)) == 0,
                      "%s: '%s', want '%s...'", name, msg, want);
    }
}

START_TEST(index_hostile)
{
    /* a positive control: one shard, read through its index */
    write_shard_st("good-1.safetensors");
    write_text("good.safetensors.index.json",
               "{\"weight_map\": {\"w\": \"good-1.safetensors\"}}");
    char good[1024];
    snprintf(good, sizeof good, "%s/good.safetensors.index.json", tmpdir);
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(good, &err);
    ck_assert_ptr_nonnull(sd);
    ck_floats(sd, "w", four, 4);
    wi_state_dict_free(sd);

    /* an index naming itself, or another index naming it back: refused
     * before any recursion */
    write_text("self.safetensors.index.json",
               "{\"weight_map\": {\"w\": \"self.safetensors.index.json\"}}");
    index_fails("self.safetensors.index.json", "w",
                "weight_map names the shard 'self.safetensors.index.json', "
                "which is an index, not a checkpoint file");
    write_text("a.index.json", "{\"weight_map\": {\"w\": \"b.index.json\"}}");
    write_text("b.index.json", "{\"weight_map\": {\"v\": \"a.index.json\"}}");
    index_fails("a.index.json", "w",
                "weight_map names the shard 'b.index.json', which is an "
                "index");
    /* an index under a checkpoint's name is read as a checkpoint: no */
    write_text("c.safetensors.index.json",
               "{\"weight_map\": {\"w\": \"loop.safetensors\"}}");
    write_text("loop.safetensors",
               "{\"weight_map\": {\"w\": \"loop.safetensors\"}}");
    index_fails("c.safetensors.index.json", "w",
                "shard 'loop.safetensors': not a checkpoint: this is a JSON "
                "text file");
    /* shards of the format the index's name gives, as transformers
     * reads them */
    struct buf obj = {0}, b = {0};
    struct lstorage st = {"k", 6, six, sizeof six};
    pk_odict_begin(&obj);
    pk_str(&obj, "w");
    pk_tensor(&obj, &w6, 6);
    pk_odict_end(&obj);
    legacy(&b, &obj, &st, 1, 1);
    write_tmp("legacy.bin", b.d, b.n);
    free(b.d);
    free(obj.d);
    write_text("d.safetensors.index.json",
               "{\"weight_map\": {\"w\": \"legacy.bin\"}}");
    index_fails("d.safetensors.index.json", "w",
                "shard 'legacy.bin' is a torch.save file, not safetensors");
    write_text("e.bin.index.json",
               "{\"weight_map\": {\"w\": \"good-1.safetensors\"}}");
    index_fails("e.bin.index.json", "w",
                "shard 'good-1.safetensors' is a safetensors file, not "
                "torch.save");
    /* a missing shard names the index and the tensor */
    write_text("f.safetensors.index.json",
               "{\"weight_map\": {\"w\": \"good-1.safetensors\", "
               "\"x.y\": \"gone.safetensors\"}}");
    index_fails("f.safetensors.index.json", "x.y",
                "weight_map names the shard 'gone.safetensors', which can "
                "not be found");
    write_text("g.index.json", "{\"weight_map\": {\"w\": 3}}");
    index_fails("g.index.json", "w",
                "weight_map: expected a shard file name (a string), found 3");
}
END_TEST

/* The index is read as every input is: a FIFO is refused without
 * blocking, a file over the 64 MiB JSON limit without being parsed. */
START_TEST(index_input_rules)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fifo.index.json", tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    for (int which = PRETRAINED; which <= INSPECT; which++)
        reader(which, path, NULL, "is a FIFO");
    snprintf(path, sizeof path, "%s/huge.index.json", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, ((off_t)64 << 20) + 1), 0); /* sparse */
    close(fd);
    for (int which = PRETRAINED; which <= INSPECT; which++)
        reader(which, path, NULL, "more than the 64 MiB limit");
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("conformance");
    tcase_add_test(tc, conformance_sidecars);
    tcase_add_test(tc, fuzz_regressions);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, safetensors_ok_edge_cases);
    tcase_add_test(tc, safetensors_hostile);
    tcase_add_test(tc, not_a_checkpoint);
    tcase_add_test(tc, legacy_views);
    tcase_add_test(tc, legacy_hostile_stream);
    tcase_add_test(tc, pickle_hostile_opcodes);
    tcase_add_test(tc, pickle_hostile_tensors);
    tcase_add_test(tc, pickle_globals_and_selection);
    tcase_add_test(tc, zip_cases);
    tcase_add_test(tc, truncated_after_load);
    tcase_add_test(tc, mapped_contract);
    suite_add_tcase(s, tc);
    /* A hang (a FIFO, a walk over shared values) fails in a minute. */
    tc = tcase_create("accounted");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keys_accounted_for);
    tcase_add_test(tc, index_hostile);
    tcase_add_test(tc, index_input_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return wi_test_run_suite(checkpoint_suite());
}
