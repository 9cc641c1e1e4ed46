/* The weightinit command's contract (cli.md): options, exit codes, the
 * one-line errors for malformed model files (data-driven from
 * tests/data/model_errors/<case>/{model.json,expect.json}), and that a
 * failing run leaves no output behind. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <jansson.h>

#include <weightinit/weightinit.h>

#include "util.h"

static char **error_cases, **exit_cases, **initialize_cases;
static size_t n_error_cases, n_exit_cases, n_initialize_cases;

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static char **list_cases(const char *rel, size_t *count)
{
    char *dir = wi_test_data_path(rel), **names = NULL;
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    *count = 0;
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            names = realloc(names, (*count + 1) * sizeof(char *));
            names[(*count)++] = strdup(list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    free(dir);
    return names;
}

static void collect(void)
{
    error_cases = list_cases("model_errors", &n_error_cases);
    exit_cases = list_cases("exit_codes", &n_exit_cases);
    initialize_cases = list_cases("initialize_report", &n_initialize_cases);
}


/* Exactly one line on stderr, starting with "weightinit: error: ". */
static void assert_one_error_line(const char *err, const char *label)
{
    ck_assert_msg(strncmp(err, "weightinit: error: ", 19) == 0,
                  "%s: stderr does not start with the error prefix: %s", label, err);
    const char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == '\0', "%s: more than one line: %s", label, err);
}

START_TEST(malformed_model)
{
    const char *name = error_cases[_i];
    char rel[512];
    snprintf(rel, sizeof rel, "model_errors/%s/expect.json", name);
    json_t *expect = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "model_errors/%s/model.json", name);
    char *model = wi_test_data_path(rel);
    const char *args[] = {"init", model, "-o", "out.safetensors", "--report",
                          "report.json", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 2, "%s: exit %d, want 2 (%s)", name, r.status, r.err);
    assert_one_error_line(r.err, name);
    ck_assert_msg(strstr(r.err, "model.json"), "%s: file not named: %s", name, r.err);
    const char *path = json_string_value(json_object_get(expect, "path"));
    if (path[0]) {
        char needle[300];
        snprintf(needle, sizeof needle, ": %s: ", path);
        ck_assert_msg(strstr(r.err, needle), "%s: JSON path '%s' not named: %s",
                      name, path, r.err);
    }
    const char *words = json_string_value(json_object_get(expect, "mentions"));
    ck_assert_msg(strstr(r.err, words), "%s: '%s' not in: %s", name, words, r.err);
    ck_assert_msg(wi_test_count_entries(r.dir) == 0, "%s: output left behind", name);
    wi_test_cmd_free(&r);
    free(model);
    json_decref(expect);
}
END_TEST

static char *example(const char *rel)
{
    return wi_test_data_path(rel);
}

