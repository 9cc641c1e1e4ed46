/* weightinit convert and inspect on every checkpoint of
 * tests/data/checkpoints (real torch 1.13 files and hostile ones, each with
 * a sidecar): loadable ones convert with every tensor's name, dtype, shape
 * and sha256 as the sidecar says; hostile ones fail with exit 1, one line
 * and no output.  Plus torch's copy_ of F16/BF16/F64 into float32. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

static char **files;
static size_t n_files;

static int is_sidecar(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

static void collect(void)
{
    char *dir = wi_test_data_path("checkpoints");
    struct dirent **list;
    int n = scandir(dir, &list, is_sidecar, alphasort);
    for (int i = 0; i < n; i++) {
        files = realloc(files, (n_files + 1) * sizeof *files);
        files[n_files] = strdup(list[i]->d_name);
        files[n_files++][strlen(list[i]->d_name) - 5] = '\0'; /* drop .json */
        free(list[i]);
    }
    free(list);
    free(dir);
}

static int run(const char *dir, const char *a, const char *b, const char *c,
               char **err)
{
    char errpath[600];
    snprintf(errpath, sizeof errpath, "%s.err", dir);
    char *argv[] = {getenv("WI_TEST_WEIGHTINIT"), (char *)a, (char *)b, (char *)c, NULL};
    int status = wi_test_run(dir, argv, errpath);
    *err = wi_test_read_file(errpath, NULL);
    remove(errpath);
    return status;
}

START_TEST(convert_and_inspect)
{
    const char *name = files[_i];
    char rel[512];
    snprintf(rel, sizeof rel, "checkpoints/%s.json", name);
    json_t *sidecar = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "checkpoints/%s", name);
    char *in = wi_test_data_path(rel);
    char *dir = wi_test_mkdtemp(), *err = NULL;
    int ok = strcmp(json_string_value(json_object_get(sidecar, "expect")), "ok") == 0;
    int status = run(dir, "convert", in, "out.safetensors", &err);
    if (ok) {
        ck_assert_msg(status == 0, "%s: exit %d: %s", name, status, err);
        char out[600];
        snprintf(out, sizeof out, "%s/out.safetensors", dir);
        wi_test_assert_safetensors(out, json_object_get(sidecar, "tensors"), name);
        free(err);
        ck_assert_int_eq(run(dir, "inspect", in, NULL, &err), 0);
    } else {
        ck_assert_msg(status == 1, "%s: exit %d", name, status);
        ck_assert_int_eq(wi_test_count_entries(dir), 0);
        for (int pass = 0; pass < 2; pass++) {
            const char *nl = strchr(err, '\n');
            ck_assert_msg(strncmp(err, "weightinit: error: ", 19) == 0 && nl && !nl[1],
                          "%s: not one error line: %s", name, err);
            int mentioned = 0;
            size_t i;
            json_t *word;
            json_array_foreach(json_object_get(sidecar, "error_mentions_any"), i, word)
                mentioned |= strstr(err, json_string_value(word)) != NULL;
            ck_assert_msg(mentioned, "%s: the reason is not explained: %s", name, err);
            free(err);
            if (pass == 0)
                ck_assert_int_eq(run(dir, "inspect", in, NULL, &err), 1);
        }
        err = NULL;
    }
    free(err);
    wi_test_rmtree(dir);
    free(dir);
    free(in);
    json_decref(sidecar);
}
END_TEST

/* torch copies F16, BF16 and F64 into a float32 parameter as the
 * sidecar's as_f32_sha256 records. */
START_TEST(copy_into_float32)
{
    json_t *sidecar = wi_test_load_json("checkpoints/d_dtypes_f16_bf16_f64.pth.json");
    char *path = wi_test_data_path("checkpoints/d_dtypes_f16_bf16_f64.pth");
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(path, &err);
    ck_assert_ptr_nonnull(sd);
    size_t i, checked = 0;
    json_t *w;
    json_array_foreach(json_object_get(sidecar, "tensors"), i, w) {
        json_t *want = json_object_get(w, "as_f32_sha256");
        if (!want)
            continue;
        const wi_tensor_t *t = wi_state_dict_find(sd, json_string_value(json_object_get(w, "name")));
        ck_assert_ptr_nonnull(t);
        wi_tensor_t *f = wi_tensor_new(WI_DTYPE_F32, wi_tensor_ndim(t), wi_tensor_shape(t), &err);
        ck_assert_int_eq(wi_tensor_copy_(f, t, &err), 0);
        char hex[65];
        wi_test_sha256_hex(wi_tensor_const_data(f), wi_tensor_nbytes(f), hex);
        ck_assert_str_eq(hex, json_string_value(want));
        wi_tensor_free(f);
        checked++;
    }
    ck_assert_int_ge(checked, 3);
    wi_state_dict_free(sd);
    free(path);
    json_decref(sidecar);
}
END_TEST

