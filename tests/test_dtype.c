/* --dtype and wi_tensor_to_dtype against torch 1.13's tensor.to(dtype):
 * tests/data/dtype/make_refs.py made every expected bit pattern; under the
 * torch 2.x profiles against the PyPI release's (tests/data/torch2). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

struct pattern {
    uint32_t f32;
    uint16_t bf16_avx2, bf16_default, f16;
};

/* bits.txt: "f32 bf16(avx2) bf16(default) f16" in hex, '#' comments. */
static struct pattern *load_bits(size_t *n)
{
    char *path = wi_test_data_path("dtype/bits.txt");
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    struct pattern *p = NULL;
    size_t cap = 0;
    char line[128];
    *n = 0;
    while (fgets(line, sizeof line, fp)) {
        unsigned a, b, c, d;
        if (line[0] == '#')
            continue;
        ck_assert_msg(sscanf(line, "%x %x %x %x", &a, &b, &c, &d) == 4, "bad line %s", line);
        if (*n == cap)
            p = realloc(p, (cap = cap ? 2 * cap : 1024) * sizeof *p);
        p[(*n)++] = (struct pattern){a, (uint16_t)b, (uint16_t)c, (uint16_t)d};
    }
    fclose(fp);
    free(path);
    ck_assert_uint_gt(*n, 6000);
    return p;
}

/* Every pattern in one tensor, converted, compared element by element. */
static void check_patterns(wi_dtype_t dt, wi_rng_profile_t prof)
{
    size_t n;
    struct pattern *p = load_bits(&n);
    int64_t shape[1] = {(int64_t)n};
    wi_error_t err;
    wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, 1, shape, &err);
    ck_assert_ptr_nonnull(t);
    uint32_t *src = wi_tensor_data(t);
    for (size_t i = 0; i < n; i++)
        src[i] = p[i].f32;
    wi_tensor_t *c = wi_tensor_to_dtype(t, dt, prof, &err);
    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_int_eq(wi_tensor_dtype(c), dt);
    ck_assert_int_eq(wi_tensor_numel(c), (int64_t)n);
    const uint16_t *got = wi_tensor_const_data(c);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t want = dt == WI_DTYPE_F16 ? p[i].f16
                        : prof == WI_RNG_AVX2 ? p[i].bf16_avx2 : p[i].bf16_default;
        if (got[i] != want && bad++ < 5)
            fprintf(stderr, "%s %s: 0x%08x -> 0x%04x, torch 0x%04x\n",
                    wi_dtype_name(dt), wi_rng_profile_name(prof), p[i].f32, got[i], want);
    }
    ck_assert_msg(bad == 0, "%zu of %zu patterns differ from torch", bad, n);
    /* The source is untouched. */
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(src[i], p[i].f32);
    wi_tensor_free(c);
    wi_tensor_free(t);
    free(p);
}

START_TEST(bf16_avx2_bits) { check_patterns(WI_DTYPE_BF16, WI_RNG_AVX2); }
END_TEST
START_TEST(bf16_default_bits) { check_patterns(WI_DTYPE_BF16, WI_RNG_DEFAULT); }
END_TEST
START_TEST(f16_bits)
{
    check_patterns(WI_DTYPE_F16, WI_RNG_AVX2);
    check_patterns(WI_DTYPE_F16, WI_RNG_DEFAULT);
}
END_TEST

/* The torch 2.x profiles against their release's .to(bfloat16/float16) of
 * the same patterns under the matching capability (gen.py's dtype.json:
 * "f32 bf16 f16" per line): a float16 NaN keeps its payload there. */
