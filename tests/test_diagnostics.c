/* init_cfg diagnostics and `names` entries (issue 11 items 3 and 6):
 * the data cases in tests/data/diagnostics/<case>/{model.json,
 * [init_cfg.json], expect.json} run through the command (warnings with
 * exit 0, then --strict: the same lines as errors, exit 2, no output);
 * the C API's list (kinds, JSON paths, suggestions); the errors of
 * malformed `names` entries; and an initializer type built against ABI
 * 1.2 (no init_tensor member) still registering. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <jansson.h>
#include <weightinit/weightinit.h>

#include "util.h"

static char **cases;
static size_t n_cases;

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void collect(void)
{
    char *dir = wi_test_data_path("diagnostics");
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            cases = realloc(cases, (n_cases + 1) * sizeof *cases);
            cases[n_cases++] = strdup(list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    free(dir);
}

static void copy_inputs(const char *name, const char *dir)
{
    const char *files[] = {"model.json", "init_cfg.json"};
    for (int i = 0; i < 2; i++) {
        char rel[512], to[700];
        snprintf(rel, sizeof rel, "diagnostics/%s/%s", name, files[i]);
        char *from = wi_test_data_path(rel);
        size_t n;
        char *text = wi_test_read_file(from, &n);
        free(from);
        if (!text)
            continue;
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        FILE *f = fopen(to, "w");
        ck_assert(f && fwrite(text, 1, n, f) == n && fclose(f) == 0);
        free(text);
    }
}

/* The lines of text that contain `marker`, each the part after it. */
static json_t *lines_after(const char *text, const char *marker)
{
    json_t *out = json_array();
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        char *at = strstr(line, marker);
        if (at)
            json_array_append_new(out, json_string(at + strlen(marker)));
        free(line);
        p = nl ? nl + 1 : NULL;
    }
    return out;
}

static int run_in(const char *dir, const char *name, const json_t *extra,
                  int strict, char **err)
{
    char *argv[16], errpath[700];
    int argc = 0;
    size_t i;
    json_t *v;
    argv[argc++] = getenv("WI_TEST_WEIGHTINIT");
    argv[argc++] = "init";
    argv[argc++] = "model.json";
    json_array_foreach(extra, i, v)
        argv[argc++] = (char *)json_string_value(v);
    argv[argc++] = "-o";
    argv[argc++] = "out.safetensors";
    /* The construction-only note is an INFO record. */
    argv[argc++] = "--log-level";
    argv[argc++] = "info";
    if (strict)
        argv[argc++] = "--strict";
    argv[argc] = NULL;
    snprintf(errpath, sizeof errpath, "%s.stderr", dir);
    int status = wi_test_run(dir, argv, errpath);
    *err = wi_test_read_file(errpath, NULL);
    ck_assert_msg(*err != NULL, "%s: no stderr file", name);
    remove(errpath);
    return status;
}

static int exists(const char *dir, const char *file)
{
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return stat(path, &st) == 0;
}

