/* Sharded output (wi_checkpoint_write_sharded): Hugging Face's size
 * syntax, its split and file names (tests/data/shards/: expected results
 * worked out from huggingface_hub's algorithm, the index text written by
 * Python's json), all files in one output group, the write progress
 * callback, and round trips through the readers, inspect's loader and
 * Pretrained against the unsharded output. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "util.h"

static char *dir;

static void setup(void) { dir = wi_test_mkdtemp(); }
static void teardown(void)
{
    wi_test_rmtree(dir);
    free(dir);
}

static char *in_dir(const char *name) { return wi_test_join(dir, name); }

START_TEST(size_syntax)
{
    static const struct {
        const char *text;
        uint64_t want; /* 0: an error */
    } cases[] = {
        {"5GB", 5000000000u},       {"500MB", 500000000u},
        {"10KB", 10000},            {"2TB", 2000000000000u},
        {"5gB", 5000000000u},       {"1.5GB", 1500000000u},
        {"5gb", 0},                 {"5Gb", 0},
        {"7b", 0},                  {"4kib", 4096},
        {"0.1GB", 100000000u},      {"1GiB", 1073741824u},
        {"2mib", 2097152},          {"3KiB", 3072},
        {"1TiB", 1099511627776u},   {"123", 123},
        {"123B", 123},              {"1.9", 1},
        {"9223372036854775808", 9223372036854775808u},
        {"", 0},                    {"GB", 0},
        {"5XB", 0},                 {"-1", 0},
        {"0", 0},                   {"0GB", 0},
        {" 5GB", 0},                {"5 GB", 0},
        {"9223372036854775809", 0}, {"99999999999TB", 0},
        {"1e9", 0},                 {"5GBs", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t got = 0;
        wi_error_t err;
        int rc = wi_checkpoint_parse_size(cases[i].text, &got, &err);
        if (cases[i].want) {
            ck_assert_msg(rc == 0, "'%s': %s", cases[i].text, err.text);
            ck_assert_msg(got == cases[i].want, "'%s': %llu", cases[i].text,
                          (unsigned long long)got);
        } else {
            ck_assert_msg(rc == WI_EINVAL, "'%s' accepted as %llu", cases[i].text,
                          (unsigned long long)got);
            ck_assert_msg(strstr(err.text, "5GB"), "'%s': %s", cases[i].text,
                          err.text);
        }
    }
    ck_assert_int_eq(wi_checkpoint_parse_size("1", (uint64_t[1]){0}, NULL), 0);
    ck_assert_int_eq(wi_checkpoint_parse_size("x", (uint64_t[1]){0}, NULL), WI_EINVAL);
}
END_TEST

/* F32 tensors with distinct values, from case.json's [name, numel], or
 * [name, numel, tied]: the tensor named tied under a second name. */
static wi_state_dict_t *make_sd(const json_t *tensors)
{
    wi_state_dict_t *sd = wi_state_dict_new();
    size_t i;
    json_t *t;
    json_array_foreach(tensors, i, t) {
        const char *tied = json_string_value(json_array_get(t, 2));
        if (tied) {
            wi_tensor_t *x = wi_state_dict_find(sd, tied);
            ck_assert_ptr_nonnull(x);
            ck_assert_int_eq(wi_state_dict_append(
                                 sd, json_string_value(json_array_get(t, 0)), x, NULL),
                             0);
            continue;
        }
        int64_t numel = json_integer_value(json_array_get(t, 1));
        wi_tensor_t *x = wi_tensor_new(WI_DTYPE_F32, 1, &numel, NULL);
        ck_assert_ptr_nonnull(x);
        float *d = wi_tensor_data(x);
        for (int64_t k = 0; k < numel; k++)
            d[k] = (float)(i * 1000 + (size_t)k) + 0.5f;
        ck_assert_int_eq(wi_state_dict_append_new(
                             sd, json_string_value(json_array_get(t, 0)), x, NULL),
                         0);
    }
    return sd;
}

/* Every tensor of want is in got, same dtype, shape and bytes, and got
 * holds nothing else. */