START_TEST(missing_model_file)
{
    const char *args[] = {"init", "/nonexistent/model.json", "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_int_eq(r.status, 2);
    assert_one_error_line(r.err, "missing");
    ck_assert(strstr(r.err, "/nonexistent/model.json"));
    ck_assert_int_eq(wi_test_count_entries(r.dir), 0);
    wi_test_cmd_free(&r);
}
END_TEST

START_TEST(bad_options)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *cases[][6] = {
        {"init", model, "--seed", "abc", NULL, NULL},
        {"init", model, "--seed", "18446744073709551616", NULL, NULL},
        {"init", model, "--seed", "-9223372036854775809", NULL, NULL},
        /* Not plain decimal integers: strtoull would take most of them
         * (the first as seed 1). */
        {"init", model, "--seed", "\t-18446744073709551615", NULL, NULL},
        {"init", model, "--seed", " 5", NULL, NULL},
        {"init", model, "--seed", "5 ", NULL, NULL},
        {"init", model, "--seed", "+5", NULL, NULL},
        {"init", model, "--seed", "0x10", NULL, NULL},
        {"init", model, "--seed", "1e3", NULL, NULL},
        {"init", model, "--seed", "", NULL, NULL},
        {"init", model, "--seed", "-", NULL, NULL},
        {"init", model, "--seed", "--5", NULL, NULL},
        {"init", model, "--seed", "5\n6", NULL, NULL},
        {"init", model, "--rng-profile", "avx512", NULL, NULL},
        {"init", model, "--threads", "many", NULL, NULL},
        {"init", model, "--threads", "-1", NULL, NULL},
        {"init", model, "--threads", "257", NULL, NULL},
        {"init", model, "--frobnicate", NULL, NULL, NULL},
        {"init", model, "-o", NULL, NULL, NULL},
        {"init", NULL, NULL, NULL, NULL, NULL},
        {"explode", NULL, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wi_test_cmd_t r = wi_test_cmd(cases[i]);
        ck_assert_msg(r.status == 2, "case %zu: exit %d", i, r.status);
        assert_one_error_line(r.err, "option");
        wi_test_cmd_free(&r);
    }
    free(model);
}
END_TEST

/* WEIGHTINIT_ISA and WEIGHTINIT_THREADS are settings like options: a
 * value that cannot be honoured is exit 2 with one line naming it. */
START_TEST(bad_environment)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *env[][3] = {
        {"WEIGHTINIT_ISA", "avx1024", "WEIGHTINIT_ISA=avx1024: unknown"},
        {"WEIGHTINIT_THREADS", "lots", "WEIGHTINIT_THREADS: expected a thread"},
        {"WEIGHTINIT_THREADS", "999", "WEIGHTINIT_THREADS: expected a thread"},
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        setenv(env[i][0], env[i][1], 1);
        const char *args[] = {"init", model, "-o", "out.safetensors", NULL};
        wi_test_cmd_t r = wi_test_cmd(args);
        unsetenv(env[i][0]);
        ck_assert_msg(r.status == 2, "%s=%s: exit %d", env[i][0], env[i][1],
                      r.status);
        assert_one_error_line(r.err, env[i][0]);
        ck_assert_msg(strstr(r.err, env[i][2]), "%s", r.err);
        ck_assert_int_eq(wi_test_count_entries(r.dir), 0);
        wi_test_cmd_free(&r);
    }
    free(model);
}
END_TEST

/* The same file for every thread count, from --threads or the
 * environment (tensors of 1.2M and 1M elements, split over threads). */
START_TEST(threads_same_output)
{
    char *model = example("threads/model.json");
    const char *counts[] = {"1", "2", "3", "8", "0"};
    char *first = NULL;
    size_t first_n = 0;
    for (size_t i = 0; i < 6; i++) {
        if (i == 5)
            setenv("WEIGHTINIT_THREADS", "3", 1);
        const char *args[] = {"init", model, "-q", "-o", "out.safetensors",
                              i < 5 ? "--threads" : NULL, i < 5 ? counts[i] : NULL,
                              NULL};
        wi_test_cmd_t r = wi_test_cmd(args);
        unsetenv("WEIGHTINIT_THREADS");
        ck_assert_msg(r.status == 0, "%s", r.err);
        char path[600];
        snprintf(path, sizeof path, "%s/out.safetensors", r.dir);
        size_t n;
        char *bytes = wi_test_read_file(path, &n);
        ck_assert(bytes && n > 8 * 1000000);
        if (!first) {
            first = bytes;
            first_n = n;
        } else {
            ck_assert_msg(n == first_n && memcmp(bytes, first, n) == 0,
                          "run %zu differs from --threads 1", i);
            free(bytes);
        }
        wi_test_cmd_free(&r);
    }
    free(first);
    free(model);
}
END_TEST

START_TEST(help_and_version)
{
    const char *v[] = {"--version", NULL}, *h[] = {"--help", NULL},
               *ih[] = {"init", "--help", NULL};
    wi_test_cmd_t r = wi_test_cmd(v);
    ck_assert_int_eq(r.status, 0);
    wi_test_cmd_free(&r);
    r = wi_test_cmd(h);
    ck_assert_int_eq(r.status, 0);
    wi_test_cmd_free(&r);
    r = wi_test_cmd(ih);
    ck_assert_int_eq(r.status, 0);
    wi_test_cmd_free(&r);
}
END_TEST

/* torch.manual_seed uses the low 32 bits only: 7, 2^40+7 give the same
 * values; -1 and 2^64-1 are the same seed. */
