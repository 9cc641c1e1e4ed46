/* MMEngine's functional API through the C API: the seed tutorial's
 * golden cases (tutorial_functional_*) replayed call by call, plus the
 * closed-form facts of each helper. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
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
    wi_module_t *m = wi_layer_new("Linear", (const wi_value_t *)args, ctx, NULL, "", NULL);
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

/* One case of init_overflow/x86_*.json on a fresh tensor after seed 0. */
static int overflow_call(wi_tensor_t *t, wi_generator_t *g, const char *op,
                         const json_t *a, wi_error_t *err)
{
    if (strcmp(op, "uniform_") == 0)
        return wi_uniform_(t, g, kw(a, "from", 0), kw(a, "to", 1), err);
    if (strcmp(op, "normal_") == 0)
        return wi_normal_(t, g, kw(a, "mean", 0), kw(a, "std", 1), err);
    if (strcmp(op, "trunc_normal_") == 0)
        return wi_trunc_normal_(t, g, kw(a, "mean", 0), kw(a, "std", 1),
                                kw(a, "a", -2), kw(a, "b", 2), err);
    if (strcmp(op, "constant_") == 0)
        return wi_constant_(t, kw(a, "val", 0), err);
    if (strcmp(op, "bias_prob") == 0)
        return wi_constant_(t, wi_bias_init_with_prob(kw(a, "p", 0.5)), err);
    if (strcmp(op, "xavier_uniform_") == 0)
        return wi_xavier_uniform_(t, g, kw(a, "gain", 1), err);
    if (strcmp(op, "xavier_normal_") == 0)
        return wi_xavier_normal_(t, g, kw(a, "gain", 1), err);
    if (strcmp(op, "kaiming_uniform_") == 0)
        return wi_kaiming_uniform_(t, g, kw(a, "a", 0), kws(a, "mode", "fan_in"),
                                   kws(a, "nonlinearity", "leaky_relu"), err);
    if (strcmp(op, "kaiming_normal_") == 0)
        return wi_kaiming_normal_(t, g, kw(a, "a", 0), kws(a, "mode", "fan_in"),
                                  kws(a, "nonlinearity", "leaky_relu"), err);
    ck_abort_msg("unknown op %s", op);
    return -1;
}

/* Arguments whose arithmetic overflows, against torch 1.13
 * (init_overflow/make_refs.py): where torch raises we refuse (Kaiming's
 * OverflowError names the argument "a"), where it writes inf, NaN or
 * zeros without a word we write the same bits. */
START_TEST(overflow_as_torch)
{
    static const struct { const char *file; wi_rng_profile_t profile; } profiles[] = {
        {"init_overflow/x86_avx2.json", WI_RNG_AVX2},
        {"init_overflow/x86_default.json", WI_RNG_DEFAULT}};
    json_t *doc = wi_test_load_json(profiles[_i].file);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        const char *op = json_string_value(json_object_get(c, "op"));
        const json_t *jshape = json_object_get(c, "shape");
        int64_t shape[2];
        int ndim = (int)json_array_size(jshape);
        for (int d = 0; d < ndim; d++)
            shape[d] = json_integer_value(json_array_get(jshape, (size_t)d));
        wi_generator_t *g = wi_generator_new(0, profiles[_i].profile);
        wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, ndim, shape, NULL);
        wi_error_t err;
        wi_error_clear(&err);
        int rc = overflow_call(t, g, op, json_object_get(c, "args"), &err);
        const char *raises = json_string_value(json_object_get(c, "raises"));
        if (raises) {
            ck_assert_msg(rc == WI_EINVAL, "case %zu %s: torch raises %s, we "
                          "returned %d", i, op, raises, rc);
            if (strncmp(raises, "OverflowError", 13) == 0) {
                ck_assert_str_eq(err.path, "a");
                ck_assert_msg(strstr(err.text, "OverflowError") &&
                              strstr(err.text, "expected"), "%s", err.text);
            }
        } else {
            ck_assert_msg(rc == 0, "case %zu %s: %s", i, op, err.text);
            const json_t *bits = json_object_get(c, "bits");
            const float *v = wi_tensor_const_data(t);
            ck_assert_uint_eq(json_array_size(bits), (size_t)wi_tensor_numel(t));
            for (size_t k = 0; k < json_array_size(bits); k++) {
                uint32_t got;
                char hex[9];
                memcpy(&got, &v[k], 4);
                snprintf(hex, sizeof hex, "%08x", got);
                ck_assert_msg(strcmp(hex, json_string_value(json_array_get(bits, k))) == 0,
                              "case %zu %s element %zu: %s, torch %s", i, op, k,
                              hex, json_string_value(json_array_get(bits, k)));
            }
        }
        wi_tensor_free(t);
        wi_generator_free(g);
    }
    json_decref(doc);
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
    tcase_add_loop_test(tc, overflow_as_torch, 0, 2);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
