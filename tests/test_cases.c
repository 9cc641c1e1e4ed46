/* The whole-model golden cases of PyTorch 1.13 + MMEngine
 * (tests/data/cases + tests/data/golden), run through the weightinit
 * command exactly as a user would, in both RNG profiles: every tensor's
 * bytes (sha256 against the manifest), the report, and for error cases
 * the exit status, the one-line message and the absence of any output.
 * The torch2.0-* profiles against PyPI torch 2.0.0 + MMEngine 0.10.7's
 * tensors (tests/data/torch2/2.0.0/CAP/cases.json, gen.py), or where MKL's
 * erfinv misses, torch 2.0.0's with a correctly rounded erfinv
 * (erfinv_cr.json's "cases"); torch2.12-avx2 and torch2.13-default
 * against torch 2.15.0's, torch2.12-default against 2.12.0's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "util.h"

static char **cases;
static size_t n_cases;

/* Cases that need the C API (functional calls, is_init, init twice) are
 * in test_engine; everything else runs through the command. */
/* args.json as JSON, with its seed kept as text: seeds reach 2^64 - 1,
 * beyond jansson's int64 integers, and go to --seed verbatim. */
static json_t *load_args(const char *name, char *seed, size_t size)
{
    char rel[512];
    snprintf(rel, sizeof rel, "cases/%s/args.json", name);
    char *path = wi_test_data_path(rel);
    char *text = wi_test_read_file(path, NULL);
    free(path);
    snprintf(seed, size, "0");
    char *at = text ? strstr(text, "\"seed\":") : NULL;
    if (at) {
        char *num = at + 7;
        while (*num == ' ')
            num++;
        size_t len = strspn(num, "-0123456789");
        snprintf(seed, size, "%.*s", (int)len, num);
        memset(num, ' ', len);
        num[0] = '0';
    }
    json_error_t jerr;
    json_t *args = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!args) {
        fprintf(stderr, "%s: cannot read args.json\n", name);
        exit(2);
    }
    return args;
}

static int runs_on_command_line(const char *name)
{
    char seed[64];
    json_t *args = load_args(name, seed, sizeof seed);
    int ok = !json_object_get(args, "functional") &&
             !json_object_get(args, "set_is_init") &&
             !json_object_get(args, "init_twice");
    json_decref(args);
    return ok;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void collect_cases(void)
{
    char *dir = wi_test_data_path("cases");
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.' && runs_on_command_line(list[i]->d_name)) {
            cases = realloc(cases, (n_cases + 1) * sizeof *cases);
            cases[n_cases++] = strdup(list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    free(dir);
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *data = wi_test_read_file(from, &n);
    ck_assert_msg(data != NULL, "cannot read %s", from);
    FILE *f = fopen(to, "wb");
    ck_assert(f && fwrite(data, 1, n, f) == n);
    fclose(f);
    free(data);
}

/* Copies the checkpoints a Pretrained case loads (not the golden state). */
static void copy_checkpoints(const char *golden, const char *dir)
{
    DIR *d = opendir(golden);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || strncmp(e->d_name, "state", 5) == 0)
            continue;
        if (strcmp(dot, ".pth") && strcmp(dot, ".safetensors"))
            continue;
        char from[1024], to[1024];
        snprintf(from, sizeof from, "%s/%s", golden, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
        copy_file(from, to);
    }
    if (d)
        closedir(d);
}

/* Runs weightinit in dir with stderr captured to dir/../stderr.txt. */
static void check_tensors(const char *out, const json_t *manifest,
                          const char *label)
{
    wi_test_assert_safetensors(out, json_object_get(manifest, "tensors"), label);
    size_t len;
    unsigned char *buf = (unsigned char *)wi_test_read_file(out, &len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    json_t *header = json_loadb((char *)buf + 8, n, 0, NULL);
    json_t *meta = json_object_get(header, "__metadata__");
    ck_assert_msg(json_object_get(meta, "seed") && json_object_get(meta, "rng_profile") &&
                  json_object_get(meta, "weightinit_version"),
                  "%s: __metadata__ lacks seed, rng_profile or version", label);
    json_decref(header);
    free(buf);
}

static void check_report(const char *path, const char *name, const json_t *manifest,
                         const char *root_type, const char *label)
{
    json_error_t jerr;
    json_t *got = json_load_file(path, 0, &jerr);
    ck_assert_msg(got != NULL, "%s: report: %s", label, jerr.text);
    json_t *params = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(manifest, "tensors"), i, t)
        if (strcmp(json_string_value(json_object_get(t, "kind")), "param") == 0)
            json_array_append_new(params, json_pack("{s:O,s:O}", "name",
                json_object_get(t, "name"), "shape", json_object_get(t, "shape")));
    wi_test_assert_report_json(got, name, root_type, params);
    json_decref(params);
    json_decref(got);
}

static void check_error_case(const char *name, int status, const char *errpath,
                             const char *dir, int inputs, const char *label)
{
    json_t *all = wi_test_load_json("case_errors.json");
    json_t *words = json_object_get(json_object_get(all, name), "words");
    int want = (int)json_integer_value(json_object_get(json_object_get(all, name), "exit"));
    size_t len;
    char *text = wi_test_read_file(errpath, &len);
    ck_assert_msg(status == want, "%s: exit %d, want %d: %s", label, status, want,
                  text ? text : "");
    ck_assert_msg(text && strstr(text, "weightinit: error: "),
                  "%s: no 'weightinit: error:' line in: %s", label, text ? text : "");
    char *line = strstr(text, "weightinit: error: ");
    char *nl = strchr(line, '\n');
    ck_assert_msg(nl && nl - line > 30, "%s: error message too short", label);
    ck_assert_msg(wi_test_count_entries(dir) == inputs, "%s: files left behind", label);
    ck_assert_msg(json_array_size(words) > 0, "%s: no entry in case_errors.json", label);
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w)
        ck_assert_msg(strstr(line, json_string_value(w)), "%s: '%s' not in: %s", label,
                      json_string_value(w), line);
    free(text);
    json_decref(all);
}

