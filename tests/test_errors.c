/* error.h: the wi_error_t argument is optional.  Every fallible public
 * function, called on an input that makes it fail and a NULL error
 * pointer, returns its documented failure (the right WI_E* code, or
 * NULL) and neither crashes nor writes through the NULL pointer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <jansson.h>
#include <weightinit/weightinit.h>

#include "util.h"

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(v);
    return v;
}

static const char net[] =
    "{\"type\": \"Net\", \"children\": {\"fc\": {\"type\": \"Linear\", "
    "\"in_features\": 3, \"out_features\": 2}, \"bn\": {\"type\": \"BatchNorm1d\", "
    "\"num_features\": 3}}}";

struct fixture {
    wi_generator_t *g;
    wi_context_t *ctx;
    wi_module_t *m;
};

static struct fixture setup(const char *model)
{
    struct fixture f;
    f.g = wi_generator_new(0, WI_RNG_AVX2);
    f.ctx = wi_context_new(f.g);
    wi_registry_load_search_path(wi_registry_default());
    json_t *doc = parse(model);
    f.m = wi_model_build((const wi_value_t *)doc, f.ctx, "net.json", "", NULL);
    ck_assert_ptr_nonnull(f.m);
    json_decref(doc);
    return f;
}

static void teardown(struct fixture *f)
{
    wi_module_free(f->m);
    wi_context_free(f->ctx);
    wi_generator_free(f->g);
}

/* The crash of the issue: an unknown type through init_weights. */
START_TEST(engine_null_error)
{
    static const char *const cfgs[][2] = {
        {"{\"type\": \"Xaiver\", \"layer\": \"Linear\"}", "unknown type"},
        {"{\"type\": \"Kaiming\", \"layer\": \"Linear\", \"mode\": \"fan_avg\"}", "bad argument"},
        {"{\"type\": \"Constant\", \"val\": 1, \"override\": {\"name\": \"nope\"}}", "no child"},
        {"{\"type\": \"Xavier\", \"layer\": \"BatchNorm1d\"}", "1-D weight"},
        {"{\"type\": \"Pretrained\", \"checkpoint\": \"/nonexistent.pth\"}", "missing file"},
        {"\"Kaiming\"", "not a dict"}};
    static const int codes[] = {WI_ENOTFOUND, WI_EINVAL, WI_ENOTFOUND, WI_EINVAL,
                                WI_EFILE, WI_EINVAL};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        struct fixture f = setup(net);
        json_t *cfg = json_loads(cfgs[i][0], JSON_DECODE_ANY, NULL);
        ck_assert_msg(wi_initialize(f.m, (const wi_value_t *)cfg, f.ctx, NULL) == codes[i],
                      "initialize, %s", cfgs[i][1]);
        teardown(&f);
        f = setup(net);
        wi_module_set_init_cfg_new(f.m, (wi_value_t *)cfg);
        ck_assert_msg(wi_init_weights(f.m, f.ctx, NULL) == codes[i],
                      "init_weights, %s", cfgs[i][1]);
        teardown(&f);
    }
}
END_TEST

/* A plugin's own failure code comes back even without an error struct. */
START_TEST(plugin_failure_code_null_error)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/broken_at_run_time.so", getenv("WI_TEST_BROKEN_PLUGINDIR"));
    ck_assert_int_eq(wi_registry_load_plugin(wi_registry_default(), path, NULL), 0);
    struct fixture f = setup(net);
    json_t *cfg = parse("{\"type\": \"FailAtRunTime\", \"layer\": \"Linear\"}");
    ck_assert_int_eq(wi_initialize(f.m, (const wi_value_t *)cfg, f.ctx, NULL), WI_EIO);
    json_decref(cfg);
    teardown(&f);
}
END_TEST