START_TEST(diagnostics_case)
{
    const char *name = cases[_i];
    char rel[512];
    snprintf(rel, sizeof rel, "diagnostics/%s/expect.json", name);
    json_t *expect = wi_test_load_json(rel);
    json_t *want = json_object_get(expect, "warnings");
    const char *note = json_string_value(json_object_get(expect, "note"));
    char *dir = wi_test_mkdtemp(), *err;
    copy_inputs(name, dir);

    int status = run_in(dir, name, json_object_get(expect, "args"), 0, &err);
    ck_assert_msg(status == 0, "%s: exit %d: %s", name, status, err);
    ck_assert_msg(exists(dir, "out.safetensors"), "%s: nothing written", name);
    json_t *got = lines_after(err, " - WARNING - ");
    ck_assert_msg(json_equal(got, want), "%s: warnings %s, want %s", name,
                  json_dumps(got, 0), json_dumps(want, 0));
    json_decref(got);
    got = lines_after(err, " - INFO - ");
    int found = 0;
    for (size_t i = 0; i < json_array_size(got); i++) {
        const char *line = json_string_value(json_array_get(got, i));
        if (strstr(line, "construction gave")) {
            ck_assert_msg(note && strcmp(line, note) == 0, "%s: note '%s', want '%s'",
                          name, line, note ? note : "(none)");
            found = 1;
        }
    }
    ck_assert_msg(found == (note != NULL), "%s: note missing: %s", name, err);
    json_decref(got);
    free(err);
    remove(strcat(strcpy(rel, dir), "/out.safetensors"));

    /* --strict: each warning is an error line instead, nothing written. */
    status = run_in(dir, name, json_object_get(expect, "args"), 1, &err);
    int mistakes = json_array_size(want) > 0;
    ck_assert_msg(status == (mistakes ? 2 : 0), "%s: --strict exit %d: %s", name,
                  status, err);
    ck_assert_msg(exists(dir, "out.safetensors") == !mistakes,
                  "%s: --strict output %s", name, mistakes ? "written" : "missing");
    got = lines_after(err, "weightinit: error: ");
    ck_assert_msg(json_equal(got, want), "%s: --strict errors %s, want %s", name,
                  json_dumps(got, 0), json_dumps(want, 0));
    ck_assert_msg(!strstr(err, "WARNING"), "%s: --strict also warned: %s", name, err);
    json_decref(got);
    free(err);
    wi_test_rmtree(dir);
    free(dir);
    json_decref(expect);
}
END_TEST

struct fixture {
    wi_generator_t *g;
    wi_context_t *ctx;
    wi_diagnostics_t *d;
    wi_module_t *root;
};

/* Builds the model text and runs init_weights with a diagnostics list;
 * returns init_weights' code (err filled). */
static int run_model(struct fixture *f, const char *text, wi_error_t *err)
{
    f->g = wi_generator_new(0, WI_RNG_AVX2);
    f->ctx = wi_context_new(f->g);
    f->d = wi_diagnostics_new();
    wi_registry_load_search_path(wi_registry_default());
    json_error_t jerr;
    json_t *model = json_loads(text, 0, &jerr);
    ck_assert_msg(model != NULL, "bad test JSON: %s", jerr.text);
    f->root = wi_model_build((const wi_value_t *)model, f->ctx, "inline", "", err);
    json_decref(model);
    ck_assert_ptr_nonnull(f->root);
    wi_context_set_diagnostics(f->ctx, f->d);
    int rc = wi_init_weights(f->root, f->ctx, err);
    if (rc == 0)
        ck_assert_int_eq(wi_diagnostics_check_tree(f->d, f->root, err), 0);
    return rc;
}

static void fixture_free(struct fixture *f)
{
    wi_module_free(f->root);
    wi_context_free(f->ctx);
    wi_diagnostics_free(f->d);
    wi_generator_free(f->g);
}

static void assert_diag(const wi_diagnostic_t *x, wi_diag_kind_t kind,
                        const char *path, const char *suggestion)
{
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->kind, kind);
    ck_assert_str_eq(x->path, path);
    if (suggestion)
        ck_assert_str_eq(x->suggestion, suggestion);
    else
        ck_assert_ptr_null(x->suggestion);
    ck_assert(x->message[0] && !strchr(x->message, '\n'));
}

/* The list itself: kinds, paths and suggestions in the order found, and
 * which kinds are mistakes. */
