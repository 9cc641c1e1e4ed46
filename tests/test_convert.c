/* weightinit convert and inspect on every checkpoint of
 * tests/data/checkpoints (real torch 1.13 files and hostile ones, each with
 * a sidecar): loadable ones convert with every tensor's name, dtype, shape
 * and sha256 as the sidecar says; hostile ones fail with exit 1, one line
 * and no output.  Plus torch's copy_ of F16/BF16/F64 into float32. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
        /* A name torch gives the same tensor object as another (a tie)
         * is kept once, as save_model keeps it: the smaller name. */
        json_t *want = json_array(), *t;
        size_t k;
        json_array_foreach(json_object_get(sidecar, "tensors"), k, t)
            if (!json_object_get(t, "same_tensor_as"))
                json_array_append(want, t);
        wi_test_assert_safetensors(out, want, name);
        json_decref(want);
        json_t *info = NULL;
        wi_state_dict_t *back = wi_checkpoint_load_all(out, (wi_value_t **)&info, NULL);
        ck_assert_ptr_nonnull(back);
        json_array_foreach(json_object_get(sidecar, "tensors"), k, t) {
            const char *as = json_string_value(json_object_get(t, "same_tensor_as"));
            const char *n = json_string_value(json_object_get(t, "name"));
            const char *got = json_string_value(
                json_object_get(json_object_get(info, "metadata"), n));
            ck_assert_msg(!as || (got && strcmp(got, as) == 0),
                          "%s: %s not recorded as %s", name, n, as);
        }
        wi_state_dict_free(back);
        json_decref(info);
        free(err);
        ck_assert_int_eq(run(dir, "inspect", in, NULL, &err), 0);
    } else {
        /* not a checkpoint weightinit reads: an input error */
        ck_assert_msg(status == 2, "%s: exit %d", name, status);
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
                ck_assert_int_eq(run(dir, "inspect", in, NULL, &err), 2);
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
    wi_module_t *m = wi_model_build((const wi_value_t *)model, ctx, rel, "", &err);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(wi_module_load_pretrained(m, path, NULL, ctx, &err) == 0, "%s",
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
    wi_module_t *m = wi_model_build((const wi_value_t *)model, ctx, NULL, "", &err);
    free(warning);
    warning = NULL;
    ck_assert_int_eq(wi_module_load_pretrained(m, path, NULL, ctx, &err), 0);
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
    ck_assert_int_eq(wi_module_load_pretrained(m, path, "backbone", ctx, &err), WI_ENOTFOUND);
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
    ck_assert_int_eq(wi_module_load_pretrained(m, st, NULL, ctx, &err), 0);
    const float *fc = wi_tensor_data(wi_module_find_parameter(wi_module_find_child(m, "fc"), "weight"));
    for (int i = 0; i < 32; i++)
        ck_assert_float_eq(fc[i], 1.0f);
    wi_state_dict_free(wrapped);
    wi_test_rmtree(dir);
    free(dir);
    ck_assert_int_eq(wi_module_load_pretrained(m, "/nonexistent.pth", NULL, ctx, &err), WI_EFILE);
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


/* ---- nested checkpoints (tests/data/checkpoints/nested, made by torch) ---- */

static char **nested;
static size_t n_nested;

static int is_expect(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 12 && strcmp(e->d_name + n - 12, ".expect.json") == 0;
}

static void collect_nested(void)
{
    char *dir = wi_test_data_path("checkpoints/nested");
    struct dirent **list;
    int n = scandir(dir, &list, is_expect, alphasort);
    for (int i = 0; i < n; i++) {
        nested = realloc(nested, (n_nested + 1) * sizeof *nested);
        nested[n_nested++] = strdup(list[i]->d_name);
        free(list[i]);
    }
    free(list);
    free(dir);
}

static void assert_tensors(const wi_state_dict_t *sd, const json_t *want, const char *label)
{
    size_t i;
    json_t *w;
    ck_assert_msg(wi_state_dict_size(sd) == json_array_size(want), "%s: %zu tensors", label,
                  wi_state_dict_size(sd));
    json_array_foreach(want, i, w) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        char hex[65], shape[256], wshape[256];
        ck_assert_str_eq(wi_state_dict_name(sd, i), json_string_value(json_object_get(w, "name")));
        ck_assert_str_eq(wi_dtype_name(wi_tensor_dtype(t)), json_string_value(json_object_get(w, "dtype")));
        int64_t dims[WI_MAX_DIMS];
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(w, "shape"), k, d) dims[k] = json_integer_value(d);
        wi_shape_format((int)json_array_size(json_object_get(w, "shape")), dims, wshape, sizeof wshape);
        wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
        ck_assert_str_eq(shape, wshape);
        wi_test_sha256_hex(wi_tensor_const_data(t), wi_tensor_nbytes(t), hex);
        ck_assert_str_eq(hex, json_string_value(json_object_get(w, "sha256")));
    }
}