START_TEST(model_null_error)
{
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    ck_assert_ptr_null(wi_model_load_file("/nonexistent/model.json", ctx, NULL));
    ck_assert_ptr_null(wi_model_read_file("/nonexistent/model.json", NULL));
    ck_assert_ptr_null(wi_model_read_file(NULL, NULL));
    static const char *const bad[] = {
        "{\"type\": \"Net\", \"children\": {\"fc\": {\"type\": \"Linear\", \"in_features\": \"x\"}}}",
        "{\"type\": \"Net\", \"params\": {\"w\": [-1]}}",
        "{\"type\": \"Net\", \"plain\": true, \"init_cfg\": {\"type\": \"Constant\"}}",
        "{\"type\": \"Net\", \"children\": {\"a\": 3}}",
        "{\"type\": \"Net\", \"frobnicate\": 1}",
        "{\"type\": \"Net\", \"plugins\": [\"/nonexistent/p.so\"]}",
        "[1, 2]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *doc = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert_msg(wi_model_build((const wi_value_t *)doc, ctx, "m.json", "", NULL) == NULL, "%s", bad[i]);
        json_decref(doc);
    }
    json_t *doc = parse("{\"type\": \"Net\", \"plugins\": [\"/nonexistent/p.so\"]}");
    ck_assert_int_eq(wi_model_load_plugins((const wi_value_t *)doc, ctx, "m.json", NULL), WI_EPLUGIN);
    json_decref(doc);
    json_t *args = parse("{\"in_features\": 3}");
    ck_assert_ptr_null(wi_layer_new("Linear", (const wi_value_t *)args, ctx, NULL, "", NULL));
    json_decref(args);
    wi_context_free(ctx);
    wi_generator_free(g);
}
END_TEST