START_TEST(api_list)
{
    struct fixture f;
    wi_error_t err;
    int rc = run_model(&f,
        "{\"type\": \"Net\", \"init_cfg\": ["
        " {\"type\": \"Normal\", \"layer\": [\"Linear\", \"Conv2\"]},"
        " {\"type\": \"Constant\", \"val\": 0},"
        " {\"type\": \"Constant\", \"val\": 2, \"names\": [\"**.bias\", \"b.*\"]}],"
        " \"children\": {"
        "  \"conv\": {\"type\": \"Conv2d\", \"in_channels\": 1, \"out_channels\": 1,"
        "            \"kernel_size\": 1},"
        "  \"fc\": {\"type\": \"Linear\", \"in_features\": 1, \"out_features\": 1},"
        "  \"p\": {\"type\": \"P\", \"plain\": true, \"children\": {"
        "   \"q\": {\"type\": \"Q\", \"init_cfg\": {\"type\": \"Constant\", \"val\": 1,"
        "          \"layer\": \"Linear\"}, \"children\": {\"l\": {\"type\": \"Linear\","
        "          \"in_features\": 1, \"out_features\": 1}}}}}}}", &err);
    ck_assert_msg(rc == 0, "%s", err.text);
    ck_assert_uint_eq(wi_diagnostics_count(f.d), 5);
    assert_diag(wi_diagnostics_get(f.d, 0), WI_DIAG_LAYER_UNMATCHED,
                "init_cfg[0].layer[1]", "Conv2d");
    assert_diag(wi_diagnostics_get(f.d, 1), WI_DIAG_NO_EFFECT, "init_cfg[1]", NULL);
    assert_diag(wi_diagnostics_get(f.d, 2), WI_DIAG_NAMES_UNMATCHED,
                "init_cfg[2].names[1]", NULL);
    assert_diag(wi_diagnostics_get(f.d, 3), WI_DIAG_CFG_NOT_APPLIED,
                "children.p.children.q.init_cfg", NULL);
    /* Normal wrote both Linear weights (module.apply walks through the
     * plain p), names every bias; only conv.weight is left. */
    assert_diag(wi_diagnostics_get(f.d, 4), WI_DIAG_CONSTRUCTION_ONLY,
                "conv.weight", NULL);
    ck_assert_ptr_null(wi_diagnostics_get(f.d, 5));
    ck_assert_uint_eq(wi_diagnostics_mistakes(f.d), 4);
    ck_assert_str_eq(wi_diag_kind_name(WI_DIAG_LAYER_UNMATCHED), "layer-unmatched");
    ck_assert_str_eq(wi_diag_kind_name(WI_DIAG_CONSTRUCTION_ONLY), "construction-only");
    ck_assert_str_eq(wi_module_parameter_info(wi_module_find_child(f.root, "conv"), 1),
                     "ConstantInit: val=2, bias=0");
    fixture_free(&f);
}
END_TEST

/* Without a list the same run collects nothing and still works; NULL is
 * accepted by every list function. */
START_TEST(api_without_list)
{
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_registry_load_search_path(wi_registry_default());
    json_t *model = json_loads("{\"type\": \"Net\", \"init_cfg\": {\"type\": \"Normal\"},"
                               " \"params\": {\"w\": [2]}}", 0, NULL);
    wi_module_t *root = wi_model_build((const wi_value_t *)model, ctx, "inline", "", NULL);
    ck_assert_int_eq(wi_init_weights(root, ctx, NULL), 0);
    ck_assert_uint_eq(wi_diagnostics_count(NULL), 0);
    ck_assert_ptr_null(wi_diagnostics_get(NULL, 0));
    wi_diagnostics_free(NULL);
    wi_module_free(root);
    json_decref(model);
    wi_context_free(ctx);
    wi_generator_free(g);
}
END_TEST

/* `names` patterns: '*' stays inside one component, '**' spans any
 * number of them (zero included), everything else is literal. */
