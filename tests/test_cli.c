/* The weightinit command's contract (docs/cli.md): options, exit codes, the
 * one-line errors for malformed model files (data-driven from
 * tests/data/model_errors/<case>/{model.json,expect.json}), and that a
 * failing run leaves no output behind. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

/* A built-in layer's name in the wrong case becomes an empty custom
 * module, as written; the run says what was likely meant, and a plain
 * "ReLU" (a layer without weights, one letter from PReLU) is left alone. */
START_TEST(misspelt_layer_warns)
{
    char *model = wi_test_data_path("models/misspelt_layer.json");
    const char *args[] = {"init", model, "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.err, "children.norm: 'Layernorm' is not a built-in layer "
                                "type, so it is an empty custom module; did you mean "
                                "'LayerNorm'?"), "%s", r.err);
    ck_assert_msg(!strstr(r.err, "PReLU"), "%s", r.err);
    wi_test_cmd_free(&r);
    free(model);
}
END_TEST

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
        {"init", model, "--log-level", "loud", NULL, NULL},
        {"init", model, "--log-level", "", NULL, NULL},
        {"init", model, "--log-level", NULL, NULL, NULL},
        {"convert", "a.pth", "b.safetensors", "--log-level", "verbose", NULL},
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

/* Runs the case tests/data/exit_codes/<name> (args.json, expect.json,
 * input files): its files are copied to a fresh folder and the command
 * runs there.  Returns the exit status; *err gets stderr (sanitizer
 * runtime lines dropped), *left whether the folder holds more than the
 * inputs afterwards. */
static int run_exit_case(const char *name, char **err, int *left)
{
    char rel[512];
    snprintf(rel, sizeof rel, "exit_codes/%s", name);
    char *src = wi_test_data_path(rel);
    snprintf(rel, sizeof rel, "exit_codes/%s/args.json", name);
    json_t *spec = wi_test_load_json(rel);
    char *top = wi_test_mkdtemp(), dir[600], cache[600], errpath[600];
    snprintf(dir, sizeof dir, "%s/run", top);
    snprintf(cache, sizeof cache, "%s/cache", top);
    snprintf(errpath, sizeof errpath, "%s/stderr", top);
    ck_assert(mkdir(dir, 0755) == 0);
    int inputs = copy_case_files(src, dir);
    char *saved_cache = getenv("WEIGHTINIT_CACHE") ? strdup(getenv("WEIGHTINIT_CACHE")) : NULL;
    setenv("WEIGHTINIT_CACHE", cache, 1);
    const char *key;
    json_t *v;
    char *saved[8][2];
    size_t n_saved = 0;
    json_t *set = json_object();
    json_object_foreach(json_object_get(spec, "env_append"), key, v) {
        char joined[1024];
        const char *old = getenv(key);
        snprintf(joined, sizeof joined, "%s%s%s", old ? old : "", old ? ":" : "",
                 json_string_value(v));
        json_object_set_new(set, key, json_string(joined));
    }
    json_object_foreach(json_object_get(spec, "env"), key, v)
        json_object_set(set, key, v);
    json_object_foreach(set, key, v) {
        ck_assert(n_saved < 8);
        saved[n_saved][0] = strdup(key);
        saved[n_saved++][1] = getenv(key) ? strdup(getenv(key)) : NULL;
        setenv(key, json_string_value(v), 1);
    }
    char *argv[32];
    size_t argc = 0, i;
    argv[argc++] = getenv("WI_TEST_WEIGHTINIT");
    json_array_foreach(json_object_get(spec, "args"), i, v)
        if (argc < 31)
            argv[argc++] = substitute(json_string_value(v));
    argv[argc] = NULL;
    int status = wi_test_run(dir, argv, errpath);
    *err = drop_sanitizer_lines(wi_test_read_file(errpath, NULL));
    *left = wi_test_count_entries(dir) != inputs;
    /* The environment as it was: the next case runs in this process. */
    for (size_t k = 0; k < n_saved; k++) {
        if (saved[k][1])
            setenv(saved[k][0], saved[k][1], 1);
        else
            unsetenv(saved[k][0]);
        free(saved[k][0]);
        free(saved[k][1]);
    }
    if (saved_cache)
        setenv("WEIGHTINIT_CACHE", saved_cache, 1);
    else
        unsetenv("WEIGHTINIT_CACHE");
    free(saved_cache);
    for (size_t k = 1; k < argc; k++)
        free(argv[k]);
    json_decref(set);
    wi_test_rmtree(top);
    free(top);
    free(src);
    json_decref(spec);
    return status;
}