static void check_torch2(const char *rel, wi_rng_profile_t prof)
{
    json_t *doc = wi_test_load_json(rel);
    const json_t *lines = json_object_get(doc, "bits");
    size_t n = json_array_size(lines), payload = 0;
    ck_assert_uint_gt(n, 6000);
    int64_t shape[1] = {(int64_t)n};
    wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, 1, shape, NULL);
    uint32_t *src = wi_tensor_data(t);
    uint16_t *bf = malloc(n * 2), *h = malloc(n * 2);
    for (size_t i = 0; i < n; i++) {
        unsigned a, b, c;
        ck_assert(sscanf(json_string_value(json_array_get(lines, i)), "%x %x %x", &a, &b,
                         &c) == 3);
        src[i] = a;
        bf[i] = (uint16_t)b;
        h[i] = (uint16_t)c;
        payload += (a & 0x7fffffffu) > 0x7f800000u && (c & 0x1ff) != 0;
    }
    ck_assert_uint_gt(payload, 20); /* the case the profile is for */
    wi_error_t err;
    wi_tensor_t *cb = wi_tensor_to_dtype(t, WI_DTYPE_BF16, prof, &err);
    wi_tensor_t *ch = wi_tensor_to_dtype(t, WI_DTYPE_F16, prof, &err);
    ck_assert(cb && ch);
    const uint16_t *gb = wi_tensor_const_data(cb), *gh = wi_tensor_const_data(ch);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if ((gb[i] != bf[i] || gh[i] != h[i]) && bad++ < 5)
            fprintf(stderr, "%s %s: 0x%08x -> bf16 0x%04x f16 0x%04x, torch 0x%04x 0x%04x\n",
                    rel, wi_rng_profile_name(prof), src[i], gb[i], gh[i], bf[i], h[i]);
    ck_assert_msg(bad == 0, "%s: %zu of %zu patterns differ from torch", rel, bad, n);
    wi_tensor_free(cb);
    wi_tensor_free(ch);
    wi_tensor_free(t);
    free(bf);
    free(h);
    json_decref(doc);
}

START_TEST(torch2_bits)
{
    check_torch2("torch2/2.0.0/avx2/dtype.json", WI_RNG_TORCH2_AVX2);
    check_torch2("torch2/2.0.0/default/dtype.json", WI_RNG_TORCH2_DEFAULT);
    check_torch2("torch2/2.12.0/default/dtype.json", WI_RNG_TORCH212_DEFAULT);
    check_torch2("torch2/2.15.0/avx2/dtype.json", WI_RNG_TORCH212_AVX2);
    check_torch2("torch2/2.15.0/default/dtype.json", WI_RNG_TORCH213_DEFAULT);
}
END_TEST

/* The two profiles really differ on a bfloat16 NaN (torch's scalar and
 * vector kernels), and nowhere else. */
START_TEST(bf16_nan_depends_on_profile)
{
    size_t n, nan = 0;
    struct pattern *p = load_bits(&n);
    for (size_t i = 0; i < n; i++) {
        int is_nan = (p[i].f32 & 0x7fffffffu) > 0x7f800000u;
        nan += (size_t)is_nan;
        if (is_nan) {
            ck_assert_uint_eq(p[i].bf16_avx2, 0xffff);
            ck_assert_uint_eq(p[i].bf16_default, 0x7fc0);
        } else {
            ck_assert_uint_eq(p[i].bf16_avx2, p[i].bf16_default);
        }
    }
    ck_assert_uint_gt(nan, 10);
    free(p);
}
END_TEST

START_TEST(unsupported_conversions)
{
    int64_t shape[1] = {3};
    wi_error_t err;
    wi_tensor_t *i64 = wi_tensor_new(WI_DTYPE_I64, 1, shape, NULL);
    wi_tensor_t *f32 = wi_tensor_new(WI_DTYPE_F32, 1, shape, NULL);
    ck_assert_ptr_null(wi_tensor_to_dtype(i64, WI_DTYPE_BF16, WI_RNG_AVX2, &err));
    ck_assert_int_eq(err.code, WI_EUNSUPPORTED);
    ck_assert_msg(strstr(err.text, "I64") && strstr(err.text, "BF16"), "%s", err.text);
    ck_assert_ptr_null(wi_tensor_to_dtype(f32, WI_DTYPE_F64, WI_RNG_AVX2, &err));
    ck_assert_int_eq(err.code, WI_EUNSUPPORTED);
    ck_assert_ptr_null(wi_tensor_to_dtype(f32, (wi_dtype_t)99, WI_RNG_AVX2, NULL));
    ck_assert_ptr_null(wi_tensor_to_dtype(NULL, WI_DTYPE_F16, WI_RNG_AVX2, NULL));
    /* Same dtype: a copy, also for integers. */
    wi_tensor_t *c = wi_tensor_to_dtype(i64, WI_DTYPE_I64, WI_RNG_AVX2, &err);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(wi_tensor_const_data(c), wi_tensor_const_data(i64));
    wi_tensor_free(c);
    wi_state_dict_t *sd = wi_state_dict_new();
    ck_assert_ptr_null(wi_state_dict_to_dtype(sd, WI_DTYPE_I64, WI_RNG_AVX2, &err));
    ck_assert_int_eq(err.code, WI_EUNSUPPORTED);
    ck_assert_ptr_null(wi_state_dict_to_dtype(NULL, WI_DTYPE_F16, WI_RNG_AVX2, NULL));
    wi_state_dict_free(sd);
    wi_tensor_free(i64);
    wi_tensor_free(f32);
}
END_TEST