START_TEST(registry_null_error)
{
    char *dir = wi_test_mkdtemp(), fifo[512], text[512];
    snprintf(fifo, sizeof fifo, "%s/x.so", dir);
    snprintf(text, sizeof text, "%s/t.so", dir);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    FILE *f = fopen(text, "w");
    fputs("not ELF\n", f);
    fclose(f);
    wi_registry_t *reg = wi_registry_new();
    ck_assert_int_eq(wi_registry_load_plugin(reg, "/nonexistent/x.so", NULL), WI_EPLUGIN);
    ck_assert_int_eq(wi_registry_load_plugin(reg, fifo, NULL), WI_EPLUGIN);
    ck_assert_int_eq(wi_registry_load_plugin(reg, text, NULL), WI_EPLUGIN);
    ck_assert_int_eq(wi_registry_load_plugin(reg, NULL, NULL), WI_EINVAL);
    ck_assert_ptr_null(wi_registry_find_initializer(reg, "Nope", NULL));
    ck_assert_int_eq(wi_registry_add_initializer(reg, NULL, "test", NULL), WI_EPLUGIN);
    ck_assert_int_eq(wi_registry_add_module_type(reg, NULL, "test", NULL), WI_EPLUGIN);
    char dup[1024];
    snprintf(dup, sizeof dup, "%s/broken_duplicate_a.so", getenv("WI_TEST_BROKEN_PLUGINDIR"));
    ck_assert_int_eq(wi_registry_load_plugin(reg, dup, NULL), 0);
    snprintf(dup, sizeof dup, "%s/broken_duplicate_b.so", getenv("WI_TEST_BROKEN_PLUGINDIR"));
    ck_assert_int_eq(wi_registry_load_plugin(reg, dup, NULL), WI_EINVAL);
    wi_registry_free(reg);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(checkpoint_null_error)
{
    char *dir = wi_test_mkdtemp(), fake[512], out[512];
    snprintf(fake, sizeof fake, "%s/fake.pth", dir);
    snprintf(out, sizeof out, "%s/no/such/dir/out.safetensors", dir);
    FILE *f = fopen(fake, "w");
    fputs("<html>not a checkpoint</html>\n", f);
    fclose(f);
    ck_assert_ptr_null(wi_checkpoint_load("/nonexistent.pth", NULL));
    ck_assert_ptr_null(wi_checkpoint_load(fake, NULL));
    ck_assert_ptr_null(wi_checkpoint_load(NULL, NULL));
    struct fixture fx = setup(net);
    ck_assert_int_eq(wi_module_load_pretrained(fx.m, "/nonexistent.pth", NULL, fx.ctx, NULL),
                     WI_EFILE);
    ck_assert_int_eq(wi_module_load_pretrained(fx.m, fake, NULL, fx.ctx, NULL), WI_EFORMAT);
    ck_assert_ptr_null(wi_checkpoint_fetch("http://127.0.0.1:1/", fx.ctx, NULL));
    wi_state_dict_t *sd = wi_module_state_dict(fx.m, NULL);
    ck_assert_ptr_nonnull(sd);
    ck_assert_int_eq(wi_safetensors_save(out, sd, NULL, NULL), WI_EIO);
    /* strict: a key the module lacks is an error. */
    int64_t one = 1;
    wi_state_dict_t *extra = wi_state_dict_new();
    ck_assert_int_eq(wi_state_dict_append_new(extra, "nope", wi_tensor_new(WI_DTYPE_F32, 1, &one, NULL), NULL), 0);
    ck_assert_int_lt(wi_module_load_state_dict(fx.m, extra, 1, fx.ctx, NULL), 0);
    ck_assert_int_lt(wi_state_dict_append(extra, "nope", NULL, NULL), 0);
    wi_state_dict_free(extra);
    wi_state_dict_free(sd);
    teardown(&fx);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(tensor_init_null_error)
{
    int64_t bad[] = {-1}, one[] = {3}, two[] = {2, 3};
    ck_assert_ptr_null(wi_tensor_new(WI_DTYPE_F32, 1, bad, NULL));
    ck_assert_ptr_null(wi_tensor_new(WI_DTYPE_F32, 9, two, NULL));
    ck_assert_ptr_null(wi_tensor_wrap(WI_DTYPE_F32, 1, bad, NULL, NULL, NULL, NULL));
    wi_tensor_t *v = wi_tensor_new(WI_DTYPE_F32, 1, one, NULL);
    wi_tensor_t *w = wi_tensor_new(WI_DTYPE_F32, 2, two, NULL);
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    int64_t fi, fo;
    double gain;
    ck_assert_int_lt(wi_tensor_copy_(v, w, NULL), 0);
    ck_assert_int_eq(wi_calculate_fan_in_and_fan_out(v, &fi, &fo, NULL), WI_EINVAL);
    ck_assert_int_lt(wi_calculate_gain("nope", NULL, &gain, NULL), 0);
    ck_assert_int_lt(wi_xavier_uniform_(v, g, 1.0, NULL), 0);
    ck_assert_int_lt(wi_xavier_normal_(v, g, 1.0, NULL), 0);
    ck_assert_int_lt(wi_kaiming_uniform_(w, g, 0, "fan_avg", "relu", NULL), 0);
    ck_assert_int_lt(wi_kaiming_normal_(w, g, 0, "fan_in", "nope", NULL), 0);
    ck_assert_int_lt(wi_uniform_(w, g, 1.0, 0.0, NULL), 0);
    ck_assert_int_lt(wi_trunc_normal_(w, g, 0, 1, 2, -2, NULL), 0);
    wi_rng_profile_t p;
    ck_assert_int_eq(wi_rng_profile_from_name("avx512", &p, NULL), WI_EINVAL);
    wi_module_t *m = wi_module_new("M", 1);
    ck_assert_int_eq(wi_module_add_parameter_new(m, "weight", v, NULL), 0);
    ck_assert_int_lt(wi_module_add_parameter_new(m, "weight", w, NULL), 0); /* steals w */
    ck_assert_int_lt(wi_module_set_parameter_info(m, 5, "x", NULL), 0);
    ck_assert_int_lt(wi_xavier_init(m, g, 1.0, 0.0, "student-t", NULL), 0);
    ck_assert_int_lt(wi_kaiming_init(m, g, 0, "fan_avg", "relu", 0, "normal", NULL), 0);
    wi_module_free(m);
    wi_generator_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("null error pointer");
    tcase_add_test(tc, engine_null_error);
    tcase_add_test(tc, plugin_failure_code_null_error);
    tcase_add_test(tc, model_null_error);
    tcase_add_test(tc, registry_null_error);
    tcase_add_test(tc, checkpoint_null_error);
    tcase_add_test(tc, tensor_init_null_error);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