START_TEST(names_globs)
{
    static const struct {
        const char *pattern;
        const char *written; /* which of w, a.w, a.b.w, a.b.c.w, ab.w: 1/0 */
    } cases_[] = {
        {"w", "10000"},     {"*", "10000"},       {"a.*", "01000"},
        {"a.**", "01110"},  {"**.w", "11111"},    {"a.**.w", "01110"},
        {"*.w", "01001"},   {"a*.w", "01001"},    {"a.*.w", "00100"},
        {"**", "11111"},    {"a.b.*.w", "00010"}, {"?.w", "00000"},
    };
    const char *names[] = {"w", "a.w", "a.b.w", "a.b.c.w", "ab.w"};
    for (size_t k = 0; k < sizeof cases_ / sizeof *cases_; k++) {
        char text[1000];
        snprintf(text, sizeof text,
                 "{\"type\": \"Net\", \"init_cfg\": {\"type\": \"Constant\", \"val\": 1,"
                 " \"names\": [\"%s\"]}, \"params\": {\"w\": [1]}, \"children\": {"
                 " \"a\": {\"type\": \"A\", \"params\": {\"w\": [1]}, \"children\": {"
                 "  \"b\": {\"type\": \"B\", \"params\": {\"w\": [1]}, \"children\": {"
                 "   \"c\": {\"type\": \"C\", \"params\": {\"w\": [1]}}}}}},"
                 " \"ab\": {\"type\": \"AB\", \"params\": {\"w\": [1]}}}}",
                 cases_[k].pattern);
        struct fixture f;
        wi_error_t err;
        ck_assert_msg(run_model(&f, text, &err) == 0, "%s", err.text);
        for (size_t i = 0; i < 5; i++) {
            const char *dot = strrchr(names[i], '.');
            char owner[32] = "";
            if (dot)
                snprintf(owner, sizeof owner, "%.*s", (int)(dot - names[i]), names[i]);
            wi_module_t *m = wi_module_get_submodule(f.root, owner);
            float v = *(const float *)wi_tensor_const_data(wi_module_find_parameter(m, "w"));
            ck_assert_msg((v == 1.0f) == (cases_[k].written[i] == '1'),
                          "pattern '%s' on %s: value %g", cases_[k].pattern, names[i], v);
        }
        fixture_free(&f);
    }
}
END_TEST

/* Many '**' against a deep name finish at once (a backtracking matcher
 * takes C(40, 20) steps here). */
START_TEST(names_glob_is_polynomial)
{
    char text[8000] = "", pattern[200] = "";
    size_t len = 0;
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "{\"type\": \"M\", \"params\": {\"w\": [1]}, "
                                "\"children\": {\"c\": ");
    len += (size_t)snprintf(text + len, sizeof text - len,
                            "{\"type\": \"M\", \"params\": {\"w\": [1]}}");
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "}}");
    len = 0;
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(pattern + len, sizeof pattern - len, "**.");
    snprintf(pattern + len, sizeof pattern - len, "nope");
    /* The init_cfg goes on the root: put it in front of "params". */
    char with_cfg[9000];
    snprintf(with_cfg, sizeof with_cfg,
             "{\"init_cfg\": {\"type\": \"Constant\", \"val\": 1, \"names\": "
             "[\"%s\", \"c.**.c.w\"]}, %s", pattern, text + 1);
    struct fixture f;
    wi_error_t err;
    ck_assert_msg(run_model(&f, with_cfg, &err) == 0, "%s", err.text);
    /* names[0] matches nothing; c.**.c.w every w from c.c.w down. */
    ck_assert_uint_eq(wi_diagnostics_count(f.d), 3);
    assert_diag(wi_diagnostics_get(f.d, 0), WI_DIAG_NAMES_UNMATCHED,
                "init_cfg.names[0]", NULL);
    assert_diag(wi_diagnostics_get(f.d, 1), WI_DIAG_CONSTRUCTION_ONLY, "w", NULL);
    assert_diag(wi_diagnostics_get(f.d, 2), WI_DIAG_CONSTRUCTION_ONLY, "c.w", NULL);
    fixture_free(&f);
}
END_TEST

/* A limit keeps the first notes (state_dict order) and counts them all;
 * mistakes are kept whatever the limit. 3 Linear(2, 2), nothing but a
 * `layer` typo in init_cfg: 6 parameters keep their construction value. */