/* Each profile and where its expected tensors are: the 1.13 manifests
 * (dir NULL), or a torch 2.x release's cases.json, with erfinv_cr.json's
 * overrides where that release's trunc_normal_ went through MKL's erfinv
 * (2.0-2.11). */
static const struct {
    const char *name;
    int avx2;
    const char *dir;
    int erfinv_cr;
} profiles[] = {
    {"avx2", 1, NULL, 0},
    {"default", 0, NULL, 0},
    {"torch2.0-avx2", 1, "torch2/2.0.0/avx2", 1},
    {"torch2.0-default", 0, "torch2/2.0.0/default", 1},
    {"torch2.12-avx2", 1, "torch2/2.15.0/avx2", 0},
    {"torch2.12-default", 0, "torch2/2.12.0/default", 0},
    {"torch2.13-default", 0, "torch2/2.15.0/default", 0},
};
#define N_PROFILES (sizeof profiles / sizeof profiles[0])

/* A torch 2.x release's tensors of case `name` as a manifest ({"tensors":
 * [...]}), with erfinv_cr.json's overrides; NULL when the case is an
 * error case. */
static json_t *torch2_manifest(const char *name, int prof)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s/cases.json", profiles[prof].dir);
    json_t *all = wi_test_load_json(rel);
    const json_t *c = json_object_get(json_object_get(all, "cases"), name);
    ck_assert_msg(c != NULL, "%s: no case %s", rel, name);
    json_t *tensors = json_deep_copy(json_object_get(c, "tensors"));
    json_decref(all);
    if (!tensors)
        return NULL;
    if (!profiles[prof].erfinv_cr)
        return json_pack("{s:o}", "tensors", tensors);
    snprintf(rel, sizeof rel, "%s/erfinv_cr.json", profiles[prof].dir);
    json_t *cr = wi_test_load_json(rel);
    const json_t *ov = json_object_get(json_object_get(json_object_get(cr, "cases"), name),
                                       "tensors");
    size_t i;
    json_t *t;
    json_array_foreach(tensors, i, t) {
        const json_t *o = json_object_get(ov, json_string_value(json_object_get(t, "name")));
        if (o)
            json_object_set(t, "sha256", json_object_get(o, "sha256"));
    }
    json_decref(cr);
    return json_pack("{s:o}", "tensors", tensors);
}

/* Under the ISA/thread matrix the torch2 profiles rerun only the cases
 * where torch 2.x differs from 1.13 (their own arithmetic: erfinv, the
 * rejection sampler, the fused normal_); the rest is the 1.13 profiles'
 * arithmetic, which the matrix covers. */
static int torch2_differs_from_113(const char *name, int prof)
{
    json_t *t2 = torch2_manifest(name, prof);
    if (!t2)
        return 0;
    json_t *m = wi_test_load_manifest(name, profiles[prof].avx2);
    const json_t *a = json_object_get(t2, "tensors"), *b = json_object_get(m, "tensors");
    int differ = json_array_size(a) != json_array_size(b);
    for (size_t i = 0; !differ && i < json_array_size(a); i++)
        differ = !json_equal(json_object_get(json_array_get(a, i), "sha256"),
                             json_object_get(json_array_get(b, i), "sha256"));
    json_decref(t2);
    json_decref(m);
    return differ;
}