static void assert_error(const char *err, const json_t *words, const char *label)
{
    const char *nl = strchr(err, '\n');
    ck_assert_msg(strncmp(err, "weightinit: error: ", 19) == 0 && nl && !nl[1],
                  "%s: not one error line: %s", label, err);
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w)
        ck_assert_msg(strstr(err, json_string_value(w)), "%s: '%s' not in %s", label,
                      json_string_value(w), err);
}

/* inspect shows every tensor with its full key path (--json), convert
 * takes the automatic choice, both refuse "0 tensors" with exit 2. */
START_TEST(nested_cases)
{
    char rel[600], cmd[2000], *err = NULL;
    snprintf(rel, sizeof rel, "checkpoints/nested/%s", nested[_i]);
    json_t *ex = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "checkpoints/nested/%s",
             json_string_value(json_object_get(ex, "file")));
    char *in = wi_test_data_path(rel), *dir = wi_test_mkdtemp();
    json_t *insp = json_object_get(ex, "inspect"), *conv = json_object_get(ex, "convert");
    int want = (int)json_integer_value(json_object_get(insp, "exit"));
    /* inspect --json: the documented fields */
    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s' 2>/dev/null",
             getenv("WI_TEST_WEIGHTINIT"), in);
    FILE *p = popen(cmd, "r");
    json_error_t jerr;
    json_t *doc = json_loadf(p, 0, &jerr);
    int status = pclose(p);
    ck_assert_msg(WEXITSTATUS(status) == want, "%s: inspect exit %d", nested[_i], WEXITSTATUS(status));
    ck_assert_msg(doc, "%s: inspect --json: %s", nested[_i], jerr.text);
    json_t *file = json_array_get(json_object_get(doc, "files"), 0);
    if (want == 0) {
        json_t *tensors = json_object_get(file, "tensors"), *w;
        size_t i;
        uint64_t params = 0, buffers = 0;
        ck_assert_uint_eq(json_array_size(tensors), json_array_size(json_object_get(insp, "tensors")));
        json_array_foreach(json_object_get(insp, "tensors"), i, w) {
            json_t *got = json_array_get(tensors, i);
            ck_assert_str_eq(json_string_value(json_object_get(got, "name")),
                             json_string_value(json_object_get(w, "name")));
            ck_assert(json_equal(json_object_get(got, "shape"), json_object_get(w, "shape")));
            /* parameters and buffers apart, as torch counts them */
            const char *kind = json_string_value(json_object_get(got, "kind"));
            ck_assert(kind && (strcmp(kind, "parameter") == 0 || strcmp(kind, "buffer") == 0));
            *(strcmp(kind, "buffer") == 0 ? &buffers : &params) +=
                (uint64_t)json_integer_value(json_object_get(got, "numel"));
            if (json_integer_value(json_object_get(got, "numel")) == 0)
                ck_assert(json_is_null(json_object_get(got, "mean")));
        }
        ck_assert_uint_eq(json_integer_value(json_object_get(json_object_get(file, "totals"), "parameters")), params);
        ck_assert_uint_eq(json_integer_value(json_object_get(json_object_get(file, "totals"), "buffers")), buffers);
        wi_error_t e;
        wi_state_dict_t *all = wi_checkpoint_load_all(in, NULL, &e);
        ck_assert_ptr_nonnull(all);
        assert_tensors(all, json_object_get(insp, "tensors"), nested[_i]);
        wi_state_dict_free(all);
    } else {
        ck_assert_int_eq(run(dir, "inspect", in, NULL, &err), want);
        assert_error(err, json_object_get(insp, "error_mentions"), nested[_i]);
        free(err);
    }
    json_decref(doc);
    /* convert, to both formats */
    want = (int)json_integer_value(json_object_get(conv, "exit"));
    const char *outs[2] = {"out.safetensors", "out.pth"};
    for (int k = 0; k < 2; k++) {
        status = run(dir, "convert", in, outs[k], &err);
        ck_assert_msg(status == want, "%s: convert exit %d: %s", nested[_i], status, err);
        if (want == 0) {
            char out[700];
            snprintf(out, sizeof out, "%s/%s", dir, outs[k]);
            wi_error_t e;
            wi_state_dict_t *sd = wi_checkpoint_load(out, &e);
            ck_assert_ptr_nonnull(sd);
            assert_tensors(sd, json_object_get(conv, "tensors"), nested[_i]);
            wi_state_dict_free(sd);
            char *chosen = NULL;
            ck_assert_ptr_nonnull(sd = wi_checkpoint_load_key(in, NULL, &chosen, &e));
            ck_assert_str_eq(chosen, json_string_value(json_object_get(conv, "key")));
            wi_state_dict_free(sd);
            /* Pretrained's reader (MMEngine: top level or state_dict)
             * reads the same dict, sharded indexes included */
            if (!chosen[0] || strcmp(chosen, "state_dict") == 0) {
                ck_assert_ptr_nonnull(sd = wi_checkpoint_load(in, &e));
                assert_tensors(sd, json_object_get(conv, "tensors"), nested[_i]);
                wi_state_dict_free(sd);
            }
            free(chosen);
        } else {
            assert_error(err, json_object_get(conv, "error_mentions"), nested[_i]);
            ck_assert_int_eq(wi_test_count_entries(dir), 0);
        }
        free(err);
        err = NULL;
    }
    wi_test_rmtree(dir);
    free(dir);
    free(in);
    json_decref(ex);
}
END_TEST