/* The rows of docs/cli.md's exit status table: [message, exit, cases,
 * first case or null] as written (the message between its outer
 * backticks, the cases the backticked names of the last column that are
 * folders of tests/data/exit_codes). */
static json_t *doc_exit_table(void)
{
    const char *doc = getenv("WI_TEST_CLI_DOC");
    ck_assert_msg(doc != NULL, "WI_TEST_CLI_DOC is not set");
    char *text = wi_test_read_file(doc, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", doc);
    char *line = strstr(text, "\n| error class | example message");
    ck_assert_msg(line != NULL, "%s: no exit status table", doc);
    json_t *rows = json_array();
    line = strchr(line + 1, '\n') + 1;
    line = strchr(line, '\n') + 1; /* the | --- | line */
    while (line[0] == '|') {
        char *end = strchr(line, '\n');
        *end = '\0';
        /* | class | `message` | exit | cases |: a '|' inside a cell would
         * need escaping in Markdown; none is allowed here. */
        char *cells[6];
        int n = 0;
        for (char *p = line + 1; n < 6 && (p = strchr(p, '|')) != NULL; p++)
            cells[n++] = p;
        ck_assert_msg(n == 4, "docs/cli.md row with %d cells: %s", n, line);
        char *msg = cells[0] + 1, *msg_end = cells[1];
        while (*msg == ' ')
            msg++;
        while (msg_end > msg && msg_end[-1] == ' ')
            msg_end--;
        ck_assert_msg(*msg == '`' && msg_end[-1] == '`', "message not in backticks: %s", line);
        json_t *row = json_pack("[s%, i, []]", msg + 1, (size_t)(msg_end - msg - 2),
                                atoi(cells[1] + 1));
        for (char *p = cells[2]; (p = strchr(p, '`')) != NULL;) {
            char *q = strchr(p + 1, '`'), rel[600];
            struct stat st;
            ck_assert(q && q < end);
            snprintf(rel, sizeof rel, "exit_codes/%.*s", (int)(q - p - 1), p + 1);
            char *dir = wi_test_data_path(rel);
            /* a case folder, not a shell test or a folder of other cases */
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !strchr(rel + 11, '/'))
                json_array_append_new(json_array_get(row, 2),
                                      json_stringn(p + 1, (size_t)(q - p - 1)));
            free(dir);
            p = q + 1;
        }
        json_array_append(row, json_array_get(json_array_get(row, 2), 0));
        json_array_append_new(rows, row);
        line = end + 1;
    }
    free(text);
    ck_assert_msg(json_array_size(rows) > 20, "only %zu rows", json_array_size(rows));
    return rows;
}

/* text matches a table message where "..." stands for any text. */
static int matches_elided(const char *text, const char *pattern)
{
    const char *dots = strstr(pattern, "...");
    size_t n = dots ? (size_t)(dots - pattern) : strlen(pattern);
    if (!dots)
        return strcmp(text, pattern) == 0;
    if (strncmp(text, pattern, n) != 0)
        return 0;
    const char *rest = dots + 3;
    for (const char *t = text + n;; t++) {
        if (matches_elided(t, rest))
            return 1;
        if (!*t)
            return 0;
    }
}

/* docs/cli.md's exit status table, one folder per row (tests/data/exit_codes/
 * <case>/{args.json, expect.json, input files}): the command must exit
 * with the row's status, say so in one error line naming the words, and
 * leave nothing behind.  The first case a row names must print the row's
 * message (after "weightinit: error: "; "..." elides): the table is read
 * at test time, so the documentation cannot drift from the program. */