/* model.to(bf16): names and order kept, a tied tensor converted once and
 * still shared, integer buffers the very same tensor. */
START_TEST(state_dict_keeps_ties_and_integers)
{
    int64_t shape[1] = {2};
    wi_error_t err;
    wi_tensor_t *w = wi_tensor_new(WI_DTYPE_F32, 1, shape, NULL);
    wi_tensor_t *nbt = wi_tensor_new(WI_DTYPE_I64, 0, NULL, NULL);
    float *wv = wi_tensor_data(w);
    wv[0] = 1.00390625f; /* 0x3f808000: a tie, rounds down to even 0x3f80 */
    wv[1] = -3.0f;
    wi_state_dict_t *sd = wi_state_dict_new();
    ck_assert_int_eq(wi_state_dict_append(sd, "wte.weight", w, &err), 0);
    ck_assert_int_eq(wi_state_dict_append(sd, "bn.num_batches_tracked", nbt, &err), 0);
    ck_assert_int_eq(wi_state_dict_append(sd, "lm_head.weight", w, &err), 0);
    wi_state_dict_t *c = wi_state_dict_to_dtype(sd, WI_DTYPE_BF16, WI_RNG_AVX2, &err);
    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_uint_eq(wi_state_dict_size(c), 3);
    ck_assert_str_eq(wi_state_dict_name(c, 0), "wte.weight");
    ck_assert_str_eq(wi_state_dict_name(c, 2), "lm_head.weight");
    ck_assert_ptr_eq(wi_state_dict_tensor(c, 0), wi_state_dict_tensor(c, 2));
    ck_assert_ptr_eq(wi_state_dict_tensor(c, 1), nbt);
    const uint16_t *b = wi_tensor_const_data(wi_state_dict_tensor(c, 0));
    ck_assert_uint_eq(b[0], 0x3f80);
    ck_assert_uint_eq(b[1], 0xc040);
    wi_state_dict_free(c); /* frees the converted tensor once */
    wi_state_dict_free(sd);
    wi_tensor_free(w);
    wi_tensor_free(nbt);
}
END_TEST