START_TEST(seed_semantics)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *seeds[][2] = {{"7", "1099511627783"}, {"-1", "18446744073709551615"}};
    for (int k = 0; k < 2; k++) {
        char *files[2];
        for (int j = 0; j < 2; j++) {
            const char *args[] = {"init", model, "-q", "--seed", seeds[k][j], "-o",
                                  "out.safetensors", NULL};
            wi_test_cmd_t r = wi_test_cmd(args);
            ck_assert_msg(r.status == 0, "%s", r.err);
            char path[600];
            snprintf(path, sizeof path, "%s/out.safetensors", r.dir);
            size_t n;
            files[j] = wi_test_read_file(path, &n);
            /* Compare past the header, whose metadata records the seed text. */
            uint64_t h = 0;
            for (int b = 7; b >= 0; b--)
                h = (h << 8) | (unsigned char)files[j][b];
            memmove(files[j], files[j] + 8 + h, n - 8 - h);
            files[j][n - 8 - h] = '\0';
            ck_assert(n - 8 - h > 100);
            wi_test_cmd_free(&r);
        }
        ck_assert(memcmp(files[0], files[1], 100) == 0);
        free(files[0]);
        free(files[1]);
    }
    free(model);
}
END_TEST

/* The safetensors header of dir/out.safetensors (new reference). */
static json_t *output_header(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/out.safetensors", dir);
    size_t n;
    char *file = wi_test_read_file(path, &n);
    ck_assert(file && n >= 8);
    uint64_t h = 0;
    for (int b = 7; b >= 0; b--)
        h = (h << 8) | (unsigned char)file[b];
    ck_assert(h <= n - 8);
    json_t *header = json_loadb(file + 8, (size_t)h, 0, NULL);
    free(file);
    ck_assert(header);
    return header;
}

/* The metadata records the seed as Python's int() reads it, never the raw
 * text; torch.manual_seed(int('007')) is seed 7. */
START_TEST(seed_metadata_canonical)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *seeds[][2] = {{"007", "7"}, {"-0", "0"}, {"-5", "-5"},
                              {"18446744073709551615", "18446744073709551615"},
                              {"-9223372036854775808", "-9223372036854775808"}};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        const char *args[] = {"init", model, "-q", "--seed", seeds[k][0], "-o",
                              "out.safetensors", NULL};
        wi_test_cmd_t r = wi_test_cmd(args);
        ck_assert_msg(r.status == 0, "%s: %s", seeds[k][0], r.err);
        json_t *header = output_header(r.dir);
        const char *got = json_string_value(
            json_object_get(json_object_get(header, "__metadata__"), "seed"));
        ck_assert_msg(got && strcmp(got, seeds[k][1]) == 0,
                      "--seed %s recorded as '%s', want '%s'", seeds[k][0],
                      got ? got : "(none)", seeds[k][1]);
        json_decref(header);
        wi_test_cmd_free(&r);
    }
    free(model);
}
END_TEST

/* nn.LayerNorm([]) has 0-d weight and bias (torch 1.13: tensor(1.),
 * tensor(0.)); an int n means (n,).  Both reach the state dict, the
 * safetensors header (shape []) and the report. */
START_TEST(layernorm_0d)
{
    char *model = example("models/layernorm_0d.json");
    const char *args[] = {"init", model, "-q", "-o", "out.safetensors",
                          "--report", "report.json", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    json_t *header = output_header(r.dir);
    static const char *const names[] = {"ln0.weight", "ln0.bias", "ln1.weight",
                                        "ln1.bias"};
    static const int ndims[] = {0, 0, 1, 1};
    ck_assert_int_eq(json_object_size(header), 5); /* + __metadata__ */
    for (int i = 0; i < 4; i++) {
        json_t *shape = json_object_get(json_object_get(header, names[i]), "shape");
        ck_assert_msg(json_is_array(shape) && (int)json_array_size(shape) == ndims[i],
                      "%s: shape not %d-d", names[i], ndims[i]);
        if (ndims[i])
            ck_assert_int_eq(json_integer_value(json_array_get(shape, 0)), 3);
    }
    json_decref(header);
    char path[600];
    snprintf(path, sizeof path, "%s/out.safetensors", r.dir);
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(path, &err);
    ck_assert(sd);
    wi_tensor_t *w = wi_state_dict_find(sd, "ln0.weight"), *b = wi_state_dict_find(sd, "ln0.bias");
    ck_assert(w && b && wi_tensor_ndim(w) == 0 && wi_tensor_numel(w) == 1);
    ck_assert(*(const float *)wi_tensor_const_data(w) == 1.0f);
    ck_assert(*(const float *)wi_tensor_const_data(b) == 0.0f);
    wi_state_dict_free(sd);
    snprintf(path, sizeof path, "%s/report.json", r.dir);
    json_t *report = json_load_file(path, 0, NULL);
    ck_assert(json_array_size(report) == 4);
    json_t *first = json_array_get(report, 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "name")), "ln0.weight");
    ck_assert(json_array_size(json_object_get(first, "shape")) == 0);
    json_decref(report);
    wi_test_cmd_free(&r);
    free(model);
}
END_TEST