static char *warning;

static void keep_warning(wi_log_level_t level, const char *msg, void *ud)
{
    (void)ud;
    if (level == WI_LOG_WARNING) {
        free(warning);
        warning = strdup(msg);
    }
}

/* Pretrained end to end: the sidecar's model loads its checkpoint, every
 * parameter and buffer then holding the checkpoint's values (as float32
 * where the file has another dtype), with no mismatch warning. */
START_TEST(load_into_sidecar_model)
{
    const char *name = files[_i];
    char rel[512], line[1200];
    snprintf(rel, sizeof rel, "checkpoints/%s.json", name);
    json_t *sidecar = wi_test_load_json(rel);
    json_t *model = json_object_get(sidecar, "model");
    if (!model) {
        json_decref(sidecar);
        return;
    }
    snprintf(rel, sizeof rel, "checkpoints/%s", name);
    char *path = wi_test_data_path(rel);
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_log(ctx, keep_warning, NULL);
    wi_error_t err;
    wi_module_t *m = wi_model_build(model, ctx, rel, "", &err);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(wi_load_checkpoint(m, path, NULL, ctx, &err) == 0, "%s",
                  wi_error_format(&err, line, sizeof line));
    ck_assert_msg(warning == NULL, "%s: %s", name, warning);
    wi_state_dict_t *sd = wi_module_state_dict(m, &err);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(sidecar, "tensors"), i, w) {
        wi_tensor_t *t = wi_state_dict_find(sd, json_string_value(json_object_get(w, "name")));
        ck_assert_ptr_nonnull(t);
        json_t *f32 = json_object_get(w, "as_f32_sha256");
        char hex[65];
        wi_test_sha256_hex(wi_tensor_const_data(t), wi_tensor_nbytes(t), hex);
        ck_assert_str_eq(hex, json_string_value(f32 ? f32 : json_object_get(w, "sha256")));
    }
    wi_state_dict_free(sd);
    wi_module_free(m);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(path);
    json_decref(sidecar);
}
END_TEST

/* MMEngine's mismatch warning, word for word, and prefix selection. */
START_TEST(mismatch_warning_and_prefix)
{
    char *path = wi_test_data_path("checkpoints/a_plain_state_dict.pth");
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_log(ctx, keep_warning, NULL);
    json_t *model = json_loads(
        "{\"type\": \"Net\", \"params\": {\"extra\": [2]}, \"children\": {"
        "\"conv1\": {\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 4,"
        " \"kernel_size\": 3}, \"fc\": {\"type\": \"Linear\", \"in_features\": 8,"
        " \"out_features\": 4}}}", 0, NULL);
    wi_error_t err;
    wi_module_t *m = wi_model_build(model, ctx, NULL, "", &err);
    free(warning);
    warning = NULL;
    ck_assert_int_eq(wi_load_checkpoint(m, path, NULL, ctx, &err), 0);
    ck_assert_str_eq(warning,
        "The model and loaded state dict do not match exactly\n"
        "\n"
        "size mismatch for conv1.weight: copying a param with shape "
        "torch.Size([8, 3, 3, 3]) from checkpoint, the shape in current model is "
        "torch.Size([4, 3, 3, 3]).\n"
        "size mismatch for conv1.bias: copying a param with shape torch.Size([8]) "
        "from checkpoint, the shape in current model is torch.Size([4]).\n"
        "unexpected key in source state_dict: bn1.weight, bn1.bias, bn1.running_mean, "
        "bn1.running_var, bn1.num_batches_tracked\n"
        "\n"
        "missing keys in source state_dict: extra\n");
    /* fc matched and was loaded; conv1 kept its own values. */
    ck_assert_str_eq(wi_module_parameter_name(wi_module_find_child(m, "fc"), 0), "weight");
    ck_assert_int_eq(wi_load_checkpoint(m, path, "backbone", ctx, &err), WI_ENOTFOUND);
    ck_assert_msg(strstr(err.text, "backbone is not in the pretrained model"), "%s", err.text);
    /* A leading "module." (DataParallel) is stripped without a prefix. */
    char *dir = wi_test_mkdtemp(), st[600];
    snprintf(st, sizeof st, "%s/wrapped.safetensors", dir);
    wi_state_dict_t *wrapped = wi_state_dict_new();
    int64_t shape[2] = {4, 8};
    wi_tensor_t *ones = wi_tensor_new(WI_DTYPE_F32, 2, shape, &err);
    ck_assert_int_eq(wi_constant_(ones, 1.0, &err), 0);
    ck_assert_int_eq(wi_state_dict_append_new(wrapped, "module.fc.weight", ones, &err), 0);
    ck_assert_int_eq(wi_safetensors_save(st, wrapped, NULL, &err), 0);
    ck_assert_int_eq(wi_load_checkpoint(m, st, NULL, ctx, &err), 0);
    const float *fc = wi_tensor_data(wi_module_find_parameter(wi_module_find_child(m, "fc"), "weight"));
    for (int i = 0; i < 32; i++)
        ck_assert_float_eq(fc[i], 1.0f);
    wi_state_dict_free(wrapped);
    wi_test_rmtree(dir);
    free(dir);
    ck_assert_int_eq(wi_load_checkpoint(m, "/nonexistent.pth", NULL, ctx, &err), WI_EIO);
    ck_assert_str_eq(err.text, "/nonexistent.pth can not be found.");
    wi_module_free(m);
    json_decref(model);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(path);
    free(warning);
    warning = NULL;
}
END_TEST

