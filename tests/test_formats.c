/* Output formats: the extension picks the format; every .pth the writer
 * makes is read back by our readers with the same names, order, dtypes,
 * shapes and bytes (real torch's view of the same files is
 * tests/data/pth_write/check_with_torch.py); tied tensors are stored
 * once; records are 64-byte aligned; a pipe works; names a format cannot
 * hold are refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

START_TEST(format_from_extension)
{
    static const struct {
        const char *path;
        int fmt; /* -1: an error */
    } cases[] = {
        {"out.safetensors", WI_CHECKPOINT_SAFETENSORS},
        {"dir.d/OUT.SafeTensors", WI_CHECKPOINT_SAFETENSORS},
        {"model.pth", WI_CHECKPOINT_PTH},
        {"model.pt", WI_CHECKPOINT_PTH},
        {"pytorch_model.bin", WI_CHECKPOINT_PTH},
        {"a.b/model.PTH", WI_CHECKPOINT_PTH},
        {"model.onnx", -1},
        {"model", -1},
        {"model.pth.tmp", -1},
        {"dir/.pth", -1},
        {".safetensors/x", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        wi_checkpoint_format_t fmt = (wi_checkpoint_format_t)99;
        wi_error_t err;
        int rc = wi_checkpoint_format_from_path(cases[i].path, &fmt, &err);
        if (cases[i].fmt < 0) {
            ck_assert_msg(rc == WI_EINVAL, "%s", cases[i].path);
            ck_assert_str_eq(err.source, cases[i].path);
            ck_assert_msg(strstr(err.text, ".safetensors") && strstr(err.text, ".pth") &&
                          strstr(err.text, ".pt,") && strstr(err.text, ".bin"),
                          "%s: %s", cases[i].path, err.text);
        } else {
            ck_assert_msg(rc == 0 && (int)fmt == cases[i].fmt, "%s", cases[i].path);
        }
    }
    ck_assert_int_eq(wi_checkpoint_format_from_path("x.pth", NULL, NULL), 0);
    ck_assert_int_eq(wi_checkpoint_format_from_path("x.zip", NULL, NULL), WI_EINVAL);
    wi_error_t err;
    wi_checkpoint_format_from_path("model.onnx", NULL, &err);
    ck_assert_msg(strstr(err.text, "'.onnx'"), "%s", err.text);
}
END_TEST

/* Every dtype, a scalar, empty tensors and one big enough to cross libzip's
 * buffer chunks, with closed-form bytes; one is named __metadata__. */
static wi_state_dict_t *sample(void)
{
    static const wi_dtype_t dts[] = {WI_DTYPE_F32, WI_DTYPE_F64, WI_DTYPE_F16,
                                     WI_DTYPE_BF16, WI_DTYPE_I64, WI_DTYPE_I32,
                                     WI_DTYPE_I16, WI_DTYPE_I8, WI_DTYPE_U8,
                                     WI_DTYPE_BOOL};
    wi_state_dict_t *sd = wi_state_dict_new();
    wi_error_t err;
    for (size_t d = 0; d < sizeof dts / sizeof *dts; d++) {
        int64_t shape[2] = {3, 5};
        wi_tensor_t *t = wi_tensor_new(dts[d], 2, shape, &err);
        uint8_t *bytes = wi_tensor_data(t);
        for (uint64_t j = 0; j < wi_tensor_nbytes(t); j++)
            bytes[j] = dts[d] == WI_DTYPE_BOOL ? j % 3 == 0 : (uint8_t)(j * 37 + d);
        char name[32];
        snprintf(name, sizeof name, "t.%s", wi_dtype_name(dts[d]));
        ck_assert_int_eq(wi_state_dict_append_new(sd, name, t, &err), 0);
    }
    wi_tensor_t *scalar = wi_tensor_new(WI_DTYPE_I64, 0, NULL, &err);
    *(int64_t *)wi_tensor_data(scalar) = 123456789012345;
    ck_assert_int_eq(wi_state_dict_append_new(sd, "bn.num_batches_tracked", scalar, &err), 0);
    int64_t e1[2] = {0, 3}, e2[2] = {3, 0}, big[1] = {100000};
    ck_assert_int_eq(wi_state_dict_append_new(sd, "empty_0x3", wi_tensor_new(WI_DTYPE_F32, 2, e1, &err), &err), 0);
    ck_assert_int_eq(wi_state_dict_append_new(sd, "empty_3x0", wi_tensor_new(WI_DTYPE_F32, 2, e2, &err), &err), 0);
    wi_tensor_t *b = wi_tensor_new(WI_DTYPE_F32, 1, big, &err);
    for (int i = 0; i < 100000; i++)
        ((float *)wi_tensor_data(b))[i] = (float)i * 0.5f;
    ck_assert_int_eq(wi_state_dict_append_new(sd, "__metadata__", b, &err), 0);
    return sd;
}