static void assert_same_tensors(const wi_state_dict_t *want,
                                const wi_state_dict_t *got, const char *label)
{
    ck_assert_msg(wi_state_dict_size(got) == wi_state_dict_size(want),
                  "%s: %zu tensors, want %zu", label, wi_state_dict_size(got),
                  wi_state_dict_size(want));
    for (size_t i = 0; i < wi_state_dict_size(want); i++) {
        const char *name = wi_state_dict_name(want, i);
        const wi_tensor_t *a = wi_state_dict_tensor(want, i);
        const wi_tensor_t *b = wi_state_dict_find(got, name);
        ck_assert_msg(b, "%s: no tensor '%s'", label, name);
        ck_assert_msg(wi_tensor_dtype(a) == wi_tensor_dtype(b) &&
                          wi_tensor_same_shape(a, b) &&
                          memcmp(wi_tensor_const_data(a), wi_tensor_const_data(b),
                                 wi_tensor_nbytes(a)) == 0,
                      "%s: '%s' differs", label, name);
    }
}

/* The folder holds exactly the names of files (a JSON object's keys)
 * plus extra (may be NULL): no temporary, no stray file. */
static void assert_listing(const json_t *files, const char *extra)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        ck_assert_msg(json_object_get(files, e->d_name) ||
                          (extra && strcmp(e->d_name, extra) == 0),
                      "unexpected file %s", e->d_name);
    }
    closedir(d);
    ck_assert_int_eq(wi_test_count_entries(dir),
                     (int)json_object_size(files) + (extra ? 1 : 0));
}

static void run_case(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "shards/%s/case.json", name);
    json_t *c = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "shards/%s/expected_files.json", name);
    json_t *files = wi_test_load_json(rel);
    const char *output = json_string_value(json_object_get(c, "output"));
    wi_state_dict_t *sd = make_sd(json_object_get(c, "tensors"));
    json_t *meta = json_pack("{s:s, s:s}", "format", "pt", "seed", "7");
    wi_checkpoint_format_t fmt;
    ck_assert_int_eq(wi_checkpoint_format_from_path(output, &fmt, NULL), 0);
    char *path = in_dir(output);
    wi_error_t err;
    size_t n = 0;
    int rc = wi_checkpoint_save_sharded(
        path, fmt, sd, (const wi_value_t *)meta,
        (uint64_t)json_integer_value(json_object_get(c, "max_shard_bytes")), NULL,
        &n, &err);
    ck_assert_msg(rc == 0, "%s: %s", name, err.text);
    ck_assert_msg(n == json_object_size(files), "%s: %zu files", name, n);

    char index_name[300];
    snprintf(index_name, sizeof index_name, "%s.index.json", output);
    assert_listing(files, n > 1 ? index_name : NULL);
    if (n > 1) {
        snprintf(rel, sizeof rel, "shards/%s/expected.index.json", name);
        char *want_path = wi_test_data_path(rel), *got_path = in_dir(index_name);
        size_t wlen, glen;
        char *want = wi_test_read_file(want_path, &wlen);
        char *got = wi_test_read_file(got_path, &glen);
        ck_assert_ptr_nonnull(want);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(wlen == glen && memcmp(want, got, wlen) == 0,
                      "%s: index\n%s\nwant\n%s", name, got, want);
        free(want);
        free(got);
        free(want_path);
        /* Read back through the index: every tensor, as written. */
        wi_state_dict_t *back = wi_checkpoint_load(got_path, &err);
        ck_assert_msg(back, "%s: %s", name, err.text);
        assert_same_tensors(sd, back, name);
        wi_state_dict_free(back);
        free(got_path);
    }
    /* Each file holds its tensors in state_dict order, its own metadata. */
    const char *file;
    json_t *names;
    json_object_foreach(files, file, names) {
        char *p = in_dir(file);
        json_t *info = NULL;
        wi_state_dict_t *got = wi_checkpoint_load_all(p, (wi_value_t **)&info, &err);
        ck_assert_msg(got, "%s: %s", file, err.text);
        ck_assert_uint_eq(wi_state_dict_size(got), json_array_size(names));
        for (size_t i = 0; i < json_array_size(names); i++)
            ck_assert_str_eq(wi_state_dict_name(got, i),
                             json_string_value(json_array_get(names, i)));
        /* A tie read back from its file is one storage again (.pth). */
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(c, "tensors"), k, t) {
            const char *tied = json_string_value(json_array_get(t, 2));
            const wi_tensor_t *x = wi_state_dict_find(got, json_string_value(json_array_get(t, 0)));
            if (tied && x && wi_tensor_numel(x) > 0 && fmt == WI_CHECKPOINT_PTH)
                ck_assert_ptr_eq(wi_tensor_const_data(x),
                                 wi_tensor_const_data(wi_state_dict_find(got, tied)));
        }
        if (fmt == WI_CHECKPOINT_SAFETENSORS)
            ck_assert_msg(json_equal(json_object_get(info, "metadata"), meta),
                          "%s: metadata", file);
        wi_state_dict_free(got);
        json_decref(info);
        free(p);
    }
    free(path);
    json_decref(meta);
    wi_state_dict_free(sd);
    json_decref(files);
    json_decref(c);
}

