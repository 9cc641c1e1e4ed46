/* MMEngine's functional API through the C API: the seed tutorial's
 * golden cases (tutorial_functional_*) replayed call by call, plus the
 * closed-form facts of each helper. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

static double kw(const json_t *kwargs, const char *key, double dflt)
{
    json_t *v = json_object_get(kwargs, key);
    return v ? json_number_value(v) : dflt;
}

static const char *kws(const json_t *kwargs, const char *key, const char *dflt)
{
    json_t *v = json_object_get(kwargs, key);
    return v ? json_string_value(v) : dflt;
}

/* One functional call of args.json, with MMEngine's defaults. */
static int call(wi_module_t *m, wi_generator_t *g, const char *fn,
                const json_t *k, wi_error_t *err)
{
    double bias = kw(k, "bias", 0);
    if (strcmp(fn, "normal_init") == 0)
        return wi_normal_init(m, g, kw(k, "mean", 0), kw(k, "std", 1), bias, err);
    if (strcmp(fn, "kaiming_init") == 0)
        return wi_kaiming_init(m, g, kw(k, "a", 0), kws(k, "mode", "fan_out"),
                               kws(k, "nonlinearity", "relu"), bias,
                               kws(k, "distribution", "normal"), err);
    if (strcmp(fn, "constant_init") == 0)
        return wi_constant_init(m, kw(k, "val", 0), bias, err);
    if (strcmp(fn, "xavier_init") == 0)
        return wi_xavier_init(m, g, kw(k, "gain", 1), bias,
                              kws(k, "distribution", "normal"), err);
    if (strcmp(fn, "uniform_init") == 0)
        return wi_uniform_init(m, g, kw(k, "a", 0), kw(k, "b", 1), bias, err);
    if (strcmp(fn, "trunc_normal_init") == 0)
        return wi_trunc_normal_init(m, g, kw(k, "mean", 0), kw(k, "std", 1),
                                    kw(k, "a", -2), kw(k, "b", 2), bias, err);
    if (strcmp(fn, "caffe2_xavier_init") == 0)
        return wi_caffe2_xavier_init(m, g, bias, err);
    ck_abort_msg("unknown functional call %s", fn);
    return -1;
}


static void replay_profile(const char *name, wi_rng_profile_t profile)
{
    char rel[512], line[1024];
    snprintf(rel, sizeof rel, "cases/%s/args.json", name);
    json_t *args = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "cases/%s/model.json", name);
    char *model = wi_test_data_path(rel);
    wi_generator_t *g = wi_generator_new(
        (uint64_t)json_integer_value(json_object_get(args, "seed")), profile);
    wi_context_t *ctx = wi_context_new(g);
    wi_error_t err;
    wi_module_t *root = wi_model_load_file(model, ctx, &err);
    ck_assert_msg(root != NULL, "%s", wi_error_format(&err, line, sizeof line));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(args, "functional"), i, c) {
        wi_module_t *m = wi_module_get_submodule(
            root, json_string_value(json_object_get(c, "module")));
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(call(m, g, json_string_value(json_object_get(c, "fn")),
                              json_object_get(c, "kwargs"), &err), 0);
    }
    wi_test_assert_state(root, name, profile == WI_RNG_AVX2);
    wi_module_free(root);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(model);
    json_decref(args);
}

/* These goldens have no avx2 variant: both profiles give the same bytes. */
static void replay_case(const char *name)
{
    replay_profile(name, WI_RNG_AVX2);
    replay_profile(name, WI_RNG_DEFAULT);
}

START_TEST(tutorial_functional_normal) { replay_case("tutorial_functional_normal"); }
END_TEST

START_TEST(tutorial_functional_kaiming_then_normal)
{
    replay_case("tutorial_functional_kaiming_then_normal");
}
END_TEST

static wi_module_t *linear(wi_context_t *ctx, int in, int out, int bias)
{
    json_t *args = json_pack("{sisisb}", "in_features", in, "out_features", out,
                             "bias", bias);
    wi_module_t *m = wi_layer_new("Linear", args, ctx, NULL, "", NULL);
    json_decref(args);
    ck_assert_ptr_nonnull(m);
    return m;
}

static void assert_all(wi_tensor_t *t, float v)
{
    const float *d = wi_tensor_data(t);
    for (int64_t i = 0; i < wi_tensor_numel(t); i++)
        ck_assert_float_eq(d[i], v);
}

/* constant_init writes val and bias exactly; bias=False layers only get
 * their weight; bumps versions (the engine's provenance relies on it). */