static void assert_same(const wi_state_dict_t *a, const wi_state_dict_t *b)
{
    ck_assert_uint_eq(wi_state_dict_size(a), wi_state_dict_size(b));
    for (size_t i = 0; i < wi_state_dict_size(a); i++) {
        const wi_tensor_t *x = wi_state_dict_tensor(a, i), *y = wi_state_dict_tensor(b, i);
        ck_assert_str_eq(wi_state_dict_name(a, i), wi_state_dict_name(b, i));
        ck_assert_int_eq(wi_tensor_dtype(x), wi_tensor_dtype(y));
        ck_assert_msg(wi_tensor_same_shape(x, y), "%s", wi_state_dict_name(a, i));
        ck_assert_uint_eq(wi_tensor_nbytes(x), wi_tensor_nbytes(y));
        ck_assert(memcmp(wi_tensor_const_data(x), wi_tensor_const_data(y), wi_tensor_nbytes(x)) == 0);
    }
}

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Walks the local headers: every record stored, data/N records start on
 * a 64-byte boundary.  Returns the number of data/ records. */
static int walk_zip(const uint8_t *d, size_t len, const char *folder)
{
    size_t off = 0;
    int records = 0, data = 0;
    char want[64];
    snprintf(want, sizeof want, "%s/data/", folder);
    while (off + 30 <= len && memcmp(d + off, "PK\3\4", 4) == 0) {
        uint32_t method = le(d + off + 8, 2), csize = le(d + off + 18, 4);
        uint32_t n = le(d + off + 26, 2), e = le(d + off + 28, 2);
        ck_assert_uint_eq(method, 0);
        ck_assert(strncmp((const char *)d + off + 30, folder, strlen(folder)) == 0);
        size_t start = off + 30 + n + e;
        if (n > strlen(want) && memcmp(d + off + 30, want, strlen(want)) == 0) {
            ck_assert_msg(start % 64 == 0, "record %.*s at %zu", (int)n, d + off + 30, start);
            data++;
        }
        off = start + csize;
        records++;
    }
    ck_assert_int_ge(records, 3);
    ck_assert(off + 4 <= len && memcmp(d + off, "PK\1\2", 4) == 0); /* central directory */
    return data;
}