/* --key picks a dict; a wrong one names the candidates; an unknown
 * output extension is refused before anything is read. */
START_TEST(convert_key_option)
{
    char *in = wi_test_data_path("checkpoints/nested/ema_and_model.pth");
    char *dir = wi_test_mkdtemp(), *err = NULL, out[700];
    json_t *ex = wi_test_load_json("checkpoints/nested/ema_and_model.expect.json");
    char *argv[] = {getenv("WI_TEST_WEIGHTINIT"), "convert", in, "ema.safetensors", "--key", "ema", NULL};
    char errpath[700];
    snprintf(errpath, sizeof errpath, "%s.err", dir);
    ck_assert_int_eq(wi_test_run(dir, argv, errpath), 0);
    snprintf(out, sizeof out, "%s/ema.safetensors", dir);
    wi_error_t e;
    wi_state_dict_t *sd = wi_checkpoint_load(out, &e), *want = wi_checkpoint_load_key(in, "ema", NULL, &e);
    ck_assert_uint_eq(wi_state_dict_size(sd), 7);
    for (size_t i = 0; i < 7; i++) {
        char name[128];
        snprintf(name, sizeof name, "ema.%s", wi_state_dict_name(sd, i));
        json_t *w = json_array_get(json_object_get(json_object_get(ex, "inspect"), "tensors"), 7 + i);
        ck_assert_str_eq(name, json_string_value(json_object_get(w, "name")));
        char hex[65];
        wi_test_sha256_hex(wi_tensor_const_data(wi_state_dict_tensor(sd, i)),
                           wi_tensor_nbytes(wi_state_dict_tensor(sd, i)), hex);
        ck_assert_str_eq(hex, json_string_value(json_object_get(w, "sha256")));
    }
    wi_state_dict_free(sd);
    wi_state_dict_free(want);
    ck_assert_int_eq(run(dir, "convert", in, "x.safetensors", &err), 2);
    free(err);
    char *bad[] = {getenv("WI_TEST_WEIGHTINIT"), "convert", in, "x.safetensors", "--key", "optim", NULL};
    ck_assert_int_eq(wi_test_run(dir, bad, errpath), 2);
    err = wi_test_read_file(errpath, NULL);
    ck_assert_msg(strstr(err, "no dict 'optim'") && strstr(err, "'model' (7 tensors)") &&
                  strstr(err, "--key KEY chooses the dict"), "%s", err);
    free(err);
    /* The library speaks of "the key"; only the command line knows --key. */
    ck_assert_ptr_null(wi_checkpoint_load_key(in, "optim", NULL, &e));
    ck_assert_msg(strstr(e.text, "no dict 'optim'") && !strstr(e.text, "--"), "%s", e.text);
    ck_assert_ptr_null(wi_checkpoint_load_key(in, NULL, NULL, &e));
    ck_assert_msg(strstr(e.text, "choose one as the key") && !strstr(e.text, "--"), "%s", e.text);
    ck_assert_int_eq(run(dir, "convert", in, "x.onnx", &err), 2);
    ck_assert_msg(strstr(err, ".pth") && strstr(err, ".safetensors"), "%s", err);
    free(err);
    remove(errpath);
    ck_assert_int_eq(wi_test_count_entries(dir), 1);
    wi_test_rmtree(dir);
    free(dir);
    free(in);
    json_decref(ex);
}
END_TEST