/* __metadata__.dtype of a safetensors file (copied into out). */
static void file_dtype_meta(const char *path, char *out, size_t size)
{
    size_t len;
    unsigned char *buf = (unsigned char *)wi_test_read_file(path, &len);
    ck_assert(buf && len > 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    json_t *h = json_loadb((char *)buf + 8, n, 0, NULL);
    ck_assert_ptr_nonnull(h);
    const char *v = json_string_value(json_object_get(json_object_get(h, "__metadata__"), "dtype"));
    snprintf(out, size, "%s", v ? v : "(none)");
    json_decref(h);
    free(buf);
}

/* The golden case's model, seed 1234, written with --dtype: every tensor
 * is torch's golden float32 state .to(dtype), byte for byte, I64 kept. */
static const struct {
    const char *cli, *ref, *profile, *meta;
} cli_cases[] = {{"bf16", "bf16", "avx2", "bfloat16"},
                 {"bf16", "bf16", "default", "bfloat16"},
                 {"f16", "f16", "avx2", "float16"},
                 {"f16", "f16", "default", "float16"}};

START_TEST(cli_dtype_matches_torch)
{
    char *model = wi_test_data_path("cases/layer_defaults/model.json");
    const char *args[] = {"init", model, "--seed", "1234", "--rng-profile",
                          cli_cases[_i].profile, "--dtype", cli_cases[_i].cli, "-q",
                          "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    char rel[128], meta[32];
    snprintf(rel, sizeof rel, "dtype/layer_defaults.%s.%s.json", cli_cases[_i].ref,
             cli_cases[_i].profile);
    json_t *want = wi_test_load_json(rel);
    char *out = wi_test_join(r.dir, "out.safetensors");
    wi_test_assert_safetensors(out, want, rel);
    file_dtype_meta(out, meta, sizeof meta);
    ck_assert_str_eq(meta, cli_cases[_i].meta);
    /* The same tensors through torch.save's format. */
    const char *pargs[] = {"init", model, "--seed", "1234", "--rng-profile",
                           cli_cases[_i].profile, "--dtype", cli_cases[_i].cli, "-q",
                           "-o", "out.pth", NULL};
    wi_test_cmd_t p = wi_test_cmd(pargs);
    ck_assert_msg(p.status == 0, "exit %d: %s", p.status, p.err);
    char *pth = wi_test_join(p.dir, "out.pth");
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(pth, &err);
    ck_assert_msg(sd != NULL, "%s", err.text);
    ck_assert_uint_eq(wi_state_dict_size(sd), json_array_size(want));
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        json_t *w = json_array_get(want, i);
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        char hex[65];
        ck_assert_str_eq(wi_state_dict_name(sd, i), json_string_value(json_object_get(w, "name")));
        ck_assert_str_eq(wi_dtype_name(wi_tensor_dtype(t)),
                         json_string_value(json_object_get(w, "dtype")));
        wi_test_sha256_hex(wi_tensor_const_data(t), (size_t)wi_tensor_nbytes(t), hex);
        ck_assert_str_eq(hex, json_string_value(json_object_get(w, "sha256")));
    }
    wi_state_dict_free(sd);
    json_decref(want);
    free(pth);
    free(out);
    free(model);
    wi_test_cmd_free(&p);
    wi_test_cmd_free(&r);
}
END_TEST

/* Without --dtype the file says float32 (and stays float32). */
START_TEST(cli_default_dtype_is_f32)
{
    char *model = wi_test_data_path("cases/layer_defaults/model.json");
    const char *args[] = {"init", model, "--seed", "1234", "-q", "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    json_t *manifest = wi_test_load_manifest("layer_defaults", 1);
    char *out = wi_test_join(r.dir, "out.safetensors"), meta[32];
    wi_test_assert_safetensors(out, json_object_get(manifest, "tensors"), "f32");
    file_dtype_meta(out, meta, sizeof meta);
    ck_assert_str_eq(meta, "float32");
    json_decref(manifest);
    free(out);
    free(model);
    wi_test_cmd_free(&r);
}
END_TEST

START_TEST(cli_bad_dtype)
{
    static const char *const bad[] = {"bfloat16", "F16", "f64", "", "bf16 "};
    char *model = wi_test_data_path("cases/layer_defaults/model.json");
    const char *args[] = {"init", model, "--dtype", bad[_i], "-o", "out.safetensors", NULL};
    wi_test_cmd_t r = wi_test_cmd(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strncmp(r.err, "weightinit: error: --dtype: expected f32, bf16 or f16", 53) == 0,
                  "%s", r.err);
    ck_assert_msg(strchr(r.err, '\n') && strchr(r.err, '\n')[1] == '\0', "%s", r.err);
    ck_assert_int_eq(wi_test_count_entries(r.dir), 0);
    free(model);
    wi_test_cmd_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dtype");
    TCase *tc = tcase_create("dtype");
    tcase_add_test(tc, bf16_avx2_bits);
    tcase_add_test(tc, bf16_default_bits);
    tcase_add_test(tc, f16_bits);
    tcase_add_test(tc, torch2_bits);
    tcase_add_test(tc, bf16_nan_depends_on_profile);
    tcase_add_test(tc, unsupported_conversions);
    tcase_add_test(tc, state_dict_keeps_ties_and_integers);
    tcase_add_loop_test(tc, cli_dtype_matches_torch, 0,
                        (int)(sizeof cli_cases / sizeof *cli_cases));
    tcase_add_test(tc, cli_default_dtype_is_f32);
    tcase_add_loop_test(tc, cli_bad_dtype, 0, 5);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
