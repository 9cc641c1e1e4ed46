/* The model file's "tie" against torch: tests/data/tie/make_refs.py built
 * a GPT-2-like model, initialised it as if untied and then tied it as
 * Hugging Face does, for both CPU profiles; what torch.save and
 * safetensors' save_model write for it is recorded there too. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

static const char *const cases[] = {"lm_head", "reversed"};
static const char *const profiles[] = {"avx2", "default"};


static json_t *expect(int i)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tie/%s/expect.%s.json", cases[i / 2], profiles[i % 2]);
    return wi_test_load_json(rel);
}

static uint32_t le(const unsigned char *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Records named .../data/N in a zip's central directory (torch.save
 * writes one per storage). */
static size_t zip_storages(const char *path)
{
    size_t len, n = 0;
    unsigned char *b = (unsigned char *)wi_test_read_file(path, &len);
    ck_assert(b && len >= 22);
    size_t eocd = len - 22;
    while (eocd > 0 && le(b + eocd, 4) != 0x06054b50u)
        eocd--;
    ck_assert_uint_eq(le(b + eocd, 4), 0x06054b50u);
    size_t entries = le(b + eocd + 10, 2), p = le(b + eocd + 16, 4);
    for (size_t i = 0; i < entries; i++) {
        ck_assert(p + 46 <= len && le(b + p, 4) == 0x02014b50u);
        size_t nlen = le(b + p + 28, 2), xlen = le(b + p + 30, 2), clen = le(b + p + 32, 2);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(nlen < 255 ? nlen : 255), (char *)b + p + 46);
        n += strstr(name, "/data/") != NULL;
        p += 46 + nlen + xlen + clen;
    }
    free(b);
    return n;
}

/* sd equals want (names, order, dtypes, shapes, bytes). */
static void assert_sd(const wi_state_dict_t *sd, const json_t *want, const char *label)
{
    ck_assert_msg(wi_state_dict_size(sd) == json_array_size(want), "%s: %zu tensors, want %zu",
                  label, wi_state_dict_size(sd), json_array_size(want));
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const json_t *w = json_array_get(want, i);
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        char hex[65], shape[128], wshape[128];
        ck_assert_str_eq(wi_state_dict_name(sd, i), json_string_value(json_object_get(w, "name")));
        ck_assert_str_eq(wi_dtype_name(wi_tensor_dtype(t)), json_string_value(json_object_get(w, "dtype")));
        const json_t *ws = json_object_get(w, "shape");
        int64_t dims[WI_MAX_DIMS];
        for (size_t k = 0; k < json_array_size(ws) && k < WI_MAX_DIMS; k++)
            dims[k] = json_integer_value(json_array_get(ws, k));
        wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
        wi_shape_format((int)json_array_size(ws), dims, wshape, sizeof wshape);
        ck_assert_str_eq(shape, wshape);
        wi_test_sha256_hex(wi_tensor_const_data(t), (size_t)wi_tensor_nbytes(t), hex);
        ck_assert_msg(strcmp(hex, json_string_value(json_object_get(w, "sha256"))) == 0,
                      "%s: %s differs from torch", label, wi_state_dict_name(sd, i));
    }
}