START_TEST(unwritable_output)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *args[] = {"init", model, "-q", "-o", "/nonexistent/dir/out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_int_eq(r.status, 1);
    assert_one_error_line(r.err, "unwritable");
    ck_assert(strstr(r.err, "/nonexistent/dir/out.safetensors"));
    wi_test_cmd_free(&r);
    free(model);
}
END_TEST

/* weightinit list: the eight initializers, each from its own .so, the
 * built-in layer types, and the fixture module types with their files. */
START_TEST(list_types)
{
    const char *args[] = {"list", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_int_eq(r.status, 0);
    char out[600];
    snprintf(out, sizeof out, "%s.out", r.dir);
    wi_test_cmd_free(&r);
    static const char *const want[] = {
        "initializer  Caffe2Xavier", "wi_caffe2_xavier.so", "initializer  Constant",
        "wi_constant.so", "initializer  Kaiming", "wi_kaiming.so",
        "initializer  Normal", "wi_normal.so", "initializer  Pretrained",
        "wi_pretrained.so", "initializer  TruncNormal",
        "wi_trunc_normal.so", "initializer  Uniform", "wi_uniform.so",
        "initializer  Xavier", "wi_xavier.so", "module       ToyConv", "wi_toyconv.so",
        "module       ToyHead", "wi_toyhead.so",
        "module       Linear               built-in\n",
        "module       ConvTranspose3d      built-in\n",
        "module       MultiheadAttention   built-in\n", NULL};
    char cmd[700];
    snprintf(cmd, sizeof cmd, "'%s' list > '%s'", getenv("WI_TEST_WEIGHTINIT"), out);
    ck_assert_int_eq(system(cmd), 0);
    char *text = wi_test_read_file(out, NULL);
    remove(out);
    for (size_t i = 0; want[i]; i++)
        ck_assert_msg(strstr(text, want[i]), "'%s' not listed in:\n%s", want[i], text);
    free(text);
}
END_TEST

/* "@DATA@", "@BROKEN@" and "@EXAMPLES@" in a case's arguments and files
 * stand for the test data folder, the broken-plugin build folder and the
 * example plugins' build folder. */
static char *substitute(const char *text)
{
    const char *keys[] = {"@DATA@", "@BROKEN@", "@EXAMPLES@"};
    const char *vals[] = {getenv("WI_TEST_DATA"), getenv("WI_TEST_BROKEN_PLUGINDIR"),
                          getenv("WI_TEST_EXAMPLE_PLUGINDIR")};
    size_t cap = strlen(text) * 4 + 4096, n = 0;
    char *out = malloc(cap);
    while (*text) {
        int hit = 0;
        for (int k = 0; k < 3 && !hit; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(text, keys[k], kl) == 0) {
                ck_assert_ptr_nonnull(vals[k]);
                n += (size_t)snprintf(out + n, cap - n, "%s", vals[k]);
                text += kl;
                hit = 1;
            }
        }
        if (!hit)
            out[n++] = *text++;
        ck_assert(n + 1024 < cap);
    }
    out[n] = '\0';
    return out;
}

/* Copies a case's files (all but args.json, expect.json) into dir;
 * returns how many. */
static int copy_case_files(const char *src, const char *dir)
{
    struct dirent **list;
    int n = scandir(src, &list, NULL, by_name), copied = 0;
    for (int i = 0; i < n; i++) {
        const char *f = list[i]->d_name;
        if (f[0] != '.' && strcmp(f, "args.json") && strcmp(f, "expect.json")) {
            char from[1024], to[1024];
            snprintf(from, sizeof from, "%s/%s", src, f);
            snprintf(to, sizeof to, "%s/%s", dir, f);
            char *text = wi_test_read_file(from, NULL), *sub = substitute(text);
            FILE *out = fopen(to, "w");
            ck_assert(out && fputs(sub, out) >= 0 && fclose(out) == 0);
            free(text);
            free(sub);
            copied++;
        }
        free(list[i]);
    }
    free(list);
    return copied;
}