/* Pretrained on {"model": sd, ...}: nothing matches at the top level, so
 * the warning says where the tensors are; prefix='model' then loads them. */
START_TEST(pretrained_says_where_tensors_are)
{
    char *path = wi_test_data_path("checkpoints/nested/timm_model_epoch.pth");
    json_t *ex = wi_test_load_json("checkpoints/nested/timm_model_epoch.expect.json");
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_log(ctx, keep_warning, NULL);
    json_t *model = json_loads(
        "{\"type\": \"Net\", \"children\": {"
        "\"0\": {\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 4, \"kernel_size\": 3},"
        "\"1\": {\"type\": \"BatchNorm2d\", \"num_features\": 4}}}", 0, NULL);
    wi_error_t err;
    wi_module_t *m = wi_model_build((const wi_value_t *)model, ctx, NULL, "", &err);
    ck_assert_ptr_nonnull(m);
    free(warning);
    warning = NULL;
    ck_assert_int_eq(wi_module_load_pretrained(m, path, NULL, ctx, &err), 0);
    ck_assert_msg(warning && strstr(warning, "0 of 7 keys of the model match") &&
                  strstr(warning, "under 'model.' (7 of 7 match there): use prefix='model'"),
                  "%s", warning);
    free(warning);
    warning = NULL;
    ck_assert_int_eq(wi_module_load_pretrained(m, path, "model", ctx, &err), 0);
    ck_assert_msg(warning == NULL, "%s", warning);
    wi_state_dict_t *sd = wi_module_state_dict(m, &err);
    json_t *want = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(ex, "convert"), "tensors"), i, w)
        json_array_append(want, w);
    assert_tensors(sd, want, "timm");
    json_decref(want);
    wi_state_dict_free(sd);
    wi_module_free(m);
    json_decref(model);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(path);
    json_decref(ex);
}
END_TEST