static void run_case(const char *name, int prof)
{
    const int avx2 = profiles[prof].avx2, torch2 = profiles[prof].dir != NULL;
    if (torch2 && getenv("WEIGHTINIT_ISA") && !torch2_differs_from_113(name, prof))
        return;
    char rel[512], label[600];
    snprintf(label, sizeof label, "%s [%s]", name, profiles[prof].name);
    char seed[64];
    json_t *args = load_args(name, seed, sizeof seed);
    snprintf(rel, sizeof rel, "cases/%s/model.json", name);
    json_t *model = wi_test_load_json(rel);
    char *top = wi_test_mkdtemp();
    char dir[600], errpath[600];
    snprintf(dir, sizeof dir, "%s/run", top);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", top);
    ck_assert(mkdir(dir, 0755) == 0);
    snprintf(rel, sizeof rel, "golden/%s", name);
    char *golden = wi_test_data_path(rel);
    copy_checkpoints(golden, dir);
    snprintf(rel, sizeof rel, "cases/%s/model.json", name);
    char *model_path = wi_test_data_path(rel);
    json_t *cfg = json_object_get(args, "init_cfg");
    char *argv[16], *cfgpath = NULL;
    int argc = 0;
    argv[argc++] = getenv("WI_TEST_WEIGHTINIT");
    argv[argc++] = "init";
    argv[argc++] = model_path;
    argv[argc++] = "--seed";
    argv[argc++] = seed;
    argv[argc++] = "--rng-profile";
    argv[argc++] = (char *)profiles[prof].name;
    if (cfg) {
        cfgpath = malloc(700);
        snprintf(cfgpath, 700, "%s/init_cfg.json", top);
        ck_assert(json_dump_file(cfg, cfgpath, 0) == 0);
        argv[argc++] = "--init-cfg";
        argv[argc++] = cfgpath;
    }
    argv[argc++] = "-o";
    argv[argc++] = "out.safetensors";
    argv[argc++] = "--report";
    argv[argc++] = "report.json";
    argv[argc] = NULL;
    int inputs = wi_test_count_entries(dir);
    int status = wi_test_run(dir, argv, errpath);
    if (json_is_true(json_object_get(args, "expect_error"))) {
        check_error_case(name, status, errpath, dir, inputs, label);
    } else {
        size_t len;
        char *errtext = wi_test_read_file(errpath, &len);
        ck_assert_msg(status == 0, "%s: exit %d: %s", label, status, errtext);
        free(errtext);
        json_t *manifest = torch2 ? torch2_manifest(name, prof)
                                  : wi_test_load_manifest(name, avx2);
        ck_assert_msg(manifest != NULL, "%s: torch raised, weightinit did not", label);
        char out[700], report[700];
        snprintf(out, sizeof out, "%s/out.safetensors", dir);
        snprintf(report, sizeof report, "%s/report.json", dir);
        check_tensors(out, manifest, label);
        json_t *golden_m = wi_test_load_manifest(name, avx2); /* params, shapes */
        check_report(report, name, golden_m,
                     json_string_value(json_object_get(model, "type")), label);
        json_decref(golden_m);
        json_decref(manifest);
    }
    free(cfgpath);
    wi_test_rmtree(top);
    free(top);
    free(golden);
    free(model_path);
    json_decref(model);
    json_decref(args);
}

START_TEST(golden_case) { run_case(cases[_i / N_PROFILES], _i % N_PROFILES); }
END_TEST

START_TEST(all_cases_present)
{
    /* 75 golden cases, 4 of which need the C API (test_engine,
     * test_functional), 3 from tests/data/names and 5 model-format v2
     * cases made by tests/refs/model_v2_refs.py. */
    ck_assert_int_eq((int)n_cases, 79);
}
END_TEST

int main(void)
{
    collect_cases();
    Suite *s = suite_create("cases");
    TCase *tc = tcase_create("golden");
    tcase_add_test(tc, all_cases_present);
    tcase_add_loop_test(tc, golden_case, 0, (int)(n_cases * N_PROFILES));
    suite_add_tcase(s, tc);
    int status = wi_test_run_suite(s);
    for (size_t i = 0; i < n_cases; i++)
        free(cases[i]);
    free(cases);
    return status;
}