START_TEST(pth_round_trip)
{
    wi_state_dict_t *sd = sample();
    char *dir = wi_test_mkdtemp(), path[600];
    snprintf(path, sizeof path, "%s/my-model.pth", dir);
    wi_error_t err;
    FILE *fp = fopen(path, "wb");
    ck_assert_int_eq(wi_pth_write(fp, path, sd, &err), 0);
    fclose(fp);
    wi_state_dict_t *back = wi_checkpoint_load(path, &err);
    ck_assert_ptr_nonnull(back);
    assert_same(sd, back);
    size_t len;
    char *raw = wi_test_read_file(path, &len);
    ck_assert_int_eq(walk_zip((const uint8_t *)raw, len, "my-model"), (int)wi_state_dict_size(sd));
    free(raw);
    /* the same through the format dispatch and the atomic save */
    snprintf(path, sizeof path, "%s/x.bin", dir);
    ck_assert_int_eq(wi_checkpoint_save(path, WI_CHECKPOINT_PTH, sd, NULL, &err), 0);
    wi_state_dict_free(back);
    ck_assert_ptr_nonnull(back = wi_checkpoint_load(path, &err));
    assert_same(sd, back);
    wi_state_dict_free(back);
    wi_state_dict_free(sd);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A pipe cannot seek: the archive is streamed whole. */
START_TEST(pth_to_a_pipe)
{
    wi_state_dict_t *sd = sample();
    char *dir = wi_test_mkdtemp(), cmd[700], path[600];
    snprintf(path, sizeof path, "%s/piped.pth", dir);
    snprintf(cmd, sizeof cmd, "cat > '%s'", path);
    FILE *fp = popen(cmd, "w");
    wi_error_t err;
    ck_assert_int_eq(wi_pth_write(fp, "-", sd, &err), 0);
    ck_assert_int_eq(pclose(fp), 0);
    wi_state_dict_t *back = wi_checkpoint_load(path, &err);
    ck_assert_ptr_nonnull(back);
    assert_same(sd, back);
    size_t len;
    char *raw = wi_test_read_file(path, &len);
    walk_zip((const uint8_t *)raw, len, "archive");
    free(raw);
    wi_state_dict_free(back);
    wi_state_dict_free(sd);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Two names for one tensor (tied weights): one storage record. */
START_TEST(pth_tied_stored_once)
{
    wi_error_t err;
    int64_t shape[2] = {4, 2};
    wi_tensor_t *w = wi_tensor_new(WI_DTYPE_F32, 2, shape, &err);
    for (int i = 0; i < 8; i++)
        ((float *)wi_tensor_data(w))[i] = (float)i;
    wi_state_dict_t *sd = wi_state_dict_new();
    ck_assert_int_eq(wi_state_dict_append(sd, "emb.weight", w, &err), 0);
    ck_assert_int_eq(wi_state_dict_append(sd, "head.weight", w, &err), 0);
    char *dir = wi_test_mkdtemp(), path[600];
    snprintf(path, sizeof path, "%s/tied.pt", dir);
    ck_assert_int_eq(wi_checkpoint_save(path, WI_CHECKPOINT_PTH, sd, NULL, &err), 0);
    size_t len;
    char *raw = wi_test_read_file(path, &len);
    ck_assert_int_eq(walk_zip((const uint8_t *)raw, len, "tied"), 1);
    free(raw);
    wi_state_dict_t *back = wi_checkpoint_load(path, &err);
    ck_assert_ptr_nonnull(back);
    assert_same(sd, back);
    wi_state_dict_free(back);
    wi_state_dict_free(sd);
    wi_tensor_free(w);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* torch's own file (sidecar sha256 from torch) survives our writer. */
START_TEST(pth_rewrites_torch_file)
{
    json_t *sidecar = wi_test_load_json("checkpoints/a_plain_state_dict.pth.json");
    char *in = wi_test_data_path("checkpoints/a_plain_state_dict.pth");
    char *dir = wi_test_mkdtemp(), path[600];
    snprintf(path, sizeof path, "%s/again.pth", dir);
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(in, &err);
    ck_assert_int_eq(wi_checkpoint_save(path, WI_CHECKPOINT_PTH, sd, NULL, &err), 0);
    wi_state_dict_t *back = wi_checkpoint_load(path, &err);
    ck_assert_ptr_nonnull(back);
    json_t *want = json_object_get(sidecar, "tensors"), *w;
    size_t i;
    ck_assert_uint_eq(json_array_size(want), wi_state_dict_size(back));
    json_array_foreach(want, i, w) {
        const wi_tensor_t *t = wi_state_dict_tensor(back, i);
        char hex[65];
        ck_assert_str_eq(wi_state_dict_name(back, i), json_string_value(json_object_get(w, "name")));
        ck_assert_str_eq(wi_dtype_name(wi_tensor_dtype(t)), json_string_value(json_object_get(w, "dtype")));
        wi_test_sha256_hex(wi_tensor_const_data(t), wi_tensor_nbytes(t), hex);
        ck_assert_str_eq(hex, json_string_value(json_object_get(w, "sha256")));
    }
    wi_state_dict_free(back);
    wi_state_dict_free(sd);
    wi_test_rmtree(dir);
    free(dir);
    free(in);
    json_decref(sidecar);
}
END_TEST

/* safetensors' header key __metadata__ is its metadata: a tensor of that
 * name is refused, naming it, and nothing is written. */
START_TEST(safetensors_refuses_metadata_name)
{
    wi_state_dict_t *sd = sample();
    char *dir = wi_test_mkdtemp(), path[600];
    snprintf(path, sizeof path, "%s/out.safetensors", dir);
    wi_error_t err;
    json_t *meta = json_pack("{s:s}", "format", "pt");
    ck_assert_int_eq(wi_checkpoint_save(path, WI_CHECKPOINT_SAFETENSORS, sd, (const wi_value_t *)meta, &err), WI_EINVAL);
    ck_assert_str_eq(err.path, "__metadata__");
    ck_assert_str_eq(err.source, path);
    ck_assert_msg(strstr(err.text, "cannot hold a tensor named '__metadata__'"), "%s", err.text);
    ck_assert_int_eq(wi_test_count_entries(dir), 0);
    ck_assert_int_eq(wi_safetensors_save(path, sd, (const wi_value_t *)meta, &err), WI_EINVAL);
    ck_assert_int_eq(wi_test_count_entries(dir), 0);
    json_decref(meta);
    wi_state_dict_free(sd);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* The data/ records a zip's central directory lists (torch's own writer
 * puts the sizes in data descriptors, so walk_zip cannot step over its
 * local headers). */
static int count_data_records(const uint8_t *d, size_t len, const char *folder)
{
    size_t end = len >= 22 ? len - 22 : 0;
    while (end > 0 && memcmp(d + end, "PK\5\6", 4) != 0)
        end--;
    ck_assert(memcmp(d + end, "PK\5\6", 4) == 0);
    uint32_t entries = le(d + end + 10, 2), off = le(d + end + 16, 4);
    char want[64];
    snprintf(want, sizeof want, "%s/data/", folder);
    int data = 0;
    for (uint32_t k = 0; k < entries; k++) {
        ck_assert(off + 46 <= len && memcmp(d + off, "PK\1\2", 4) == 0);
        uint32_t n = le(d + off + 28, 2), e = le(d + off + 30, 2), c = le(d + off + 32, 2);
        data += n > strlen(want) && memcmp(d + off + 46, want, strlen(want)) == 0;
        off += 46 + n + e + c;
    }
    return data;
}

/* Names torch.save wrote over one storage (g_shared_storage_views.pth:
 * a, a_tied = the same tensor, b and c other views of its 24 floats)
 * come back sharing it, and are written with one storage record again,
 * as torch's own file holds it (walk_zip counts both). */
START_TEST(pth_keeps_shared_storage)
{
    char *in = wi_test_data_path("checkpoints/g_shared_storage_views.pth");
    char *dir = wi_test_mkdtemp(), path[600];
    snprintf(path, sizeof path, "%s/g_shared_storage_views.pth", dir);
    size_t len;
    char *raw = wi_test_read_file(in, &len);
    int torch_records = count_data_records((const uint8_t *)raw, len,
                                           "g_shared_storage_views");
    free(raw);
    ck_assert_int_eq(torch_records, 2);
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(in, &err);
    ck_assert_msg(sd, "%s", err.text);
    ck_assert_int_eq(wi_checkpoint_save(path, WI_CHECKPOINT_PTH, sd, NULL, &err), 0);
    raw = wi_test_read_file(path, &len);
    ck_assert_int_eq(walk_zip((const uint8_t *)raw, len, "g_shared_storage_views"),
                     torch_records);
    ck_assert_int_eq(count_data_records((const uint8_t *)raw, len, "g_shared_storage_views"),
                     torch_records);
    free(raw);
    wi_state_dict_t *back = wi_checkpoint_load(path, &err);
    ck_assert_msg(back, "%s", err.text);
    assert_same(sd, back);
    const float *a = wi_tensor_const_data(wi_state_dict_find(back, "a"));
    ck_assert_ptr_eq(wi_tensor_const_data(wi_state_dict_find(back, "a_tied")), a);
    ck_assert_ptr_eq(wi_tensor_const_data(wi_state_dict_find(back, "b")), a + 6);
    ck_assert_ptr_eq(wi_tensor_const_data(wi_state_dict_find(back, "c")), a + 20);
    ck_assert_ptr_ne(wi_tensor_const_data(wi_state_dict_find(back, "other")), a);
    wi_state_dict_free(back);
    wi_state_dict_free(sd);
    wi_test_rmtree(dir);
    free(dir);
    free(in);
}
END_TEST

/* safetensors' __metadata__ is an object of strings (the format's
 * HashMap<String, String>; our reader refuses anything else): the
 * writers refuse other JSON, naming the entry, and write nothing. */
START_TEST(metadata_validated)
{
    static const struct {
        const char *json, *path, *want;
    } cases[] = {
        {"{\"seed\": 7}", "__metadata__.seed", "expected a string"},
        {"{\"a\": \"x\", \"b\": null}", "__metadata__.b", "got null"},
        {"{\"nested\": {\"k\": \"v\"}}", "__metadata__.nested", "got an object"},
        {"{\"list\": [\"v\"]}", "__metadata__.list", "got an array"},
        {"[\"format\", \"pt\"]", "__metadata__", "expected an object of strings"},
        {"\"pt\"", "__metadata__", "got a string"},
    };
    wi_state_dict_t *sd = wi_state_dict_new();
    int64_t shape[1] = {2};
    ck_assert_int_eq(wi_state_dict_append_new(sd, "w", wi_tensor_new(WI_DTYPE_F32, 1, shape,
                                                                      NULL), NULL), 0);
    char *dir = wi_test_mkdtemp(), path[600];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *meta = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        ck_assert_ptr_nonnull(meta);
        for (int how = 0; how < 4; how++) {
            wi_error_t err;
            int rc;
            snprintf(path, sizeof path, "%s/out.%s", dir, how == 2 ? "pth" : "safetensors");
            if (how == 0)
                rc = wi_safetensors_save(path, sd, (const wi_value_t *)meta, &err);
            else if (how == 3)
                rc = wi_checkpoint_save_sharded(path, WI_CHECKPOINT_SAFETENSORS, sd, (const wi_value_t *)meta,
                                                4, NULL, NULL, &err);
            else
                rc = wi_checkpoint_save(path, how == 1 ? WI_CHECKPOINT_SAFETENSORS
                                                       : WI_CHECKPOINT_PTH, sd, (const wi_value_t *)meta, &err);
            ck_assert_msg(rc == WI_EINVAL, "%s (%d): %d", cases[i].json, how, rc);
            ck_assert_str_eq(err.source, path);
            ck_assert_str_eq(err.path, cases[i].path);
            ck_assert_msg(strstr(err.text, cases[i].want), "%s: %s", cases[i].json, err.text);
            ck_assert_int_eq(wi_test_count_entries(dir), 0);
        }
        json_decref(meta);
    }
    /* What safetensors accepts is written and read back. */
    json_t *meta = json_pack("{s:s, s:s}", "format", "pt", "empty", "");
    snprintf(path, sizeof path, "%s/ok.safetensors", dir);
    ck_assert_int_eq(wi_safetensors_save(path, sd, (const wi_value_t *)meta, NULL), 0);
    json_t *info = NULL;
    wi_state_dict_t *back = wi_checkpoint_load_all(path, (wi_value_t **)&info, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert(json_equal(json_object_get(info, "metadata"), meta));
    json_decref(info);
    json_decref(meta);
    wi_state_dict_free(back);
    wi_state_dict_free(sd);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("formats");
    tcase_add_test(tc, format_from_extension);
    tcase_add_test(tc, pth_round_trip);
    tcase_add_test(tc, pth_to_a_pipe);
    tcase_add_test(tc, pth_tied_stored_once);
    tcase_add_test(tc, pth_rewrites_torch_file);
    tcase_add_test(tc, safetensors_refuses_metadata_name);
    tcase_add_test(tc, pth_keeps_shared_storage);
    tcase_add_test(tc, metadata_validated);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