START_TEST(hf_cases)
{
    char *root = wi_test_data_path("shards");
    DIR *d = opendir(root);
    struct dirent *e;
    int ran = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d))) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s/case.json", root, e->d_name);
        if (e->d_name[0] == '.' || stat(p, &st) != 0)
            continue;
        wi_test_rmtree(dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        run_case(e->d_name);
        ran++;
    }
    closedir(d);
    free(root);
    ck_assert_int_ge(ran, 9);
}
END_TEST

static wi_state_dict_t *three_tensors(void)
{
    json_t *t = json_pack("[[s,i],[s,i],[s,i]]", "a", 100, "b", 100, "c", 100);
    wi_state_dict_t *sd = make_sd(t);
    json_decref(t);
    return sd;
}

/* The shards are outputs of the caller's group: nothing appears before
 * its commit, nothing stays when it is freed uncommitted, and they are
 * checked against its inputs and other outputs. */
START_TEST(one_group)
{
    wi_state_dict_t *sd = three_tensors();
    char *path = in_dir("model.safetensors"), *report = in_dir("report.json");
    wi_output_group_t *g = wi_output_group_new();
    ck_assert_ptr_nonnull(wi_output_group_open(g, report, NULL));
    size_t n = 0;
    ck_assert_int_eq(wi_checkpoint_write_sharded(g, path, WI_CHECKPOINT_SAFETENSORS,
                                                 sd, NULL, 400, NULL, &n, NULL),
                     0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(wi_test_count_entries(dir), 5); /* temporaries only */
    char *idx = in_dir("model.safetensors.index.json");
    ck_assert_int_ne(access(idx, F_OK), 0);
    wi_output_group_free(g); /* uncommitted */
    ck_assert_int_eq(wi_test_count_entries(dir), 0);

    /* A shard that is the group's input is refused; nothing is left. */
    char *shard1 = in_dir("model-00001-of-00003.safetensors");
    FILE *fp = fopen(shard1, "w");
    fclose(fp);
    g = wi_output_group_new();
    ck_assert_int_eq(wi_output_group_add_input(g, shard1, NULL), 0);
    wi_error_t err;
    ck_assert_int_eq(wi_checkpoint_write_sharded(g, path, WI_CHECKPOINT_SAFETENSORS,
                                                 sd, NULL, 400, NULL, NULL, &err),
                     WI_EINVAL);
    ck_assert_msg(strstr(err.text, "input"), "%s", err.text);
    wi_output_group_free(g);
    ck_assert_int_eq(wi_test_count_entries(dir), 1);
    unlink(shard1);

    /* The index's place is a folder: the shards written before are gone. */
    ck_assert_int_eq(mkdir(idx, 0700), 0);
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, WI_CHECKPOINT_SAFETENSORS, sd,
                                                NULL, 400, NULL, NULL, &err),
                     WI_EINVAL);
    ck_assert_str_eq(err.source, idx);
    ck_assert_int_eq(wi_test_count_entries(dir), 1);
    rmdir(idx);

    /* 0 = no limit: one file, named as given. */
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, WI_CHECKPOINT_SAFETENSORS, sd,
                                                NULL, 0, NULL, &n, NULL),
                     0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(wi_test_count_entries(dir), 1);
    ck_assert_int_eq(access(path, F_OK), 0);
    free(shard1);
    free(idx);
    free(path);
    free(report);
    wi_state_dict_free(sd);
}
END_TEST

