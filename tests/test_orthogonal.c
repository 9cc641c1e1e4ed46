/* The user-style example plugins (plugins/examples/), loaded from their
 * files into a fresh registry the way a user loads theirs:
 * Orthogonal against torch.nn.init.orthogonal_ (data/orthogonal/, made by
 * make_reference.py), and PositionalEmbedding's sinusoidal table and
 * report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

/* Loads the example plugin $WI_TEST_EXAMPLE_PLUGINDIR/<name>.so. */
static void load_into(wi_registry_t *reg, const char *name)
{
    const char *dir = getenv("WI_TEST_EXAMPLE_PLUGINDIR");
    ck_assert_msg(dir != NULL, "WI_TEST_EXAMPLE_PLUGINDIR is not set");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", dir, name);
    wi_error_t err;
    ck_assert_msg(wi_registry_load_plugin(reg, path, &err) == 0, "%s: %s",
                  path, err.text);
}

/* A fresh registry holding only the example plugin `name`. */
static wi_registry_t *registry_with(const char *name)
{
    wi_registry_t *reg = wi_registry_new();
    ck_assert_ptr_nonnull(reg);
    load_into(reg, name);
    return reg;
}

/* Builds model (a JSON text) with a generator seeded `seed` and the
 * registry, and runs init_weights.  The AVX2 profile: reference.json was
 * made on an x86-64 CPU with AVX2+FMA (meta.cpu_capability), where torch
 * uses the vector normal_ kernel. */
typedef struct run {
    wi_generator_t *g;
    wi_context_t *ctx;
    wi_module_t *root;
} run_t;

static run_t run_model(const char *model, uint64_t seed, wi_registry_t *reg)
{
    run_t r;
    json_error_t jerr;
    wi_error_t err;
    json_t *node = json_loads(model, 0, &jerr);
    ck_assert_msg(node != NULL, "%s: %s", model, jerr.text);
    r.g = wi_generator_new(seed, WI_RNG_AVX2);
    r.ctx = wi_context_new(r.g);
    wi_context_set_registry(r.ctx, reg);
    r.root = wi_model_build((const wi_value_t *)node, r.ctx, "model", "", &err);
    json_decref(node);
    ck_assert_msg(r.root != NULL, "%s: %s: %s", model, err.path, err.text);
    ck_assert_msg(wi_init_weights(r.root, r.ctx, &err) == 0, "%s: %s: %s",
                  model, err.path, err.text);
    return r;
}

static void run_free(run_t *r)
{
    wi_module_free(r->root);
    wi_context_free(r->ctx);
    wi_generator_free(r->g);
}

/* The report's info for parameter `name`. */
struct find_info {
    const char *name;
    char info[512];
};

static int find_info(const char *name, const wi_tensor_t *t, const char *info,
                     void *ud)
{
    struct find_info *f = ud;
    if (strcmp(name, f->name) == 0)
        snprintf(f->info, sizeof f->info, "%s", info);
    return 0;
}

static const char *report_info(wi_module_t *root, const char *name,
                               struct find_info *f)
{
    f->name = name;
    f->info[0] = '\0';
    ck_assert_int_eq(wi_init_report(root, find_info, f), 0);
    return f->info;
}

/* The largest |(W W^T - g^2 I)| (rows <= cols) or |(W^T W - g^2 I)|. */
static double orthogonality_error(const float *w, int64_t rows, int64_t cols,
                                  double gain)
{
    int wide = rows <= cols;
    int64_t k = wide ? rows : cols, len = wide ? cols : rows;
    double worst = 0.0;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            double s = 0.0;
            for (int64_t l = 0; l < len; l++)
                s += wide ? (double)w[i * cols + l] * w[j * cols + l]
                          : (double)w[l * cols + i] * w[l * cols + j];
            double e = fabs(s - (i == j ? gain * gain : 0.0));
            if (e > worst)
                worst = e;
        }
    return worst;
}

