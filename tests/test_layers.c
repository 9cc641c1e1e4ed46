/* Built-in layers' default initialisation at construction, against
 * torch 1.13's golden vectors (tests/data/rng/<profile>/layers.json) and,
 * for the layer types issue 19 added, torch 1.13's, 2.12's and 2.15's
 * (tests/data/layers_more/, made by tests/refs/layers_more_refs.py):
 * every parameter and buffer's sha256, in each profile. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

static int outputs_checked;

/* Tensors in each tests/data/layers_more file: both seeds' state dicts
 * (torch 1.13 lacks RMSNorm and Conv1D). */
#define MORE_113 140
#define MORE_2X 150

static void check_output(wi_state_dict_t *sd, const json_t *out,
                         const char *case_name)
{
    const char *name = json_string_value(json_object_get(out, "name"));
    wi_tensor_t *t = wi_state_dict_find(sd, name);
    ck_assert_msg(t != NULL, "%s: no tensor '%s'", case_name, name);
    json_t *shape = json_object_get(out, "shape");
    ck_assert_int_eq(wi_tensor_ndim(t), (int)json_array_size(shape));
    for (size_t i = 0; i < json_array_size(shape); i++)
        ck_assert_int_eq(wi_tensor_shape(t)[i],
                         json_integer_value(json_array_get(shape, i)));
    const char *dtype = json_string_value(json_object_get(out, "dtype"));
    ck_assert_int_eq(wi_tensor_dtype(t),
                     strcmp(dtype, "int64") == 0 ? WI_DTYPE_I64 : WI_DTYPE_F32);
    char hex[65];
    wi_test_sha256_hex(wi_tensor_const_data(t), wi_tensor_nbytes(t), hex);
    ck_assert_msg(strcmp(hex, json_string_value(json_object_get(out, "sha256"))) == 0,
                  "%s: %s differs from torch", case_name, name);
    outputs_checked++;
}

/* Replays one case: constructs every layer in order, then checks the
 * outputs recorded for each op. */
static void replay(const json_t *c, wi_rng_profile_t profile)
{
    const char *case_name = json_string_value(json_object_get(c, "name"));
    json_t *ops = json_object_get(c, "ops"), *outs = json_object_get(c, "outputs");
    wi_generator_t *g = wi_generator_new(0, profile);
    wi_context_t *ctx = wi_context_new(g);
    for (size_t i = 0; i < json_array_size(ops); i++) {
        json_t *op = json_array_get(ops, i);
        const char *name = json_string_value(json_object_get(op, "op"));
        if (strcmp(name, "manual_seed") == 0) {
            wi_generator_manual_seed(
                g, (uint64_t)json_integer_value(json_object_get(op, "seed")));
            continue;
        }
        ck_assert_msg(strncmp(name, "nn.", 3) == 0, "unexpected op %s", name);
        json_t *args = json_deep_copy(op);
        json_object_del(args, "op");
        wi_error_t err;
        wi_module_t *m = wi_layer_new(name + 3, (const wi_value_t *)args, ctx, NULL, "", &err);
        char line[1024];
        ck_assert_msg(m != NULL, "%s op %zu: %s", case_name, i,
                      wi_error_format(&err, line, sizeof line));
        wi_state_dict_t *sd = wi_module_state_dict(m, &err);
        for (size_t k = 0; k < json_array_size(outs); k++) {
            json_t *out = json_array_get(outs, k);
            if ((size_t)json_integer_value(json_object_get(out, "op_index")) == i)
                check_output(sd, out, case_name);
        }
        wi_state_dict_free(sd);
        wi_module_free(m);
        json_decref(args);
    }
    wi_context_free(ctx);
    wi_generator_free(g);
}

/* Replays every case of the file; returns the outputs checked. */
static int run_file(const char *rel, wi_rng_profile_t profile)
{
    json_t *doc = wi_test_load_json(rel);
    json_t *cases = json_object_get(doc, "cases");
    int expected = 0;
    outputs_checked = 0;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        expected += (int)json_array_size(json_object_get(json_array_get(cases, i), "outputs"));
        replay(json_array_get(cases, i), profile);
    }
    ck_assert_int_eq(outputs_checked, expected);
    json_decref(doc);
    return outputs_checked;
}

static void run_profile(const char *dir, wi_rng_profile_t profile)
{
    char rel[128];
    snprintf(rel, sizeof rel, "rng/%s/layers.json", dir);
    ck_assert_int_eq(run_file(rel, profile), 175);
}

/* The added layer types against one torch build: torch1.13-avx2, ...
 * (RMSNorm and Conv1D are absent from torch 1.13's files: it has
 * neither nn.RMSNorm nor transformers). */
static void run_more(const char *build, wi_rng_profile_t profile, int want)
{
    char rel[128];
    snprintf(rel, sizeof rel, "layers_more/%s.json", build);
    ck_assert_int_eq(run_file(rel, profile), want);
}

START_TEST(more_113_avx2) { run_more("torch1.13-avx2", WI_RNG_AVX2, MORE_113); }
END_TEST

START_TEST(more_113_default) { run_more("torch1.13-default", WI_RNG_DEFAULT, MORE_113); }
END_TEST

START_TEST(more_212_avx2) { run_more("torch2.12.0-avx2", WI_RNG_TORCH212_AVX2, MORE_2X); }
END_TEST

START_TEST(more_212_default)
{
    run_more("torch2.12.0-default", WI_RNG_TORCH212_DEFAULT, MORE_2X);
}
END_TEST

START_TEST(more_215_avx2) { run_more("torch2.15.0-avx2", WI_RNG_TORCH212_AVX2, MORE_2X); }
END_TEST

START_TEST(more_215_default)
{
    run_more("torch2.15.0-default", WI_RNG_TORCH213_DEFAULT, MORE_2X);
}
END_TEST

START_TEST(layers_avx2) { run_profile("x86_avx2", WI_RNG_AVX2); }
END_TEST

START_TEST(layers_default) { run_profile("x86_default", WI_RNG_DEFAULT); }
END_TEST

/* The listing behind `weightinit list`: PyTorch's class names of the
 * layer types docs/model-format.md documents, in its order. */
START_TEST(builtin_names)
{
    static const char *const want[] = {
        "Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
        "ConvTranspose2d", "ConvTranspose3d", "BatchNorm1d", "BatchNorm2d",
        "BatchNorm3d", "GroupNorm", "LayerNorm", "Embedding",
        "MultiheadAttention", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
        "InstanceNorm3d", "RMSNorm", "PReLU", "Bilinear", "EmbeddingBag", "Conv1D",
        "RNN", "LSTM", "GRU"};
    size_t n = sizeof want / sizeof want[0];
    ck_assert_uint_eq(wi_layer_builtin_count(), n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(wi_layer_builtin_name(i), want[i]);
        ck_assert(wi_layer_is_builtin(want[i]));
    }
    ck_assert_ptr_null(wi_layer_builtin_name(n));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("golden");
    tcase_add_test(tc, layers_avx2);
    tcase_add_test(tc, layers_default);
    tcase_add_test(tc, builtin_names);
    tcase_add_test(tc, more_113_avx2);
    tcase_add_test(tc, more_113_default);
    tcase_add_test(tc, more_212_avx2);
    tcase_add_test(tc, more_212_default);
    tcase_add_test(tc, more_215_avx2);
    tcase_add_test(tc, more_215_default);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