START_TEST(notes_limit)
{
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_diagnostics_t *d = wi_diagnostics_new();
    ck_assert_uint_eq(wi_diagnostics_notes(d), 0);
    wi_diagnostics_limit_notes(d, 2);
    wi_registry_load_search_path(wi_registry_default());
    json_t *model = json_loads(
        "{\"type\": \"Net\", \"init_cfg\": {\"type\": \"Normal\", \"layer\": \"Lienar\"},"
        " \"children\": {\"l\": {\"type\": \"ModuleList\", \"plain\": true, \"repeat\": 3,"
        " \"child\": {\"type\": \"Linear\", \"in_features\": 2, \"out_features\": 2}}}}",
        0, NULL);
    wi_error_t err;
    wi_module_t *root = wi_model_build((const wi_value_t *)model, ctx, "inline", "", &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    wi_context_set_diagnostics(ctx, d);
    ck_assert_int_eq(wi_init_weights(root, ctx, &err), 0);
    ck_assert_int_eq(wi_diagnostics_check_tree(d, root, &err), 0);
    ck_assert_uint_eq(wi_diagnostics_notes(d), 6);
    ck_assert_uint_eq(wi_diagnostics_count(d), 3);
    ck_assert_uint_eq(wi_diagnostics_mistakes(d), 1);
    assert_diag(wi_diagnostics_get(d, 0), WI_DIAG_LAYER_UNMATCHED, "init_cfg.layer",
                "Linear");
    assert_diag(wi_diagnostics_get(d, 1), WI_DIAG_CONSTRUCTION_ONLY, "l.0.weight", NULL);
    assert_diag(wi_diagnostics_get(d, 2), WI_DIAG_CONSTRUCTION_ONLY, "l.0.bias", NULL);
    ck_assert_uint_eq(wi_diagnostics_notes(NULL), 0);
    wi_module_free(root);
    json_decref(model);
    wi_context_free(ctx);
    wi_diagnostics_free(d);
    wi_generator_free(g);
}
END_TEST

/* Written or not is decided by what was written, never by the wording
 * of a parameter's provenance: OddInfo's info() reads like the report's
 * "The value is the same before and after calling ...", yet it writes
 * fc.weight; only fc.bias keeps its construction value. */
START_TEST(written_is_a_fact_not_a_text)
{
    const char *dir = getenv("WI_TEST_BROKEN_PLUGINDIR");
    ck_assert_ptr_nonnull(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/odd_info.so", dir);
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    wi_registry_load_search_path(reg);
    ck_assert_msg(wi_registry_load_plugin(reg, path, &err) == 0, "%s", err.text);
    wi_context_set_registry(ctx, reg);
    wi_diagnostics_t *d = wi_diagnostics_new();
    json_t *model = json_loads(
        "{\"type\": \"Net\", \"init_cfg\": {\"type\": \"OddInfo\", \"layer\": \"Linear\"},"
        " \"children\": {\"fc\": {\"type\": \"Linear\", \"in_features\": 2, \"out_features\": 2}}}",
        0, NULL);
    wi_module_t *root = wi_model_build((const wi_value_t *)model, ctx, "inline", "", &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    wi_context_set_diagnostics(ctx, d);
    ck_assert_int_eq(wi_init_weights(root, ctx, &err), 0);
    ck_assert_int_eq(wi_diagnostics_check_tree(d, root, &err), 0);
    ck_assert_uint_eq(wi_diagnostics_count(d), 1);
    assert_diag(wi_diagnostics_get(d, 0), WI_DIAG_CONSTRUCTION_ONLY, "fc.bias", NULL);
    wi_module_free(root);
    json_decref(model);
    wi_context_free(ctx);
    wi_diagnostics_free(d);
    wi_registry_free(reg);
    wi_generator_free(g);
}
END_TEST

/* Malformed names entries are input errors naming the JSON path. */
START_TEST(names_errors)
{
    static const struct {
        const char *cfg, *path, *words;
    } bad[] = {
        {"{\"type\": \"Normal\", \"names\": \"fc.weight\"}", "init_cfg.names",
         "non-empty list"},
        {"{\"type\": \"Normal\", \"names\": []}", "init_cfg.names", "non-empty list"},
        {"{\"type\": \"Normal\", \"names\": [\"\"]}", "init_cfg.names", "non-empty list"},
        {"{\"type\": \"Normal\", \"names\": [\"fc.weight\"], \"layer\": \"Linear\"}",
         "init_cfg.layer", "takes no `layer`"},
        {"{\"type\": \"Normal\", \"names\": [\"fc.weight\"], \"override\": {\"name\": \"fc\"}}",
         "init_cfg.override", "takes no `override`"},
        {"{\"type\": \"Normal\", \"names\": [\"fc.bias\"], \"bias\": 1}", "init_cfg.bias",
         "takes no `bias`"},
        {"{\"type\": \"Normal\", \"names\": [\"fc.bias\"], \"sdt\": 1}", "init_cfg.sdt",
         "sdt"},
        {"{\"type\": \"Pretrained\", \"checkpoint\": \"x.pth\", \"names\": [\"fc.bias\"]}",
         "init_cfg.names", "Pretrained cannot take `names`"},
        {"{\"type\": \"Xavier\", \"names\": [\"fc.bias\"]}", "init_cfg.names",
         "parameter 'fc.bias'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char text[1000];
        snprintf(text, sizeof text, "{\"type\": \"Net\", \"init_cfg\": %s, \"children\": {"
                 "\"fc\": {\"type\": \"Linear\", \"in_features\": 2, \"out_features\": 2}}}",
                 bad[k].cfg);
        struct fixture f;
        wi_error_t err;
        ck_assert_msg(run_model(&f, text, &err) < 0, "%s: accepted", bad[k].cfg);
        ck_assert_msg(strcmp(err.path, bad[k].path) == 0, "%s: path '%s', want '%s'",
                      bad[k].cfg, err.path, bad[k].path);
        ck_assert_msg(strstr(err.text, bad[k].words), "%s: '%s' not in: %s", bad[k].cfg,
                      bad[k].words, err.text);
        fixture_free(&f);
    }
}
END_TEST

/* A type built against ABI 1.2 is shorter (no init_tensor): it still
 * registers and runs `layer` entries; with `names` it is refused. */
static int old_init_module(void *self, const wi_host_t *host, wi_module_t *m,
                           wi_context_t *ctx, wi_error_t *err)
{
    (void)self;
    (void)ctx;
    wi_tensor_t *w = host->module_find_parameter(m, "weight");
    return w ? host->constant_(w, 7.0, err) : 0;
}
static char old_self;
static void *old_create(const wi_host_t *host, const wi_value_t *args,
                        const wi_init_base_t *base, const char *source,
                        const char *path, wi_error_t *err)
{
    (void)host, (void)args, (void)base, (void)source, (void)path, (void)err;
    return &old_self;
}
static const char *old_info(void *self)
{
    (void)self;
    return "OldInit";
}
static void old_destroy(void *self) { (void)self; }

START_TEST(old_abi_type)
{
    /* Its init_tensor slot is garbage: the host must not read it. */
    static const wi_initializer_type_t old = {
        WI_INITIALIZER_TYPE_SIZE_1_0, "Old", WI_INIT_BASE_ARGS, old_create, old_init_module,
        NULL, old_info, old_destroy,
        (int (*)(void *, const wi_host_t *, wi_tensor_t *, wi_context_t *,
                 wi_error_t *))1};
    wi_registry_t *reg = wi_registry_new();
    ck_assert_int_eq(wi_registry_add_initializer(reg, &old, "test", NULL), 0);
    wi_initializer_type_t short_type = old;
    short_type.struct_size = WI_INITIALIZER_TYPE_SIZE_1_0 - 1;
    short_type.name = "Short";
    ck_assert_int_lt(wi_registry_add_initializer(reg, &short_type, "test", NULL), 0);
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_context_set_registry(ctx, reg);
    const char *texts[] = {
        "{\"type\": \"Net\", \"init_cfg\": {\"type\": \"Old\", \"layer\": \"Linear\"},"
        " \"children\": {"
        "\"fc\": {\"type\": \"Linear\", \"in_features\": 1, \"out_features\": 1}}}",
        "{\"type\": \"Net\", \"init_cfg\": {\"type\": \"Old\", \"names\": [\"fc.weight\"]},"
        " \"children\": {\"fc\": {\"type\": \"Linear\", \"in_features\": 1, "
        "\"out_features\": 1}}}"};
    for (int k = 0; k < 2; k++) {
        json_t *model = json_loads(texts[k], 0, NULL);
        wi_error_t err;
        wi_module_t *root = wi_model_build((const wi_value_t *)model, ctx, "inline", "", &err);
        ck_assert_ptr_nonnull(root);
        int rc = wi_init_weights(root, ctx, &err);
        if (k == 0) {
            ck_assert_msg(rc == 0, "%s", err.text);
            wi_module_t *fc = wi_module_find_child(root, "fc");
            ck_assert(*(const float *)wi_tensor_const_data(wi_module_parameter(fc, 0)) == 7.0f);
        } else {
            ck_assert_int_lt(rc, 0);
            ck_assert_str_eq(err.path, "init_cfg.names");
            ck_assert_msg(strstr(err.text, "Old cannot take `names`"), "%s", err.text);
        }
        wi_module_free(root);
        json_decref(model);
    }
    wi_context_free(ctx);
    wi_generator_free(g);
    wi_registry_free(reg);
}
END_TEST

/* An override naming a missing child was already an error (MMEngine
 * raises); it now suggests the closest child. */
START_TEST(override_did_you_mean)
{
    struct fixture f;
    wi_error_t err;
    int rc = run_model(&f, "{\"type\": \"Net\", \"init_cfg\": {\"type\": \"Constant\","
                       " \"val\": 1, \"override\": {\"name\": \"haed\"}}, \"children\": {"
                       " \"head\": {\"type\": \"Linear\", \"in_features\": 1, \"out_features\": 1},"
                       " \"neck\": {\"type\": \"Linear\", \"in_features\": 1, \"out_features\": 1}}}",
                       &err);
    ck_assert_int_lt(rc, 0);
    ck_assert_str_eq(err.path, "init_cfg.override.name");
    ck_assert_msg(strstr(err.text, "Net has no child 'haed'; did you mean 'head'?"), "%s",
                  err.text);
    fixture_free(&f);
}
END_TEST

int main(void)
{
    collect();
    Suite *s = suite_create("diagnostics");
    TCase *tc = tcase_create("diagnostics");
    tcase_add_loop_test(tc, diagnostics_case, 0, (int)n_cases);
    tcase_add_test(tc, api_list);
    tcase_add_test(tc, api_without_list);
    tcase_add_test(tc, names_globs);
    tcase_add_test(tc, notes_limit);
    tcase_add_test(tc, written_is_a_fact_not_a_text);
    tcase_add_test(tc, names_errors);
    TCase *fast = tcase_create("polynomial");
    tcase_set_timeout(fast, 20);
    tcase_add_test(fast, names_glob_is_polynomial);
    suite_add_tcase(s, fast);
    tcase_add_test(tc, old_abi_type);
    tcase_add_test(tc, override_did_you_mean);
    suite_add_tcase(s, tc);
    int status = wi_test_run_suite(s);
    for (size_t i = 0; i < n_cases; i++)
        free(cases[i]);
    free(cases);
    return status;
}