START_TEST(orthogonal_matches_torch)
{
    json_t *ref = wi_test_load_json("orthogonal/reference.json");
    json_t *cases = json_object_get(ref, "cases");
    ck_assert_int_gt(json_array_size(cases), 0);
    wi_registry_t *reg = registry_with("wi_orthogonal");
    double max_diff = 0.0, max_orth = 0.0;

    size_t ci;
    json_t *c;
    json_array_foreach(cases, ci, c) {
        json_t *shape = json_object_get(c, "shape");
        json_t *values = json_object_get(c, "values");
        double gain = json_number_value(json_object_get(c, "gain"));
        uint64_t seed = (uint64_t)json_integer_value(json_object_get(c, "seed"));
        char *shape_text = json_dumps(shape, JSON_COMPACT);
        char *gain_text = json_dumps(json_object_get(c, "gain"),
                                     JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        char model[512];
        snprintf(model, sizeof model,
                 "{\"type\": \"W\", \"params\": {\"weight\": %s}, "
                 "\"init_cfg\": {\"type\": \"Orthogonal\", \"layer\": \"W\", "
                 "\"gain\": %s}}",
                 shape_text, gain_text);
        run_t r = run_model(model, seed, reg);

        wi_tensor_t *w = wi_module_find_parameter(r.root, "weight");
        const float *x = wi_tensor_const_data(w);
        int64_t n = wi_tensor_numel(w);
        int64_t rows = wi_tensor_shape(w)[0], cols = n / rows;
        ck_assert_int_eq(n, (int64_t)json_array_size(values));
        for (int64_t i = 0; i < n; i++) {
            double want = json_number_value(json_array_get(values, (size_t)i));
            double d = fabs(x[i] - want);
            ck_assert_msg(d <= 1e-5, "case %zu (seed %llu, shape %s, gain %s): "
                          "value %lld is %.9g, torch has %.9g", ci,
                          (unsigned long long)seed, shape_text, gain_text,
                          (long long)i, (double)x[i], want);
            if (d > max_diff)
                max_diff = d;
        }
        double orth = orthogonality_error(x, rows, cols, gain);
        ck_assert_msg(orth <= 1e-5, "case %zu (shape %s, gain %s): "
                      "orthogonality error %.3g", ci, shape_text, gain_text,
                      orth);
        if (orth > max_orth)
            max_orth = orth;

        struct find_info f;
        char expected[128];
        snprintf(expected, sizeof expected, "OrthogonalInit: gain=%s, bias=0",
                 gain_text);
        ck_assert_str_eq(report_info(r.root, "weight", &f), expected);

        run_free(&r);
        free(shape_text);
        free(gain_text);
    }
    fprintf(stderr, "orthogonal: %zu cases, max |w - torch| = %.3g, "
            "max orthogonality error = %.3g\n", json_array_size(cases),
            max_diff, max_orth);
    wi_registry_free(reg);
    json_decref(ref);
}
END_TEST

/* A Linear-like module: weight orthogonal, bias the config's bias; a
 * default gain prints as "1". */
START_TEST(orthogonal_bias_and_info)
{
    wi_registry_t *reg = registry_with("wi_orthogonal");
    run_t r = run_model("{\"type\": \"L\", \"params\": {\"weight\": [3, 4], "
                        "\"bias\": [3]}, \"init_cfg\": {\"type\": "
                        "\"Orthogonal\", \"layer\": \"L\", \"bias\": 0.5}}",
                        0, reg);
    const float *b = wi_tensor_const_data(wi_module_find_parameter(r.root, "bias"));
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq(b[i], 0.5f);
    struct find_info f;
    ck_assert_str_eq(report_info(r.root, "weight", &f),
                     "OrthogonalInit: gain=1, bias=0.5");
    ck_assert_str_eq(report_info(r.root, "bias", &f),
                     "OrthogonalInit: gain=1, bias=0.5");
    run_free(&r);
    wi_registry_free(reg);
}
END_TEST

static void expect_build_or_init_error(const char *model, const char *reg_name,
                                       const char *path, const char *words)
{
    wi_registry_t *reg = registry_with(reg_name);
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_registry(ctx, reg);
    json_error_t jerr;
    wi_error_t err;
    json_t *node = json_loads(model, 0, &jerr);
    ck_assert_ptr_nonnull(node);
    wi_module_t *m = wi_model_build((const wi_value_t *)node, ctx, "model.json", "", &err);
    int rc = m ? wi_init_weights(m, ctx, &err) : err.code;
    ck_assert_int_lt(rc, 0);
    ck_assert_msg(strstr(err.text, words), "'%s' not in: %s", words, err.text);
    ck_assert_str_eq(err.path, path);
    wi_module_free(m);
    json_decref(node);
    wi_context_free(ctx);
    wi_generator_free(g);
    wi_registry_free(reg);
}

START_TEST(orthogonal_errors)
{
    expect_build_or_init_error(
        "{\"type\": \"B\", \"params\": {\"weight\": [5]}, \"init_cfg\": "
        "{\"type\": \"Orthogonal\", \"layer\": \"B\"}}",
        "wi_orthogonal", "init_cfg",
        "Only tensors with 2 or more dimensions are supported: 'weight' of B");
    expect_build_or_init_error(
        "{\"type\": \"B\", \"params\": {\"weight\": [2, 2]}, \"init_cfg\": "
        "{\"type\": \"Orthogonal\", \"layer\": \"B\", \"gain\": \"2\"}}",
        "wi_orthogonal", "init_cfg.gain", "gain must be a number");
    expect_build_or_init_error(
        "{\"type\": \"B\", \"params\": {\"weight\": [2, 2]}, \"init_cfg\": "
        "{\"type\": \"Orthogonal\", \"layer\": \"B\", \"std\": 2}}",
        "wi_orthogonal", "init_cfg.std", "unexpected argument 'std'");
}
END_TEST

/* An empty weight is a no-op that draws nothing (torch returns early). */
START_TEST(orthogonal_empty_weight)
{
    wi_registry_t *reg = registry_with("wi_orthogonal");
    run_t r = run_model("{\"type\": \"E\", \"params\": {\"weight\": [0, 3]}, "
                        "\"init_cfg\": {\"type\": \"Orthogonal\", \"layer\": "
                        "\"E\"}}", 3, reg);
    wi_generator_t *fresh = wi_generator_new(3, WI_RNG_AVX2);
    ck_assert_uint_eq(wi_generator_random32(r.g), wi_generator_random32(fresh));
    wi_generator_free(fresh);
    run_free(&r);
    wi_registry_free(reg);
}
END_TEST

START_TEST(positional_embedding_table)
{
    wi_registry_t *reg = registry_with("wi_positional_embedding");
    run_t r = run_model("{\"type\": \"PositionalEmbedding\", "
                        "\"num_positions\": 5, \"embedding_dim\": 4}", 0, reg);
    wi_tensor_t *w = wi_module_find_parameter(r.root, "weight");
    ck_assert_int_eq(wi_tensor_ndim(w), 2);
    ck_assert_int_eq(wi_tensor_shape(w)[0], 5);
    ck_assert_int_eq(wi_tensor_shape(w)[1], 4);
    const float *x = wi_tensor_const_data(w);
    for (int p = 0; p < 5; p++)
        for (int i = 0; i < 4; i += 2) {
            double angle = p / pow(10000.0, i / 4.0);
            ck_assert_float_eq_tol(x[p * 4 + i], (float)sin(angle), 1e-7);
            ck_assert_float_eq_tol(x[p * 4 + i + 1], (float)cos(angle), 1e-7);
        }
    /* Row 1: sin(1), cos(1), sin(0.01), cos(0.01). */
    ck_assert_float_eq_tol(x[4], 0.84147098f, 1e-7);
    ck_assert_float_eq_tol(x[6], 0.0099998333f, 1e-9);
    /* The root's own user-defined init_weights wrote it: the engine
     * attributes that to the root too (MMEngine would dump its report
     * inside super().init_weights(), before the table is written). */
    struct find_info f;
    ck_assert_str_eq(report_info(r.root, "weight", &f),
                     "Initialized by user-defined `init_weights` in "
                     "PositionalEmbedding");
    run_free(&r);
    wi_registry_free(reg);
}
END_TEST

/* An odd embedding_dim leaves the last column a sine.  init_weights calls
 * BaseModule's first: its init_cfg still initialises the child (and the
 * module's own weight, which the table then overwrites). */
START_TEST(positional_embedding_odd_dim_and_init_cfg)
{
    wi_registry_t *reg = registry_with("wi_positional_embedding");
    load_into(reg, "wi_orthogonal");
    run_t r = run_model("{\"type\": \"PositionalEmbedding\", "
                        "\"num_positions\": 3, \"embedding_dim\": 3, "
                        "\"init_cfg\": {\"type\": \"Orthogonal\", \"layer\": "
                        "[\"PositionalEmbedding\", \"C\"]}, "
                        "\"children\": {\"c\": {\"type\": \"C\", \"params\": "
                        "{\"weight\": [2, 2]}}}}", 0, reg);
    const float *x = wi_tensor_const_data(wi_module_find_parameter(r.root, "weight"));
    for (int p = 0; p < 3; p++) {
        ck_assert_float_eq_tol(x[p * 3 + 0], (float)sin(p), 1e-7);
        ck_assert_float_eq_tol(x[p * 3 + 1], (float)cos(p), 1e-7);
        ck_assert_float_eq_tol(x[p * 3 + 2],
                               (float)sin(p / pow(10000.0, 2.0 / 3.0)), 1e-7);
    }
    const float *c = wi_tensor_const_data(
        wi_module_find_parameter(wi_module_find_child(r.root, "c"), "weight"));
    ck_assert_float_lt(fabs(c[0] * c[0] + c[2] * c[2] - 1.0), 1e-6);
    struct find_info f;
    ck_assert_str_eq(report_info(r.root, "c.weight", &f),
                     "OrthogonalInit: gain=1, bias=0");
    ck_assert_str_eq(report_info(r.root, "weight", &f),
                     "Initialized by user-defined `init_weights` in "
                     "PositionalEmbedding");
    run_free(&r);
    wi_registry_free(reg);
}
END_TEST

START_TEST(positional_embedding_errors)
{
    expect_build_or_init_error(
        "{\"type\": \"PositionalEmbedding\", \"num_positions\": 5}",
        "wi_positional_embedding", "", "needs 'embedding_dim'");
    expect_build_or_init_error(
        "{\"type\": \"PositionalEmbedding\", \"num_positions\": 0, "
        "\"embedding_dim\": 4}",
        "wi_positional_embedding", "num_positions",
        "num_positions must be a positive int (below 2^31), got 0");
    expect_build_or_init_error(
        "{\"type\": \"N\", \"children\": {\"pe\": {\"type\": "
        "\"PositionalEmbedding\", \"num_positions\": 5, \"embedding_dim\": "
        "4.0}}}",
        "wi_positional_embedding", "children.pe.embedding_dim", "got 4.0");
    expect_build_or_init_error(
        "{\"type\": \"N\", \"children\": {\"pe\": {\"type\": "
        "\"PositionalEmbedding\", \"num_positions\": 5, \"embedding_dim\": "
        "4, \"max_len\": 9}}}",
        "wi_positional_embedding", "children.pe.max_len",
        "unexpected argument 'max_len'");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("orthogonal");
    TCase *tc = tcase_create("examples");
    tcase_add_test(tc, orthogonal_matches_torch);
    tcase_add_test(tc, orthogonal_bias_and_info);
    tcase_add_test(tc, orthogonal_errors);
    tcase_add_test(tc, orthogonal_empty_weight);
    tcase_add_test(tc, positional_embedding_table);
    tcase_add_test(tc, positional_embedding_odd_dim_and_init_cfg);
    tcase_add_test(tc, positional_embedding_errors);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