/* Odd inputs are input errors (exit 2) with one line naming the file;
 * a FIFO is not waited on; nothing is written. */
START_TEST(odd_inputs)
{
    char *dir = wi_test_mkdtemp(), path[700], *err = NULL;
    static const char *const names[] = {"sub", "fifo", "null", "missing.pth", "text.pth"};
    snprintf(path, sizeof path, "%s/sub", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    snprintf(path, sizeof path, "%s/null", dir);
    ck_assert_int_eq(mknod(path, S_IFCHR | 0644, makedev(1, 3)), 0);
    snprintf(path, sizeof path, "%s/text.pth", dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"not\": \"a checkpoint\"}\n", fp);
    fclose(fp);
    char *out = wi_test_mkdtemp();
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        for (int convert = 0; convert < 2; convert++) {
            int status = convert ? run(out, "convert", path, "out.safetensors", &err)
                                 : run(out, "inspect", path, NULL, &err);
            ck_assert_msg(status == 2, "%s: exit %d: %s", names[i], status, err);
            assert_error(err, NULL, names[i]);
            ck_assert_msg(strstr(err, path), "%s: %s", names[i], err);
            free(err);
        }
        ck_assert_int_eq(wi_test_count_entries(out), 0);
    }
    wi_test_rmtree(out);
    wi_test_rmtree(dir);
    free(out);
    free(dir);
}
END_TEST

/* A sharded checkpoint's index that names itself, another index naming
 * it back, or a missing shard: inspect, convert and Pretrained each print
 * the same one line, naming the index and the tensor, exit 2, write
 * nothing (issue 16: they recursed until SIGSEGV; the missing shard named
 * neither). */
START_TEST(index_errors_every_command)
{
    static const struct {
        const char *index, *json, *line;
    } cases[] = {
        {"loop.safetensors.index.json",
         "{\"weight_map\": {\"fc.weight\": \"loop.safetensors.index.json\"}}",
         "loop.safetensors.index.json: fc.weight: weight_map names the shard "
         "'loop.safetensors.index.json', which is an index, not a checkpoint "
         "file (an index cannot name another index)"},
        {"a.index.json", "{\"weight_map\": {\"fc.weight\": \"b.index.json\"}}",
         "a.index.json: fc.weight: weight_map names the shard 'b.index.json', "
         "which is an index, not a checkpoint file (an index cannot name "
         "another index)"},
        {"miss.safetensors.index.json",
         "{\"weight_map\": {\"fc.weight\": \"model-00001-of-00001.safetensors\"}}",
         "miss.safetensors.index.json: fc.weight: weight_map names the shard "
         "'model-00001-of-00001.safetensors', which can not be found"},
    };
    char *dir = wi_test_mkdtemp(), *err = NULL;
    char *b = wi_test_join(dir, "b.index.json");
    FILE *fp = fopen(b, "w");
    fputs("{\"weight_map\": {\"fc.bias\": \"a.index.json\"}}", fp);
    fclose(fp);
    free(b);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *idx = wi_test_join(dir, cases[i].index), *model = wi_test_join(dir, "model.json");
        fp = fopen(idx, "w");
        fputs(cases[i].json, fp);
        fclose(fp);
        fp = fopen(model, "w");
        fprintf(fp, "{\"type\": \"Net\", \"children\": {\"fc\": {\"type\": \"Linear\", "
                "\"in_features\": 3, \"out_features\": 2}}, \"init_cfg\": "
                "{\"type\": \"Pretrained\", \"checkpoint\": \"%s\"}}", cases[i].index);
        fclose(fp);
        int inputs = wi_test_count_entries(dir);
        for (int cmd = 0; cmd < 3; cmd++) {
            char errpath[700], want[1000];
            snprintf(errpath, sizeof errpath, "%s.err", dir);
            char *argv[3][7] = {
                {getenv("WI_TEST_WEIGHTINIT"), "inspect", (char *)cases[i].index, NULL},
                {getenv("WI_TEST_WEIGHTINIT"), "convert", (char *)cases[i].index,
                 "out.safetensors", NULL},
                {getenv("WI_TEST_WEIGHTINIT"), "init", "model.json", "-q", "-o",
                 "out.safetensors", NULL}};
            int status = wi_test_run(dir, argv[cmd], errpath);
            err = wi_test_read_file(errpath, NULL);
            remove(errpath);
            snprintf(want, sizeof want, "weightinit: error: %s%s\n", cases[i].line,
                     cmd == 2 ? " (in Pretrained)" : "");
            ck_assert_msg(status == 2, "%s %s: exit %d: %s", argv[cmd][1],
                          cases[i].index, status, err);
            ck_assert_str_eq(err, want);
            ck_assert_int_eq(wi_test_count_entries(dir), inputs);
            free(err);
        }
        remove(idx);
        free(idx);
        free(model);
    }
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Several files: one document, per-file totals adding up to the grand
 * total; a bad file among them is reported in place and makes exit 2. */