/* A sanitizer build's runtime reports a refused huge allocation on
 * stderr ("==PID==WARNING: AddressSanitizer failed to allocate ..."); that
 * line is the runtime's, not weightinit's. */
static char *drop_sanitizer_lines(char *text)
{
    char *out = text, *line = text;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (!(line[0] == '=' && line[1] == '=' && strstr(line, "Sanitizer") &&
              (!nl || strstr(line, "Sanitizer") < nl))) {
            memmove(out, line, len);
            out += len;
        }
        line += len;
    }
    if (out)
        *out = '\0';
    return text;
}

/* README's exit status table, one folder per row (tests/data/exit_codes/
 * <case>/{args.json, expect.json, input files}): the case's files are
 * copied to a fresh folder, the command runs there, and it must exit
 * with the row's status, say so in one error line naming the words, and
 * leave nothing behind. */
START_TEST(exit_code_table)
{
    const char *name = exit_cases[_i];
    char rel[512];
    snprintf(rel, sizeof rel, "exit_codes/%s", name);
    char *src = wi_test_data_path(rel);
    snprintf(rel, sizeof rel, "exit_codes/%s/args.json", name);
    json_t *spec = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "exit_codes/%s/expect.json", name);
    json_t *expect = wi_test_load_json(rel);
    char *top = wi_test_mkdtemp(), dir[600], cache[600], errpath[600];
    snprintf(dir, sizeof dir, "%s/run", top);
    snprintf(cache, sizeof cache, "%s/cache", top);
    snprintf(errpath, sizeof errpath, "%s/stderr", top);
    ck_assert(mkdir(dir, 0755) == 0);
    int inputs = copy_case_files(src, dir);
    setenv("WEIGHTINIT_CACHE", cache, 1);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(spec, "env_append"), key, v) {
        char joined[1024];
        const char *old = getenv(key);
        snprintf(joined, sizeof joined, "%s%s%s", old ? old : "", old ? ":" : "",
                 json_string_value(v));
        setenv(key, joined, 1);
    }
    json_object_foreach(json_object_get(spec, "env"), key, v)
        setenv(key, json_string_value(v), 1);
    char *argv[32];
    size_t argc = 0, i;
    argv[argc++] = getenv("WI_TEST_WEIGHTINIT");
    json_array_foreach(json_object_get(spec, "args"), i, v)
        if (argc < 31)
            argv[argc++] = substitute(json_string_value(v));
    argv[argc] = NULL;
    int status = wi_test_run(dir, argv, errpath);
    char *err = drop_sanitizer_lines(wi_test_read_file(errpath, NULL));
    int want = (int)json_integer_value(json_object_get(expect, "exit"));
    ck_assert_msg(status == want, "%s (%s): exit %d, want %d: %s", name,
                  json_string_value(json_object_get(spec, "class")), status, want, err);
    assert_one_error_line(err, name);
    json_array_foreach(json_object_get(expect, "mentions"), i, v)
        ck_assert_msg(strstr(err, json_string_value(v)), "%s: '%s' not in: %s", name,
                      json_string_value(v), err);
    ck_assert_msg(wi_test_count_entries(dir) == inputs, "%s: output left behind", name);
    for (size_t k = 1; k < argc; k++)
        free(argv[k]);
    free(err);
    wi_test_rmtree(top);
    free(top);
    free(src);
    json_decref(spec);
    json_decref(expect);
}
END_TEST

/* --init-cfg on a plain or built-in root is MMEngine's initialize(); the
 * report still says what wrote each parameter (tests/data/
 * initialize_report/<case>/{model.json, init_cfg.json, report.json}, the
 * expected infos worded as MMEngine's initializers word themselves). */