/* Unexpected keys are reported by the module whose prefix they fall under,
 * in load order, then state-dict order: torch 1.13's load_state_dict(
 * strict=False) on the same tree and keys gives unexpected_keys ['zz',
 * 'aa.p', 'a.q', 'a.r.s', 'a.fc.bogus', 'b.extra', 'c.bias'] and
 * missing_keys ['a.p', 'b.bias', 'c.weight']. */
START_TEST(unexpected_key_order)
{
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_log(ctx, keep_warning, NULL);
    json_t *model = json_loads(
        "{\"type\": \"Net\", \"children\": {"
        " \"a\": {\"type\": \"Block\", \"params\": {\"p\": [2]}, \"children\": {"
        "   \"fc\": {\"type\": \"Linear\", \"in_features\": 2, \"out_features\": 2}}},"
        " \"b\": {\"type\": \"Linear\", \"in_features\": 2, \"out_features\": 2},"
        " \"c\": {\"type\": \"Linear\", \"in_features\": 2, \"out_features\": 2,"
        "        \"bias\": false}}}", 0, NULL);
    wi_error_t err;
    wi_module_t *m = wi_model_build(model, ctx, NULL, "", &err);
    ck_assert_ptr_nonnull(m);
    static const char *const keys[] = {
        "b.extra", "a.fc.weight", "zz", "a.fc.bogus", "a.q", "b.weight", "a.fc",
        "a.p.x", "c.bias", "a.fc.weight.y", "a.fc.bias", "c", "a.r.s", "aa.p"};
    wi_state_dict_t *sd = wi_state_dict_new();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t shape[2] = {2, 2};
        int nd = strcmp(keys[i], "a.fc.weight") == 0 || strcmp(keys[i], "b.weight") == 0 ? 2
                 : strcmp(keys[i], "a.fc.bias") == 0 ? 1 : 0;
        wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, nd, shape, &err);
        ck_assert_int_eq(wi_state_dict_append_new(sd, keys[i], t, &err), 0);
    }
    free(warning);
    warning = NULL;
    ck_assert_int_eq(wi_load_state_dict(m, sd, 0, ctx, &err), 0);
    ck_assert_str_eq(warning,
        "The model and loaded state dict do not match exactly\n"
        "\n"
        "unexpected key in source state_dict: zz, aa.p, a.q, a.r.s, a.fc.bogus, "
        "b.extra, c.bias\n"
        "\n"
        "missing keys in source state_dict: a.p, b.bias, c.weight\n");
    wi_state_dict_free(sd);
    wi_module_free(m);
    json_decref(model);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(warning);
    warning = NULL;
}
END_TEST

int main(void)
{
    collect();
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("checkpoints");
    tcase_add_loop_test(tc, convert_and_inspect, 0, (int)n_files);
    tcase_add_test(tc, copy_into_float32);
    tcase_add_test(tc, unexpected_key_order);
    tcase_add_loop_test(tc, load_into_sidecar_model, 0, (int)n_files);
    tcase_add_test(tc, mismatch_warning_and_prefix);
    suite_add_tcase(s, tc);
    int status = wi_test_run_suite(s);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    return status;
}