START_TEST(constant_init_values)
{
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_module_t *m = linear(ctx, 3, 2, 1), *nb = linear(ctx, 3, 2, 0);
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    uint64_t v0 = wi_tensor_version(w);
    ck_assert_int_eq(wi_constant_init(m, 0.5, -2, NULL), 0);
    assert_all(w, 0.5f);
    assert_all(wi_module_find_parameter(m, "bias"), -2.0f);
    ck_assert(wi_tensor_version(w) > v0);
    ck_assert_int_eq(wi_constant_init(nb, 3, 1, NULL), 0);
    assert_all(wi_module_find_parameter(nb, "weight"), 3.0f);
    ck_assert_ptr_null(wi_module_find_parameter(nb, "bias"));
    wi_module_free(m);
    wi_module_free(nb);
    wi_context_free(ctx);
    wi_generator_free(g);
}
END_TEST

/* MMEngine asserts distribution in ['uniform', 'normal']. */
START_TEST(bad_distribution)
{
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_module_t *m = linear(ctx, 3, 2, 1);
    wi_error_t err;
    ck_assert_int_eq(wi_xavier_init(m, g, 1, 0, "gaussian", &err), WI_EINVAL);
    ck_assert(strstr(err.text, "gaussian"));
    ck_assert_int_eq(wi_kaiming_init(m, g, 0, "fan_out", "relu", 0, "Normal", &err),
                     WI_EINVAL);
    ck_assert_int_eq(wi_kaiming_init(m, g, 0, "fan_middle", "relu", 0, "normal", &err),
                     WI_EINVAL);
    wi_module_free(m);
    wi_context_free(ctx);
    wi_generator_free(g);
}
END_TEST

/* bias_init_with_prob(0.01) = -log(99), the seed's -4.59511985013459. */
START_TEST(bias_init_with_prob)
{
    ck_assert_double_eq(wi_bias_init_with_prob(0.01), -log(99.0));
    ck_assert_double_eq_tol(wi_bias_init_with_prob(0.01), -4.59511985013459, 1e-14);
    ck_assert_double_eq(wi_bias_init_with_prob(0.5), 0.0);
}
END_TEST

/* torch 1.13's trunc_normal_ ends with clamp_(min=a, max=b), which
 * refuses a finite bound outside float32 ("value cannot be converted to
 * type float without overflow") and takes -FLT_MAX or -inf; torch gives
 * these values for seed 0, std 1, b 2, a = -FLT_MAX or -inf, both
 * profiles (ATEN_CPU_CAPABILITY=default / avx2). */
START_TEST(trunc_normal_bounds)
{
    static const float want[2][3] = {
        {-0x1.34c57ep-5f, 0x1.5a8a1ap-1f, -0x1.5ce3e0p+0f},
        {-0x1.34c58ep-5f, 0x1.5a8a1ap-1f, -0x1.5ce3e2p+0f}};
    const double ok[] = {-FLT_MAX, -INFINITY};
    for (int p = 0; p < 2; p++) {
        wi_generator_t *g = wi_generator_new(0, p ? WI_RNG_AVX2 : WI_RNG_DEFAULT);
        int64_t shape[1] = {3};
        wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, 1, shape, NULL);
        for (int k = 0; k < 2; k++) {
            wi_generator_manual_seed(g, 0);
            ck_assert_int_eq(wi_trunc_normal_(t, g, 0, 1, ok[k], 2, NULL), 0);
            const float *d = wi_tensor_data(t);
            for (int i = 0; i < 3; i++)
                ck_assert_float_eq(d[i], want[p][i]);
        }
        wi_error_t err;
        const double bad[][2] = {{-1e300, 2}, {-2, 1e300},
                                 {nextafter(-FLT_MAX, -INFINITY), 2},
                                 {-2, nextafter(FLT_MAX, INFINITY)}};
        for (int k = 0; k < 4; k++) {
            ck_assert_int_eq(wi_trunc_normal_(t, g, 0, 1, bad[k][0], bad[k][1], &err),
                             WI_EINVAL);
            ck_assert_str_eq(err.path, k % 2 ? "b" : "a");
            ck_assert(strstr(err.text, "cannot be converted to type float without overflow"));
        }
        wi_tensor_free(t);
        wi_generator_free(g);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("functional");
    TCase *tc = tcase_create("functional");
    tcase_add_test(tc, tutorial_functional_normal);
    tcase_add_test(tc, tutorial_functional_kaiming_then_normal);
    tcase_add_test(tc, constant_init_values);
    tcase_add_test(tc, bad_distribution);
    tcase_add_test(tc, bias_init_with_prob);
    tcase_add_test(tc, trunc_normal_bounds);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