START_TEST(initialize_report)
{
    const char *name = initialize_cases[_i];
    char rel[512];
    snprintf(rel, sizeof rel, "initialize_report/%s/model.json", name);
    char *model = wi_test_data_path(rel);
    snprintf(rel, sizeof rel, "initialize_report/%s/init_cfg.json", name);
    char *cfg = wi_test_data_path(rel);
    snprintf(rel, sizeof rel, "initialize_report/%s/report.json", name);
    json_t *doc = wi_test_load_json(rel), *want = json_object_get(doc, "report");
    const char *args[] = {"init", model, "--init-cfg", cfg, "-o", "out.safetensors",
                          "--report", "report.json", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "%s: exit %d: %s", name, r.status, r.err);
    char path[600];
    snprintf(path, sizeof path, "%s/report.json", r.dir);
    json_error_t jerr;
    json_t *got = json_load_file(path, 0, &jerr);
    ck_assert_msg(got != NULL, "%s: %s", name, jerr.text);
    ck_assert_int_eq(json_array_size(got), json_array_size(want));
    for (size_t i = 0; i < json_array_size(want); i++)
        ck_assert_msg(json_equal(json_array_get(got, i), json_array_get(want, i)),
                      "%s: entry %zu is %s", name, i,
                      json_dumps(json_array_get(got, i), JSON_COMPACT));
    /* The MMEngine-layout listing on stderr says the same. */
    ck_assert_msg(strstr(r.err, json_string_value(json_object_get(json_array_get(want, 0),
                                                                  "info"))),
                  "%s: listing lacks the info: %s", name, r.err);
    json_decref(got);
    json_decref(doc);
    wi_test_cmd_free(&r);
    free(model);
    free(cfg);
}
END_TEST

/* The number of tensors and their data bytes, read from the file's own
 * header (data_offsets), not from weightinit. */
static void safetensors_totals(const char *path, size_t *tensors, uint64_t *bytes)
{
    size_t len;
    unsigned char *buf = (unsigned char *)wi_test_read_file(path, &len);
    ck_assert(buf && len > 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    json_t *header = json_loadb((char *)buf + 8, n, 0, NULL);
    const char *key;
    json_t *info;
    *tensors = 0;
    *bytes = 0;
    json_object_foreach(header, key, info) {
        if (strcmp(key, "__metadata__") == 0)
            continue;
        json_t *offs = json_object_get(info, "data_offsets");
        *bytes += (uint64_t)(json_integer_value(json_array_get(offs, 1)) -
                             json_integer_value(json_array_get(offs, 0)));
        (*tensors)++;
    }
    json_decref(header);
    free(buf);
}

/* A run that wrote files ends with one line saying what, how much and
 * how long; the per-parameter listing stays at the default level; -q
 * leaves stderr empty on success, warnings included. */
START_TEST(summary_line_and_quiet)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *args[] = {"init", model, "-o", "out.safetensors", "--report", "r.json", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    char path[600], want[300];
    snprintf(path, sizeof path, "%s/out.safetensors", r.dir);
    size_t tensors;
    uint64_t bytes;
    safetensors_totals(path, &tensors, &bytes);
    ck_assert(tensors > 10 && bytes > 1000 && bytes < 1000000);
    snprintf(path, sizeof path, "%s/r.json", r.dir);
    json_t *report = json_load_file(path, 0, NULL);
    snprintf(want, sizeof want, "weightinit: wrote out.safetensors (%zu tensors, "
             "%.1f kB) and r.json (%zu parameters) in ", tensors, (double)bytes / 1000.0,
             json_array_size(report));
    json_decref(report);
    const char *last = r.err + strlen(r.err) - 1;
    while (last > r.err && last[-1] != '\n')
        last--;
    ck_assert_msg(strncmp(last, want, strlen(want)) == 0, "last line '%s', want '%s...'",
                  last, want);
    ck_assert_msg(strstr(last, " s\n") && !strchr(last, '\n')[1], "%s", last);
    ck_assert_msg(strstr(r.err, "INFO - \nconv3d.weight - torch.Size([3, 2, 2, 3, 1]): "),
                  "no per-parameter listing: %s", r.err);
    wi_test_cmd_free(&r);

    /* -q: a broken plugin's warning and the summary are silenced too. */
    char dirs[1200];
    snprintf(dirs, sizeof dirs, "%s:%s", getenv("WEIGHTINIT_PLUGIN_PATH"),
             getenv("WI_TEST_BROKEN_PLUGINDIR"));
    setenv("WEIGHTINIT_PLUGIN_PATH", dirs, 1);
    const char *noisy[] = {"init", model, "-o", "out.safetensors", NULL};
    r = wi_test_cmd(noisy);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.err, "WARNING - ") && strstr(r.err, "weightinit: wrote "),
                  "%s", r.err);
    wi_test_cmd_free(&r);
    const char *quiet[] = {"init", model, "-q", "-o", "out.safetensors", NULL};
    r = wi_test_cmd(quiet);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(r.err[0] == '\0', "-q printed: %s", r.err);
    wi_test_cmd_free(&r);
    free(model);
}
END_TEST