START_TEST(exit_code_table)
{
    const char *name = exit_cases[_i];
    char rel[512], *err;
    int left;
    snprintf(rel, sizeof rel, "exit_codes/%s/args.json", name);
    json_t *spec = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "exit_codes/%s/expect.json", name);
    json_t *expect = wi_test_load_json(rel);
    int status = run_exit_case(name, &err, &left);
    int want = (int)json_integer_value(json_object_get(expect, "exit"));
    ck_assert_msg(status == want, "%s (%s): exit %d, want %d: %s", name,
                  json_string_value(json_object_get(spec, "class")), status, want, err);
    assert_one_error_line(err, name);
    size_t i;
    json_t *v, *rows = doc_exit_table(), *row;
    json_array_foreach(json_object_get(expect, "mentions"), i, v)
        ck_assert_msg(strstr(err, json_string_value(v)), "%s: '%s' not in: %s", name,
                      json_string_value(v), err);
    ck_assert_msg(!left, "%s: output left behind", name);
    json_array_foreach(rows, i, row) {
        const char *message = json_string_value(json_array_get(row, 0));
        const char *first = json_string_value(json_array_get(row, 3));
        if (!first || strcmp(first, name) != 0)
            continue;
        err[strlen(err) - 1] = '\0';
        ck_assert_msg(matches_elided(err + 19, message),
                      "%s prints\n  %s\ndocs/cli.md says\n  %s", name, err + 19, message);
    }
    free(err);
    json_decref(rows);
    json_decref(spec);
    json_decref(expect);
}
END_TEST

/* Every row of docs/cli.md's exit status table names a case of
 * tests/data/exit_codes/ (whose first one exit_code_table checks against
 * the row's message), with the row's status; every case is in a row. */
START_TEST(doc_exit_table_names_cases)
{
    json_t *rows = doc_exit_table(), *row, *c;
    size_t i, k;
    json_t *named = json_object();
    json_array_foreach(rows, i, row) {
        int want = (int)json_integer_value(json_array_get(row, 1));
        ck_assert_msg(json_is_string(json_array_get(row, 3)),
                      "docs/cli.md row '%s' names no case of tests/data/exit_codes",
                      json_string_value(json_array_get(row, 0)));
        json_array_foreach(json_array_get(row, 2), k, c) {
            const char *name = json_string_value(c);
            char rel[600];
            snprintf(rel, sizeof rel, "exit_codes/%s/expect.json", name);
            json_t *expect = wi_test_load_json(rel);
            ck_assert_msg(json_integer_value(json_object_get(expect, "exit")) == want,
                          "docs/cli.md says exit %d for %s, its case %d", want, name,
                          (int)json_integer_value(json_object_get(expect, "exit")));
            json_decref(expect);
            json_object_set_new(named, name, json_true());
        }
    }
    for (size_t n = 0; n < n_exit_cases; n++)
        ck_assert_msg(json_object_get(named, exit_cases[n]),
                      "tests/data/exit_codes/%s is in no row of docs/cli.md's table", exit_cases[n]);
    json_decref(named);
    json_decref(rows);
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
                          "--report", "report.json", "--log-level", "info", NULL};
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

/* Counts the lines of text. */
static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* A run that wrote files ends with one line saying what, how much and
 * how long.  The log levels are MMEngine's names: the default, warning,
 * prints warnings and that line only (a model's size does not change
 * how much it says); info adds MMEngine's 4-line record per parameter,
 * debug more; error (-q) leaves stderr empty on success, warnings
 * included. */
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
    ck_assert_msg(count_lines(r.err) == 1, "the default level printed more than the "
                  "summary: %s", r.err);
    wi_test_cmd_free(&r);

    /* info and debug: the per-parameter records (4 lines each), then the
     * summary; the level's name in any case, as Python's logging takes. */
    const char *levels[][2] = {{"--log-level", "info"}, {"--log-level", "INFO"},
                               {"--log-level", "debug"}, {"-v", NULL}};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        const char *verbose[] = {"init", model, "-o", "out.safetensors", "--report",
                                 "r.json", levels[i][0], levels[i][1], NULL};
        r = wi_test_cmd(verbose);
        ck_assert_msg(r.status == 0, "%s", r.err);
        ck_assert_msg(strstr(r.err, "INFO - \nconv3d.weight - torch.Size([3, 2, 2, 3, 1]): "),
                      "%s %s: no per-parameter listing: %s", levels[i][0],
                      levels[i][1] ? levels[i][1] : "", r.err);
        ck_assert_msg(count_lines(r.err) >= 4 * 21 + 1, "%s", r.err);
        ck_assert_msg(strstr(r.err, want), "%s: no summary: %s", levels[i][0], r.err);
        wi_test_cmd_free(&r);
    }

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
    const char *warning[] = {"init", model, "--log-level", "Warning", "-o",
                             "out.safetensors", NULL};
    r = wi_test_cmd(warning);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.err, "WARNING - ") && strstr(r.err, "weightinit: wrote ") &&
                  !strstr(r.err, "INFO"), "%s", r.err);
    wi_test_cmd_free(&r);
    for (int k = 0; k < 2; k++) {
        const char *quiet[] = {"init", model, k ? "-q" : "--log-level", k ? "-o" : "error",
                               k ? "out.safetensors" : "-o", k ? NULL : "out.safetensors",
                               NULL};
        r = wi_test_cmd(quiet);
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(r.err[0] == '\0', "%s printed: %s", quiet[2], r.err);
        wi_test_cmd_free(&r);
    }
    free(model);
}
END_TEST