START_TEST(inspect_several_files)
{
    char *a = wi_test_data_path("checkpoints/nested/empty_tensor.pth");
    char *b = wi_test_data_path("checkpoints/h_plain_state_dict.safetensors");
    char *c = wi_test_data_path("checkpoints/i_truncated_zip.pth");
    char cmd[3000];
    for (int bad = 0; bad < 2; bad++) {
        snprintf(cmd, sizeof cmd, "'%s' inspect '%s' --json '%s' %s%s%s 2>/dev/null",
                 getenv("WI_TEST_WEIGHTINIT"), a, b, bad ? "'" : "", bad ? c : "", bad ? "'" : "");
        FILE *p = popen(cmd, "r");
        json_error_t jerr;
        json_t *doc = json_loadf(p, 0, &jerr);
        int status = pclose(p);
        ck_assert_msg(doc, "%s", jerr.text);
        ck_assert_int_eq(WEXITSTATUS(status), bad ? 2 : 0);
        json_t *files = json_object_get(doc, "files");
        ck_assert_uint_eq(json_array_size(files), bad ? 3 : 2);
        json_int_t sum = 0;
        for (size_t i = 0; i < 2; i++)
            sum += json_integer_value(json_object_get(json_object_get(json_array_get(files, i), "totals"), "tensors"));
        /* 2 tensors in empty_tensor.pth, 9 in the safetensors sidecar */
        ck_assert_int_eq(sum, 11);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "totals"), "tensors")), 11);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(files, 1), "metadata"), "format")), "pt");
        if (bad)
            ck_assert_ptr_nonnull(json_string_value(json_object_get(json_array_get(files, 2), "error")));
        json_decref(doc);
    }
    free(a);
    free(b);
    free(c);
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
    wi_module_t *m = wi_model_build((const wi_value_t *)model, ctx, NULL, "", &err);
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
    ck_assert_int_eq(wi_module_load_state_dict(m, sd, 0, ctx, &err), 0);
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
    collect_nested();
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("checkpoints");
    tcase_add_loop_test(tc, convert_and_inspect, 0, (int)n_files);
    tcase_add_test(tc, copy_into_float32);
    tcase_add_test(tc, unexpected_key_order);
    tcase_add_loop_test(tc, load_into_sidecar_model, 0, (int)n_files);
    tcase_add_test(tc, mismatch_warning_and_prefix);
    tcase_add_loop_test(tc, nested_cases, 0, (int)n_nested);
    tcase_add_test(tc, convert_key_option);
    tcase_add_test(tc, pretrained_says_where_tensors_are);
    tcase_add_test(tc, odd_inputs);
    tcase_add_test(tc, index_errors_every_command);
    tcase_add_test(tc, inspect_several_files);
    suite_add_tcase(s, tc);
    int status = wi_test_run_suite(s);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    for (size_t i = 0; i < n_nested; i++)
        free(nested[i]);
    free(nested);
    return status;
}