static void write_text_file(const char *name)
{
    char *p = in_dir(name);
    FILE *fp = fopen(p, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    free(p);
}

struct seen {
    int calls, finished, bad_order, after_finish;
    wi_task_progress_t last, first;
};

static void on_task(const wi_task_progress_t *p, void *ud)
{
    struct seen *s = ud;
    if (s->finished)
        s->after_finish++;
    if (s->calls == 0)
        s->first = *p;
    else if (p->bytes_done < s->last.bytes_done ||
             p->params_done < s->last.params_done ||
             p->tensors_done < s->last.tensors_done ||
             p->bytes_total != s->first.bytes_total)
        s->bad_order++;
    s->calls++;
    s->finished += p->finished;
    s->last = *p;
}

/* Progress: totals first, monotone, per 4 MiB within a tensor, over all
 * shards as one task, ending once at the totals with finished = 1. */
START_TEST(progress)
{
    /* 10 MiB + 2 x 400 bytes, in 2 shards; safetensors and .pth. */
    json_t *t = json_pack("[[s,i],[s,i],[s,i]]", "big", 10 << 18, "a", 100, "b", 100);
    wi_state_dict_t *sd = make_sd(t);
    json_decref(t);
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    const char *outs[] = {"model.safetensors", "pytorch_model.bin"};
    for (int k = 0; k < 2; k++) {
        struct seen s = {0};
        wi_context_set_task_progress(ctx, on_task, &s);
        char *path = in_dir(outs[k]);
        wi_checkpoint_format_t fmt;
        ck_assert_int_eq(wi_checkpoint_format_from_path(path, &fmt, NULL), 0);
        size_t n;
        wi_error_t err;
        ck_assert_msg(wi_checkpoint_save_sharded(path, fmt, sd, NULL, 800, ctx, &n,
                                                 &err) == 0,
                      "%s", err.text);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(s.first.task, WI_TASK_WRITE);
        ck_assert_str_eq(s.first.name, path);
        ck_assert_uint_eq(s.first.bytes_done, 0);
        ck_assert_uint_eq(s.first.bytes_total, (10u << 20) + 800);
        ck_assert_uint_eq(s.first.params_total, (10u << 18) + 200);
        ck_assert_uint_eq(s.first.tensors_total, 3);
        ck_assert_int_eq(s.bad_order, 0);
        ck_assert_int_eq(s.finished, 1);
        ck_assert_int_eq(s.after_finish, 0);
        ck_assert(s.last.finished);
        ck_assert_uint_eq(s.last.bytes_done, s.first.bytes_total);
        ck_assert_uint_eq(s.last.params_done, s.first.params_total);
        ck_assert_uint_eq(s.last.tensors_done, 3);
        /* start, 3 steps of 4 MiB in big, the rest: at least 4 calls. */
        ck_assert_msg(s.calls >= 4, "%s: %d calls", outs[k], s.calls);
        free(path);
    }
    /* wi_checkpoint_write_progress: one file. */
    struct seen s = {0};
    wi_context_set_task_progress(ctx, on_task, &s);
    char *path = in_dir("one.safetensors");
    FILE *fp = fopen(path, "wb");
    ck_assert_int_eq(wi_checkpoint_write_progress(fp, path, WI_CHECKPOINT_SAFETENSORS,
                                                  sd, NULL, ctx, NULL),
                     0);
    fclose(fp);
    ck_assert(s.last.finished && s.last.bytes_done == (10u << 20) + 800);
    ck_assert_int_eq(s.bad_order, 0);
    /* Downloads' byte counts reach the task callback too. */
    s = (struct seen){0};
    wi_context_progress(ctx, 5, 10);
    ck_assert_int_eq(s.last.task, WI_TASK_DOWNLOAD);
    ck_assert_uint_eq(s.last.bytes_done, 5);
    ck_assert_uint_eq(s.last.bytes_total, 10);
    ck_assert_int_eq(s.last.finished, 0);
    wi_context_set_task_progress(ctx, NULL, NULL);
    free(path);
    wi_context_free(ctx);
    wi_generator_free(g);
    wi_state_dict_free(sd);
}
END_TEST

static void on_log(wi_log_level_t level, const char *message, void *ud)
{
    json_t *seen = ud;
    if (level == WI_LOG_WARNING)
        json_array_append_new(seen, json_string(message));
}

/* warnings holds one message naming each of names (NULL-terminated)
 * with what, and nothing else. */
static void assert_warned(json_t *warnings, const char *const *names,
                          const char *what)
{
    size_t n = 0;
    for (; names[n]; n++) {
        int found = 0;
        for (size_t i = 0; i < json_array_size(warnings); i++) {
            const char *m = json_string_value(json_array_get(warnings, i));
            char *p = in_dir(names[n]);
            found += strncmp(m, p, strlen(p)) == 0 && m[strlen(p)] == ':' &&
                     strstr(m, what) != NULL;
            free(p);
        }
        ck_assert_msg(found == 1, "%s warned %d times", names[n], found);
    }
    ck_assert_uint_eq(json_array_size(warnings), n);
    /* sorted by name, not in directory order */
    for (size_t i = 1; i < n; i++) {
        const char *a = json_string_value(json_array_get(warnings, i - 1));
        const char *b = json_string_value(json_array_get(warnings, i));
        size_t la = (size_t)(strstr(a, ": ") - a), lb = (size_t)(strstr(b, ": ") - b);
        int cmp = strncmp(a, b, la < lb ? la : lb);
        ck_assert_msg(cmp < 0 || (cmp == 0 && la < lb), "not sorted: %s before %s", a, b);
    }
    json_array_clear(warnings);
}

/* Files of an earlier save that a new one does not replace are named in
 * a warning and left alone. */
START_TEST(stale_files)
{
    wi_state_dict_t *sd = three_tensors();
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    json_t *warnings = json_array();
    wi_context_set_log(ctx, on_log, warnings);
    char *path = in_dir("model.safetensors");
    const wi_checkpoint_format_t st = WI_CHECKPOINT_SAFETENSORS;
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, st, sd, NULL, 400, ctx, NULL, NULL), 0);
    ck_assert_uint_eq(json_array_size(warnings), 0);
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, st, sd, NULL, 400, ctx, NULL, NULL), 0);
    ck_assert_uint_eq(json_array_size(warnings), 0); /* all replaced */
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, st, sd, NULL, 800, ctx, NULL, NULL), 0);
    assert_warned(warnings, (const char *[]){"model-00001-of-00003.safetensors",
                                             "model-00002-of-00003.safetensors",
                                             "model-00003-of-00003.safetensors", NULL},
                  "earlier save");
    ck_assert_int_eq(wi_test_count_entries(dir), 6); /* nothing deleted */
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, st, sd, NULL, 0, ctx, NULL, NULL), 0);
    assert_warned(warnings, (const char *[]){"model-00001-of-00003.safetensors",
                                             "model-00002-of-00003.safetensors",
                                             "model-00003-of-00003.safetensors",
                                             "model-00001-of-00002.safetensors",
                                             "model-00002-of-00002.safetensors",
                                             "model.safetensors.index.json", NULL},
                  "earlier");
    ck_assert_int_eq(wi_checkpoint_save_sharded(path, st, sd, NULL, 800, ctx, NULL, NULL), 0);
    assert_warned(warnings, (const char *[]){"model-00001-of-00003.safetensors",
                                             "model-00002-of-00003.safetensors",
                                             "model-00003-of-00003.safetensors",
                                             "model.safetensors", NULL},
                  "earlier");
    /* Other names are not shards of this save. */
    const char *others[] = {"model-0001-of-00002.safetensors", "model-00001-of-00002.bin",
                            "other-00001-of-00003.safetensors",
                            "model-00001-of-00003.safetensors.bak"};
    for (size_t i = 0; i < 4; i++)
        write_text_file(others[i]);
    char *bin = in_dir("pytorch_model.bin");
    ck_assert_int_eq(wi_checkpoint_save_sharded(bin, WI_CHECKPOINT_PTH, sd, NULL, 800,
                                                ctx, NULL, NULL), 0);
    ck_assert_uint_eq(json_array_size(warnings), 0);
    free(bin);
    free(path);
    json_decref(warnings);
    wi_context_free(ctx);
    wi_generator_free(g);
    wi_state_dict_free(sd);
}
END_TEST