/* .pth: both names, torch's values, one storage for the tied pair. */
static void check_pth(int i, const char *dtype, const char *key)
{
    json_t *want = expect(i);
    char rel[128];
    snprintf(rel, sizeof rel, "tie/%s/model.json", cases[i / 2]);
    char *model = wi_test_data_path(rel);
    const char *args[] = {"init", model, "--seed", "7", "--rng-profile", profiles[i % 2],
                          "--dtype", dtype, "-q", "-o", "out.pth", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    char *out = wi_test_join(r.dir, "out.pth");
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(out, &err);
    ck_assert_msg(sd != NULL, "%s", err.text);
    assert_sd(sd, json_object_get(want, key), rel);
    ck_assert_uint_eq(zip_storages(out),
                      (size_t)json_integer_value(json_object_get(want, "pth_storages")));
    wi_state_dict_free(sd);
    free(out);
    free(model);
    wi_test_cmd_free(&r);
    json_decref(want);
}

START_TEST(pth_matches_torch) { check_pth(_i, "f32", "state_dict"); }
END_TEST
START_TEST(pth_bf16_matches_torch) { check_pth(_i, "bf16", "state_dict_bf16"); }
END_TEST

/* safetensors: save_model's names (one per tied tensor) and its metadata
 * entry for the dropped name. */
START_TEST(safetensors_as_save_model)
{
    json_t *want = expect(_i);
    char rel[128];
    snprintf(rel, sizeof rel, "tie/%s/model.json", cases[_i / 2]);
    char *model = wi_test_data_path(rel);
    const char *args[] = {"init", model, "--seed", "7", "--rng-profile", profiles[_i % 2],
                          "-q", "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    char *out = wi_test_join(r.dir, "out.safetensors");
    wi_test_assert_safetensors(out, json_object_get(want, "safetensors"), rel);
    size_t len;
    unsigned char *b = (unsigned char *)wi_test_read_file(out, &len);
    json_t *h = json_loadb((char *)b + 8, le(b, 4), 0, NULL);
    ck_assert_ptr_nonnull(h);
    const json_t *meta = json_object_get(h, "__metadata__");
    const char *dropped;
    json_t *kept;
    size_t n = 0;
    json_object_foreach(json_object_get(want, "safetensors_metadata"), dropped, kept) {
        ck_assert_msg(json_equal(json_object_get(meta, dropped), kept), "%s: metadata %s", rel,
                      dropped);
        n++;
    }
    ck_assert_uint_eq(n, 1);
    json_decref(h);
    free(b);
    free(out);
    free(model);
    wi_test_cmd_free(&r);
    json_decref(want);
}
END_TEST

/* The library calls: after wi_model_apply_ties the tree shares one
 * tensor under both names, named_parameters lists it once as torch does,
 * and freeing the tree frees it once (ASan/valgrind builds check). */
static int collect_name(const char *name, wi_module_t *owner, size_t index, void *ud)
{
    (void)owner;
    (void)index;
    return json_array_append_new(ud, json_string(name));
}

START_TEST(library_tree_shares_tensor)
{
    json_t *want = expect(_i);
    char rel[128];
    snprintf(rel, sizeof rel, "tie/%s/model.json", cases[_i / 2]);
    char *path = wi_test_data_path(rel);
    wi_rng_profile_t prof = _i % 2 ? WI_RNG_DEFAULT : WI_RNG_AVX2;
    wi_generator_t *g = wi_generator_new(7, prof);
    wi_context_t *ctx = wi_context_new(g);
    wi_error_t err;
    ck_assert_int_ge(wi_registry_load_search_path(wi_registry_default()), 0);
    json_t *doc = (json_t *)wi_model_read_file(path, &err);
    ck_assert_ptr_nonnull(doc);
    wi_module_t *root = wi_model_build((const wi_value_t *)doc, ctx, path, "", &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    ck_assert_int_eq(wi_model_check_ties(root, (const wi_value_t *)doc, path, &err), 0);
    ck_assert_int_eq(wi_init_weights(root, ctx, &err), 0);
    ck_assert_int_eq(wi_model_apply_ties(root, (const wi_value_t *)doc, path, &err), 0);
    wi_state_dict_t *sd = wi_module_state_dict(root, &err);
    assert_sd(sd, json_object_get(want, "state_dict"), rel);
    ck_assert_ptr_eq(wi_state_dict_find(sd, "wte.weight"), wi_state_dict_find(sd, "lm_head.weight"));
    json_t *names = json_array();
    ck_assert_int_eq(wi_module_named_parameters(root, collect_name, names), 0);
    ck_assert_msg(json_equal(names, json_object_get(want, "named_parameters")),
                  "%s: named_parameters differ from torch", rel);
    /* A second tie of the same name is refused, the tree unchanged. */
    ck_assert_int_eq(wi_module_tie(root, "lm_head.weight", "wte.weight", &err), WI_EINVAL);
    ck_assert_int_eq(wi_module_tie(root, "wpe.weight", "proj.weight", NULL), WI_EINVAL);
    ck_assert_int_eq(wi_module_tie(NULL, "a", "b", NULL), WI_EINVAL);
    json_decref(names);
    wi_state_dict_free(sd);
    wi_module_free(root);
    json_decref(doc);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(path);
    json_decref(want);
}
END_TEST

/* wi_module_tie by hand: the same as the file's tie. */
START_TEST(module_tie_by_hand)
{
    json_t *want = expect(0);
    char *path = wi_test_data_path("tie/lm_head/model.json");
    wi_generator_t *g = wi_generator_new(7, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(g);
    wi_error_t err;
    ck_assert_int_ge(wi_registry_load_search_path(wi_registry_default()), 0);
    json_t *doc = (json_t *)wi_model_read_file(path, &err);
    json_object_del(doc, "tie");
    wi_module_t *root = wi_model_build((const wi_value_t *)doc, ctx, path, "", &err);
    ck_assert_int_eq(wi_init_weights(root, ctx, &err), 0);
    ck_assert_int_eq(wi_module_tie(root, "wte.weight", "wte.weight", &err), WI_EINVAL);
    ck_assert_msg(strstr(err.text, "tied to itself"), "%s", err.text);
    ck_assert_int_eq(wi_module_tie(root, "lm_head.weight", "wpe.weight", &err), WI_EINVAL);
    ck_assert_msg(strstr(err.text, "[50, 8]") && strstr(err.text, "[16, 8]"), "%s", err.text);
    ck_assert_int_eq(wi_module_tie(root, "lm_head.weight", "wte.weight", &err), 0);
    /* A chain through the tied name is refused. */
    ck_assert_int_eq(wi_module_tie(root, "proj.weight", "lm_head.weight", &err), WI_EINVAL);
    wi_state_dict_t *sd = wi_module_state_dict(root, &err);
    assert_sd(sd, json_object_get(want, "state_dict"), "by hand");
    wi_state_dict_free(sd);
    wi_module_free(root);
    json_decref(doc);
    wi_context_free(ctx);
    wi_generator_free(g);
    free(path);
    json_decref(want);
}
END_TEST

/* tests/data/tie/errors/NAME: exit 2, one line naming the file and the
 * JSON path, the expected words, nothing written. */
static char **error_cases;
static int n_error_cases;

START_TEST(bad_tie)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tie/errors/%s/expect.json", error_cases[_i]);
    json_t *want = wi_test_load_json(rel);
    snprintf(rel, sizeof rel, "tie/errors/%s/model.json", error_cases[_i]);
    char *model = wi_test_data_path(rel);
    const char *args[] = {"init", model, "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_int_eq(r.status, json_integer_value(json_object_get(want, "status")));
    ck_assert_msg(strncmp(r.err, "weightinit: error: ", 19) == 0, "%s", r.err);
    ck_assert_msg(strchr(r.err, '\n') && strchr(r.err, '\n')[1] == '\0', "%s", r.err);
    char where[1024];
    snprintf(where, sizeof where, "%s: %s: ", model,
             json_string_value(json_object_get(want, "path")));
    ck_assert_msg(strstr(r.err, where), "%s: want '%s' in %s", error_cases[_i], where, r.err);
    size_t k;
    json_t *c;
    json_array_foreach(json_object_get(want, "contains"), k, c)
        ck_assert_msg(strstr(r.err, json_string_value(c)), "%s: want '%s' in %s",
                      error_cases[_i], json_string_value(c), r.err);
    ck_assert_int_eq(wi_test_count_entries(r.dir), 0);
    free(model);
    wi_test_cmd_free(&r);
    json_decref(want);
}
END_TEST

/* 100,000 ties in one module of 200,000 parameters, checked and applied
 * (three passes over the ties, as `init` makes): a hash lookup per name.
 * The linear scan per name this replaced makes about 3 * 10^10 string
 * compares here, minutes; this case's 60 s timeout fails it, the hashed
 * lookup takes well under a second. */
START_TEST(many_ties_linear)
{
    enum { N = 100000 };
    wi_module_t *root = wi_module_new("Net", 1);
    json_t *ties = json_object();
    wi_error_t err;
    int64_t one[1] = {1};
    char p[16], q[16];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < N; i++) {
            snprintf(p, sizeof p, "%c%d", k ? 'q' : 'p', i);
            ck_assert_int_eq(wi_module_add_parameter_new(
                                 root, p, wi_tensor_new(WI_DTYPE_F32, 1, one, NULL), &err), 0);
        }
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof p, "p%d", i);
        snprintf(q, sizeof q, "q%d", i);
        json_object_set_new(ties, q, json_string(p));
    }
    json_t *doc = json_pack("{s:o}", "tie", ties);
    ck_assert_int_eq(wi_model_check_ties(root, (const wi_value_t *)doc, "m.json", &err), 0);
    ck_assert_int_eq(wi_model_apply_ties(root, (const wi_value_t *)doc, "m.json", &err), 0);
    ck_assert_ptr_eq(wi_module_find_parameter(root, "q99999"),
                     wi_module_find_parameter(root, "p99999"));
    wi_state_dict_t *sd = wi_module_state_dict(root, &err);
    ck_assert_uint_eq(wi_state_dict_size(sd), 2 * N);
    wi_state_dict_free(sd);
    json_decref(doc);
    wi_module_free(root);
}
END_TEST

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void collect(void)
{
    char *dir = wi_test_data_path("tie/errors");
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            error_cases = realloc(error_cases, (size_t)(n_error_cases + 1) * sizeof *error_cases);
            error_cases[n_error_cases++] = strdup(list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    free(dir);
}

int main(void)
{
    collect();
    Suite *s = suite_create("tie");
    TCase *tc = tcase_create("tie");
    tcase_add_loop_test(tc, pth_matches_torch, 0, 4);
    tcase_add_loop_test(tc, pth_bf16_matches_torch, 0, 4);
    tcase_add_loop_test(tc, safetensors_as_save_model, 0, 4);
    tcase_add_loop_test(tc, library_tree_shares_tensor, 0, 4);
    tcase_add_test(tc, module_tie_by_hand);
    tcase_add_loop_test(tc, bad_tie, 0, n_error_cases);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("many_ties");
    tcase_set_timeout(big, 60);
    tcase_add_test(big, many_ties_linear);
    suite_add_tcase(s, big);
    int rc = wi_test_run_suite(s);
    for (int i = 0; i < n_error_cases; i++)
        free(error_cases[i]);
    free(error_cases);
    return rc;
}