/* -o's extension picks the format: .pth, .pt and .bin hold the same
 * tensors as .safetensors (names, order, dtypes, bytes), read back by our
 * readers (tests/pth_torch checks the same files in real torch); the
 * format is not sniffed from anything else. */
START_TEST(output_format_from_extension)
{
    char *model = wi_test_data_path("cases/mmengine_foomodel/model.json");
    const char *names[] = {"a.safetensors", "a.pth", "b.PT", "c.bin"};
    char paths[4][700];
    wi_test_cmd_t r = {wi_test_mkdtemp(), 0, NULL};
    for (int k = 0; k < 4; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/%s", r.dir, names[k]);
        const char *args[] = {"init", model, "-q", "-o", paths[k], NULL};
        wi_test_cmd_t one = wi_test_cmd(args);
        ck_assert_msg(one.status == 0, "%s: exit %d: %s", names[k], one.status, one.err);
        wi_test_cmd_free(&one);
    }
    wi_error_t err;
    wi_state_dict_t *want = wi_checkpoint_load(paths[0], &err);
    ck_assert_ptr_nonnull(want);
    for (int k = 1; k < 4; k++) {
        char head[4] = {0};
        FILE *fp = fopen(paths[k], "rb");
        ck_assert(fp && fread(head, 1, 4, fp) == 4);
        fclose(fp);
        ck_assert_msg(memcmp(head, "PK\x03\x04", 4) == 0, "%s is not a zip", names[k]);
        wi_state_dict_t *got = wi_checkpoint_load(paths[k], &err);
        ck_assert_msg(got != NULL, "%s: %s", names[k], err.text);
        ck_assert_uint_eq(wi_state_dict_size(got), wi_state_dict_size(want));
        for (size_t i = 0; i < wi_state_dict_size(want); i++) {
            const wi_tensor_t *a = wi_state_dict_tensor(want, i), *b = wi_state_dict_tensor(got, i);
            ck_assert_str_eq(wi_state_dict_name(got, i), wi_state_dict_name(want, i));
            ck_assert_int_eq(wi_tensor_dtype(b), wi_tensor_dtype(a));
            ck_assert_uint_eq(wi_tensor_nbytes(b), wi_tensor_nbytes(a));
            ck_assert(memcmp(wi_tensor_const_data(a), wi_tensor_const_data(b),
                             wi_tensor_nbytes(a)) == 0);
        }
        wi_state_dict_free(got);
    }
    wi_state_dict_free(want);
    wi_test_cmd_free(&r);
    free(model);
}
END_TEST

int main(void)
{
    collect();
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_loop_test(tc, malformed_model, 0, (int)n_error_cases);
    tcase_add_loop_test(tc, exit_code_table, 0, (int)n_exit_cases);
    tcase_add_loop_test(tc, initialize_report, 0, (int)n_initialize_cases);
    tcase_add_test(tc, summary_line_and_quiet);
    tcase_add_test(tc, missing_model_file);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, bad_environment);
    tcase_add_test(tc, threads_same_output);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, seed_semantics);
    tcase_add_test(tc, seed_metadata_canonical);
    tcase_add_test(tc, layernorm_0d);
    tcase_add_test(tc, unwritable_output);
    tcase_add_test(tc, list_types);
    tcase_add_test(tc, output_format_from_extension);
    suite_add_tcase(s, tc);
    int status = wi_test_run_suite(s);
    for (size_t i = 0; i < n_error_cases; i++)
        free(error_cases[i]);
    free(error_cases);
    for (size_t i = 0; i < n_exit_cases; i++)
        free(exit_cases[i]);
    free(exit_cases);
    for (size_t i = 0; i < n_initialize_cases; i++)
        free(initialize_cases[i]);
    free(initialize_cases);
    return status;
}