static void write_text(const char *name, const char *text)
{
    char *p = in_dir(name);
    FILE *fp = fopen(p, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    free(p);
}

static int run_wi(const char *const *args)
{
    char *argv[32];
    int n = 0;
    argv[n++] = getenv("WI_TEST_WEIGHTINIT");
    ck_assert_ptr_nonnull(argv[0]);
    for (; args[n - 1]; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    char *errpath = in_dir("err.txt");
    int rc = wi_test_run(dir, argv, errpath);
    if (rc != 0) {
        char *text = wi_test_read_file(errpath, NULL);
        fprintf(stderr, "weightinit exit %d: %s\n", rc, text ? text : "");
        free(text);
    }
    free(errpath);
    return rc;
}

static wi_state_dict_t *load(const char *name)
{
    char *p = in_dir(name);
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(p, &err);
    ck_assert_msg(sd, "%s: %s", name, err.text);
    free(p);
    return sd;
}

#define LAYERS                                                                 \
    "\"children\": {\"a\": {\"type\": \"Linear\", \"in_features\": 64, "       \
    "\"out_features\": 64}, \"n\": {\"type\": \"BatchNorm1d\", "               \
    "\"num_features\": 64}, \"b\": {\"type\": \"Linear\", \"in_features\": "   \
    "64, \"out_features\": 32}}"

/* The command's sharded output equals its unsharded output tensor for
 * tensor (safetensors and .bin), and a model loading it with Pretrained
 * gets those tensors. */
START_TEST(command_round_trip)
{
    write_text("m.json", "{\"type\": \"Net\", " LAYERS "}");
    write_text("pm.json", "{\"type\": \"Net\", \"init_cfg\": {\"type\": "
                          "\"Pretrained\", \"checkpoint\": "
                          "\"s/model.safetensors.index.json\"}, " LAYERS "}");
    char *sub = in_dir("s");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    free(sub);
    ck_assert_int_eq(run_wi((const char *[]){"init", "m.json", "-q", "--seed", "3",
                                             "-o", "one.safetensors", NULL}),
                     0);
    ck_assert_int_eq(run_wi((const char *[]){"init", "m.json", "-q", "--seed", "3",
                                             "-o", "s/model.safetensors",
                                             "--max-shard-size", "9KB", NULL}),
                     0);
    ck_assert_int_eq(run_wi((const char *[]){"init", "m.json", "-q", "--seed", "3",
                                             "-o", "s/pytorch_model.bin",
                                             "--max-shard-size", "9KiB", NULL}),
                     0);
    /* a.weight (16384 bytes) alone; a.bias and n (1288 bytes) with
     * b.weight (8192) would pass 9 kB (9 KiB): three shards. */
    char *p = in_dir("s/model-00003-of-00003.safetensors");
    ck_assert_int_eq(access(p, F_OK), 0);
    free(p);
    p = in_dir("s/pytorch_model-00003-of-00003.bin");
    ck_assert_int_eq(access(p, F_OK), 0);
    free(p);
    wi_state_dict_t *one = load("one.safetensors");
    wi_state_dict_t *st = load("s/model.safetensors.index.json");
    wi_state_dict_t *bin = load("s/pytorch_model.bin.index.json");
    assert_same_tensors(one, st, "safetensors shards");
    assert_same_tensors(one, bin, ".bin shards");
    /* inspect's loader reads the index with its shards. */
    char *idx = in_dir("s/model.safetensors.index.json");
    json_t *info = NULL;
    wi_state_dict_t *all = wi_checkpoint_load_all(idx, (wi_value_t **)&info, NULL);
    ck_assert_ptr_nonnull(all);
    assert_same_tensors(one, all, "load_all");
    ck_assert_str_eq(json_string_value(json_object_get(info, "format")), "sharded");
    ck_assert_uint_eq(json_array_size(json_object_get(info, "shards")), 3);
    ck_assert_int_eq(run_wi((const char *[]){"inspect", "s/model.safetensors.index.json",
                                             NULL}),
                     0);
    /* Pretrained with another seed: every tensor comes from the shards. */
    ck_assert_int_eq(run_wi((const char *[]){"init", "pm.json", "-q", "--seed", "9",
                                             "-o", "loaded.safetensors", NULL}),
                     0);
    wi_state_dict_t *loaded = load("loaded.safetensors");
    assert_same_tensors(one, loaded, "Pretrained from the shards");
    /* convert re-shards: .bin shards to safetensors shards, same tensors. */
    ck_assert_int_eq(run_wi((const char *[]){"convert", "s/pytorch_model.bin.index.json",
                                             "c.safetensors", "--max-shard-size", "9KB",
                                             NULL}),
                     0);
    p = in_dir("c.safetensors.index.json");
    ck_assert_int_eq(access(p, F_OK), 0);
    free(p);
    wi_state_dict_t *conv = load("c.safetensors.index.json");
    assert_same_tensors(one, conv, "convert --max-shard-size");
    wi_state_dict_free(conv);
    ck_assert_int_eq(run_wi((const char *[]){"convert", "c.safetensors.index.json",
                                             "c.safetensors", "--max-shard-size", "9KB",
                                             NULL}),
                     2);
    /* Writing over the shards the run reads through Pretrained: refused. */
    ck_assert_int_eq(run_wi((const char *[]){"init", "pm.json", "-q", "-o",
                                             "s/model.safetensors",
                                             "--max-shard-size", "9KB", NULL}),
                     2);
    wi_state_dict_t *again = load("s/model.safetensors.index.json");
    assert_same_tensors(one, again, "after the refused run");
    wi_state_dict_free(again);
    wi_state_dict_free(loaded);
    wi_state_dict_free(all);
    json_decref(info);
    free(idx);
    wi_state_dict_free(one);
    wi_state_dict_free(st);
    wi_state_dict_free(bin);
}
END_TEST

/* The stale-file check runs for every output of init and convert, in
 * both formats, not only with --max-shard-size: a plain save beside an
 * earlier sharded one names the index and each shard, sorted. */
START_TEST(stale_files_every_output)
{
    write_text("m.json", "{\"type\": \"Net\", " LAYERS "}");
    char *sub = in_dir("s");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    free(sub);
    ck_assert_int_eq(run_wi((const char *[]){"init", "m.json", "-q", "-o", "one.safetensors",
                                             NULL}), 0);
    static const struct {
        const char *out, *shard_size, *const args[8];
    } runs[] = {
        {"model.safetensors", "9KB", {"init", "m.json", "-o", "s/model.safetensors", NULL}},
        {"model.safetensors", "9KB",
         {"convert", "one.safetensors", "s/model.safetensors", NULL}},
        {"pytorch_model.bin", "9KiB", {"init", "m.json", "-o", "s/pytorch_model.bin", NULL}},
        {"pytorch_model.bin", "9KiB",
         {"convert", "one.safetensors", "s/pytorch_model.bin", NULL}},
    };
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        char out[64];
        snprintf(out, sizeof out, "s/%s", runs[r].out);
        ck_assert_int_eq(run_wi((const char *[]){"init", "m.json", "-q", "-o", out,
                                                 "--max-shard-size", runs[r].shard_size,
                                                 NULL}), 0);
        ck_assert_int_eq(run_wi(runs[r].args), 0);
        char *errpath = in_dir("err.txt"), *text = wi_test_read_file(errpath, NULL);
        json_t *warnings = json_array();
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            char *w = strstr(line, " - WARNING - ");
            if (w) { /* the message, with the folder as the test sees it */
                char *full = in_dir(w + 13);
                json_array_append_new(warnings, json_string(full));
                free(full);
            }
        }
        const char *stem = strncmp(runs[r].out, "model", 5) == 0 ? "s/model" : "s/pytorch_model";
        const char *ext = strncmp(runs[r].out, "model", 5) == 0 ? ".safetensors" : ".bin";
        char names[4][64];
        for (int k = 0; k < 3; k++)
            snprintf(names[k], sizeof names[k], "%s-%05d-of-00003%s", stem, k + 1, ext);
        snprintf(names[3], sizeof names[3], "s/%s.index.json", runs[r].out);
        assert_warned(warnings, (const char *[]){names[0], names[1], names[2], names[3], NULL},
                      "earlier");
        json_decref(warnings);
        free(text);
        free(errpath);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shards");
    TCase *tc = tcase_create("shards");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, size_syntax);
    tcase_add_test(tc, hf_cases);
    tcase_add_test(tc, one_group);
    tcase_add_test(tc, progress);
    tcase_add_test(tc, stale_files);
    tcase_add_test(tc, command_round_trip);
    tcase_add_test(tc, stale_files_every_output);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