/* Runs a shell command line in dir with stdout and stderr to files;
 * returns the exit status and both texts (malloc'd). */
static int sh(const char *dir, const char *line, char **out, char **err)
{
    char cmd[8192], o[700], e[700];
    snprintf(o, sizeof o, "%s.out", dir);
    snprintf(e, sizeof e, "%s.err", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && export W='%s' && (%s) >'%s' 2>'%s'", dir,
             getenv("WI_TEST_WEIGHTINIT"), line, o, e);
    int status = system(cmd);
    *out = wi_test_read_file(o, NULL);
    *err = wi_test_read_file(e, NULL);
    remove(o);
    remove(e);
    ck_assert(*out && *err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* init without -o builds and initialises the model but writes nothing:
 * one WARNING says so and how to write, once the run succeeded (none
 * with -o, none for plan or -q; a failing run prints its error only). */
START_TEST(no_output_says_so)
{
    char *model = example("cases/layer_defaults/model.json");
    const char *args[] = {"init", model, NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_msg(count_lines(r.err) == 1 &&
                  strstr(r.err, " - WARNING - no -o: nothing was written; add -o "
                                "FILE.safetensors (or .pth, .pt, .bin) to write them\n"),
                  "%s", r.err);
    ck_assert_int_eq(wi_test_count_entries(r.dir), 0);
    wi_test_cmd_free(&r);
    const char *report[] = {"init", model, "--report", "r.json", NULL};
    r = wi_test_cmd(report);
    ck_assert_msg(r.status == 0 && strstr(r.err, "no -o: the weights were not written, only "
                                                 "the report; add -o"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "weightinit: wrote r.json (21 parameters)"), "%s", r.err);
    ck_assert_int_eq(wi_test_count_entries(r.dir), 1);
    wi_test_cmd_free(&r);
    const char *quiet[] = {"init", model, "-q", NULL}, *with_o[] = {"init", model, "-o",
                                                                     "x.safetensors", NULL},
               *plan[] = {"plan", model, NULL};
    const char *const *silent[] = {quiet, with_o, plan};
    for (int i = 0; i < 3; i++) {
        r = wi_test_cmd(silent[i]);
        ck_assert_msg(r.status == 0 && !strstr(r.err, "no -o"), "%s: %s", silent[i][2], r.err);
        wi_test_cmd_free(&r);
    }
    free(model);
}
END_TEST

/* After the bar is erased the commit fsyncs (seconds for a large file):
 * on a terminal a note says so where the bar was and is erased before
 * the summary; never with --no-fsync, -q, or off a terminal.  script(1)
 * gives the run a pty. */
START_TEST(syncing_note_on_terminal)
{
    if (system("command -v script >/dev/null 2>&1") != 0) {
        printf("script(1) not found: terminal checks skipped\n");
        return;
    }
    char *model = example("cases/layer_defaults/model.json");
    char *dir = wi_test_mkdtemp(), line[1500], *out, *err;
    const struct {
        const char *opts, *note; /* NULL: no note */
    } runs[] = {{"", "syncing 1 file to disk..."},
                {"--report r.json", "syncing 2 files to disk..."},
                {"--no-fsync", NULL},
                {"-q", NULL}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        snprintf(line, sizeof line, "script -qec \"\\$W init '%s' -o o.safetensors %s\" "
                 "tty.txt </dev/null >/dev/null && cat tty.txt", model, runs[i].opts);
        ck_assert_msg(sh(dir, line, &out, &err) == 0, "%s: %s", runs[i].opts, err);
        if (runs[i].note) {
            char want[200];
            /* drawn after the bar's erase, erased before the summary */
            snprintf(want, sizeof want, "\r\033[K\r%s\033[K\r\033[Kweightinit: wrote o.safetensors",
                     runs[i].note);
            ck_assert_msg(strstr(out, want), "%s: no syncing note: %s", runs[i].opts, out);
        } else {
            ck_assert_msg(!strstr(out, "syncing"), "%s: %s", runs[i].opts, out);
        }
        free(out);
        free(err);
    }
    /* Off a terminal: the summary line only. */
    snprintf(line, sizeof line, "$W init '%s' -o o.safetensors", model);
    ck_assert_int_eq(sh(dir, line, &out, &err), 0);
    ck_assert_msg(!strstr(err, "syncing") && !strchr(err, '\r'), "%s", err);
    free(out);
    free(err);
    wi_test_rmtree(dir);
    free(dir);
    free(model);
}
END_TEST

/* Writes a safetensors file of one F32 [1] tensor per name (zeros). */
static void write_safetensors(const char *path, const char *const *names, size_t n)
{
    json_t *h = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(h, names[i], json_pack("{s:s, s:[i], s:[I, I]}", "dtype", "F32",
                                                   "shape", 1, "data_offsets",
                                                   (json_int_t)(4 * i), (json_int_t)(4 * i + 4)));
    char *text = json_dumps(h, JSON_COMPACT);
    size_t len = strlen(text), pad = (8 - len % 8) % 8;
    unsigned char size[8];
    for (int b = 0; b < 8; b++)
        size[b] = (unsigned char)((len + pad) >> (8 * b));
    FILE *fp = fopen(path, "wb");
    ck_assert(fp);
    fwrite(size, 1, 8, fp);
    fputs(text, fp);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', fp);
    for (size_t i = 0; i < 4 * n; i++)
        fputc(0, fp);
    ck_assert(fclose(fp) == 0);
    free(text);
    json_decref(h);
}

/* Names reach the terminal escaped as ls -b shows them (ESC as \033,
 * BEL as \a, newline \n, tab \t, backslash \\, a C1 control and
 * invalid UTF-8 in octal; valid UTF-8 kept) in every human output: the
 * inspect listing, plan's text, log records, warnings, errors and the
 * summary line.  The JSON outputs keep the exact names. */
START_TEST(escape_human_output)
{
    static const char evil[] = "w\033]0;pwned\a\nx\ty\\z\302\233\303\251";
    static const char shown[] = "w\\033]0;pwned\\a\\nx\\ty\\\\z\\302\\233\303\251";
    char *dir = wi_test_mkdtemp(), *out, *err, *path = wi_test_join(dir, "evil.safetensors");
    const char *names[] = {"plain", evil};
    write_safetensors(path, names, 2);
    ck_assert_int_eq(sh(dir, "$W inspect evil.safetensors", &out, &err), 0);
    ck_assert_msg(strstr(out, shown), "inspect: %s", out);
    ck_assert_msg(!strchr(out, '\033') && !strchr(out, '\a') && !strchr(out, '\t') &&
                  !strstr(out, "\302\233"), "raw control bytes: %s", out);
    free(out);
    free(err);
    /* --json keeps the name exactly. */
    ck_assert_int_eq(sh(dir, "$W inspect --json evil.safetensors", &out, &err), 0);
    json_t *doc = json_loads(out, 0, NULL);
    json_t *t = json_array_get(json_object_get(json_array_get(json_object_get(doc, "files"), 0),
                                               "tensors"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(t, "name")), evil);
    json_decref(doc);
    free(out);
    free(err);
    /* File names (invalid UTF-8 too) in the listing and in an error
     * (convert refuses the unknown extension). */
    char evil_file[700];
    snprintf(evil_file, sizeof evil_file, "%s/e\033[2J\377.txt", dir);
    ck_assert(rename(path, evil_file) == 0);
    ck_assert_int_eq(sh(dir, "$W inspect e*.txt; $W convert e*.txt \"$(printf 'o\\033c.onnx')\"",
                        &out, &err), 2);
    ck_assert_msg(strstr(err, "o\\033c.onnx: cannot tell") && !strchr(err, '\033'), "%s", err);
    ck_assert_msg(strstr(out, "e\\033[2J\\377.txt: safetensors") && !strchr(out, '\033'),
                  "%s", out);
    free(out);
    free(err);
    /* A model file's names in log records, warnings, plan's text and an
     * output's name in the summary line. */
    json_t *model = json_pack("{s:s, s:{s:[i]}, s:{s:{s:s, s:i, s:i}}, s:{s:s, s:i, s:s}}",
                              "type", "Net", "params", evil, 2, "children", "fc", "type",
                              "Linear", "in_features", 2, "out_features", 2, "init_cfg",
                              "type", "Constant", "val", 1, "layer", evil);
    char *mpath = wi_test_join(dir, "m.json");
    ck_assert(json_dump_file(model, mpath, 0) == 0);
    json_decref(model);
    ck_assert_int_eq(sh(dir, "$W init m.json --log-level info -o \"$(printf 'o\\033.pth')\"",
                        &out, &err), 0);
    char want[300];
    snprintf(want, sizeof want, "WARNING - m.json: init_cfg.layer: layer '%s' matches no", shown);
    ck_assert_msg(strstr(err, want), "warning: %s", err);
    snprintf(want, sizeof want, "INFO - \n%s - torch.Size([2]): \n", shown);
    ck_assert_msg(strstr(err, want), "record: %s", err);
    ck_assert_msg(strstr(err, "weightinit: wrote o\\033.pth ("), "summary: %s", err);
    ck_assert_msg(!strchr(err, '\033') && !strchr(err, '\a') && !strchr(err, '\t'),
                  "raw control bytes: %s", err);
    free(out);
    free(err);
    ck_assert_int_eq(sh(dir, "$W plan m.json", &out, &err), 0);
    snprintf(want, sizeof want, "%s [2]\n", shown);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "plan: %s", out);
    ck_assert_msg(!strchr(out, '\033') && !strchr(err, '\033'), "raw ESC: %s %s", out, err);
    free(out);
    free(err);
    /* The same on a terminal (script(1): stdout and stderr on one pty). */
    if (system("command -v script >/dev/null 2>&1") == 0) {
        ck_assert_int_eq(sh(dir, "script -qec \"\\$W inspect e*.txt\" tty.txt </dev/null "
                                 ">/dev/null; cat tty.txt", &out, &err), 0);
        ck_assert_msg(strstr(out, "w\\033]0;pwned") && !strstr(out, "\033]"), "%s", out);
        free(out);
        free(err);
    }
    free(mpath);
    free(path);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A path argument that is an empty string (an unset $VAR) is refused
 * before anything is read or written, naming the argument; an existing
 * output stays untouched. */
START_TEST(empty_paths)
{
    char *model = example("cases/layer_defaults/model.json");
    const struct {
        const char *args[8], *what;
    } cases[] = {
        {{"init", "", "-o", "out.safetensors"}, "MODEL.json"},
        {{"init", model, "-o", ""}, "-o"},
        {{"init", model, "-o", "out.safetensors", "--report", ""}, "--report"},
        {{"init", model, "-o", "out.safetensors", "--init-cfg", ""}, "--init-cfg"},
        {{"init", model, "-o", "out.safetensors", "--plugin", ""}, "--plugin"},
        {{"plan", ""}, "MODEL.json"},
        {{"inspect", ""}, "inspect: FILE"},
        {{"inspect", "out.safetensors", ""}, "inspect: FILE"},
        {{"convert", "", "x.safetensors"}, "convert: IN"},
        {{"convert", "out.safetensors", ""}, "convert: OUT"},
        {{"list", "--plugin", ""}, "--plugin"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *dir = wi_test_mkdtemp(), *argv[12], errpath[700];
        char *existing = wi_test_join(dir, "out.safetensors");
        FILE *fp = fopen(existing, "w");
        ck_assert(fp && fputs("old", fp) >= 0 && fclose(fp) == 0);
        int argc = 0;
        argv[argc++] = getenv("WI_TEST_WEIGHTINIT");
        for (int k = 0; k < 8 && cases[i].args[k]; k++)
            argv[argc++] = (char *)cases[i].args[k];
        argv[argc] = NULL;
        snprintf(errpath, sizeof errpath, "%s.err", dir);
        int status = wi_test_run(dir, argv, errpath);
        char *err = wi_test_read_file(errpath, NULL), want[200];
        remove(errpath);
        snprintf(want, sizeof want, "weightinit: error: %s: expected a file name, got an "
                 "empty string\n", cases[i].what);
        ck_assert_msg(status == 2 && strcmp(err, want) == 0, "case %zu: exit %d: %s", i,
                      status, err);
        char *kept = wi_test_read_file(existing, NULL);
        ck_assert_msg(kept && strcmp(kept, "old") == 0, "case %zu: output replaced", i);
        ck_assert_int_eq(wi_test_count_entries(dir), 1);
        free(kept);
        free(err);
        free(existing);
        wi_test_rmtree(dir);
        free(dir);
    }
    free(model);
}
END_TEST

/* inspect - reads standard input (as -o - writes standard output):
 * safetensors and .pth, the same listing as the file's but for its name,
 * no temporary left in $TMPDIR; convert - too.  Not a checkpoint: the
 * error names standard input; a terminal is refused; - only once. */
START_TEST(inspect_stdin)
{
    char *model = example("cases/layer_defaults/model.json");
    char *dir = wi_test_mkdtemp(), *tmp = wi_test_join(dir, "tmp"), line[2000];
    ck_assert(mkdir(tmp, 0755) == 0);
    setenv("TMPDIR", tmp, 1);
    const char *exts[] = {"safetensors", "pth"};
    for (int k = 0; k < 2; k++) {
        char *a, *b, *e;
        snprintf(line, sizeof line, "$W init '%s' -q -o m.%s && $W inspect m.%s", model,
                 exts[k], exts[k]);
        ck_assert_int_eq(sh(dir, line, &a, &e), 0);
        free(e);
        snprintf(line, sizeof line, "$W inspect - < m.%s", exts[k]);
        ck_assert_msg(sh(dir, line, &b, &e) == 0, "%s", e);
        free(e);
        /* "m.EXT: FORMAT; ..." against "standard input: FORMAT; ..." */
        char *ra = strchr(a, ':'), *rb = strchr(b, ':');
        ck_assert_msg(strncmp(b, "standard input: ", 16) == 0 && ra && rb &&
                      strcmp(ra, rb) == 0, "file:\n%s\nstdin:\n%s", a, b);
        free(a);
        free(b);
        snprintf(line, sizeof line, "cat m.%s | $W inspect --json - m.%s", exts[k], exts[k]);
        ck_assert_int_eq(sh(dir, line, &a, &e), 0);
        json_t *doc = json_loads(a, 0, NULL), *files = json_object_get(doc, "files");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "file")), "-");
        ck_assert(json_equal(json_object_get(json_array_get(files, 0), "tensors"),
                             json_object_get(json_array_get(files, 1), "tensors")));
        json_decref(doc);
        free(a);
        free(e);
    }
    char *out, *err;
    ck_assert_int_eq(sh(dir, "$W convert - c.safetensors < m.pth && $W convert m.pth d.safetensors"
                             " && $W inspect --json c.safetensors d.safetensors", &out, &err), 0);
    json_t *doc = json_loads(out, 0, NULL), *files = json_object_get(doc, "files");
    ck_assert(json_equal(json_object_get(json_array_get(files, 0), "tensors"),
                         json_object_get(json_array_get(files, 1), "tensors")));
    json_decref(doc);
    free(out);
    free(err);
    ck_assert_int_eq(sh(dir, "echo '<html>' | $W inspect -", &out, &err), 2);
    ck_assert_msg(strncmp(err, "weightinit: error: standard input: not a checkpoint: ", 53) == 0 &&
                  !strstr(err, "wi-tmp"), "%s", err);
    free(out);
    free(err);
    ck_assert_int_eq(sh(dir, "$W inspect - - < m.pth", &out, &err), 2);
    ck_assert_str_eq(err, "weightinit: error: inspect: - (standard input) can be read once\n");
    free(out);
    free(err);
    ck_assert_int_eq(wi_test_count_entries(tmp), 0);
    if (system("command -v script >/dev/null 2>&1") == 0) {
        ck_assert_int_eq(sh(dir, "script -qec '$W inspect -' tty.txt </dev/null >/dev/null; "
                                 "echo $?; cat tty.txt", &out, &err), 0);
        ck_assert_msg(strncmp(out, "2\n", 2) == 0 &&
                      strstr(out, "weightinit: error: -: standard input is a terminal"),
                      "%s", out);
        free(out);
        free(err);
    }
    unsetenv("TMPDIR");
    wi_test_rmtree(dir);
    free(dir);
    free(tmp);
    free(model);
}
END_TEST

/* inspect counts parameters and buffers apart, as torch does: ResNet-18
 * (torchvision's layout, tests/data/models/resnet18.json) has
 * 11,689,512 parameters (torchvision's documented figure; torch's
 * sum(p.numel() for p in model.parameters()), tests/refs/
 * resnet18_counts.py) and 9,620 buffer elements (running_mean/var and
 * num_batches_tracked of 20 BatchNorm2d: model.buffers()).  Our own
 * safetensors names its parameters in the metadata; the .pth does not,
 * and is classified by name and dtype. */
START_TEST(inspect_counts)
{
    char *model = example("models/resnet18.json");
    char *dir = wi_test_mkdtemp(), line[2000], *out, *err;
    snprintf(line, sizeof line, "$W init '%s' -q --no-fsync -o r.safetensors && "
             "$W init '%s' -q --no-fsync -o r.pth && $W inspect r.safetensors r.pth", model, model);
    ck_assert_msg(sh(dir, line, &out, &err) == 0, "%s", err);
    const char *want = "  122 tensors, 11689512 parameters, 9620 buffer elements, "
                       "46796608 bytes\n";
    char *first = strstr(out, want);
    const char *tail = out + (strlen(out) > 600 ? strlen(out) - 600 : 0);
    ck_assert_msg(first && strstr(first + 1, want), "...%s", tail);
    ck_assert_msg(strstr(out, "total: 244 tensors, 23379024 parameters, 19240 buffer "
                              "elements, 93593216 bytes in 2 files\n"), "...%s", tail);
    free(out);
    free(err);
    ck_assert_int_eq(sh(dir, "$W inspect --json r.pth", &out, &err), 0);
    json_t *doc = json_loads(out, 0, NULL), *f = json_array_get(json_object_get(doc, "files"), 0);
    json_t *totals = json_object_get(f, "totals");
    ck_assert_int_eq(json_integer_value(json_object_get(totals, "parameters")), 11689512);
    ck_assert_int_eq(json_integer_value(json_object_get(totals, "buffers")), 9620);
    size_t i, buffers = 0;
    json_t *t;
    json_array_foreach(json_object_get(f, "tensors"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        int buffer = strcmp(json_string_value(json_object_get(t, "kind")), "buffer") == 0;
        ck_assert_msg(buffer == (strstr(name, ".running_") || strstr(name, ".num_batches")),
                      "%s: %s", name, json_string_value(json_object_get(t, "kind")));
        buffers += buffer;
    }
    ck_assert_uint_eq(buffers, 60);
    json_decref(doc);
    free(out);
    free(err);
    wi_test_rmtree(dir);
    free(dir);
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
    tcase_add_test(tc, doc_exit_table_names_cases);
    tcase_add_loop_test(tc, initialize_report, 0, (int)n_initialize_cases);
    tcase_add_test(tc, summary_line_and_quiet);
    tcase_add_test(tc, missing_model_file);
    tcase_add_test(tc, misspelt_layer_warns);
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
    tcase_add_test(tc, no_output_says_so);
    tcase_add_test(tc, syncing_note_on_terminal);
    tcase_add_test(tc, escape_human_output);
    tcase_add_test(tc, empty_paths);
    tcase_add_test(tc, inspect_stdin);
    tcase_add_test(tc, inspect_counts);
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
