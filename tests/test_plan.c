/* The write plan (tensor.h, "Deferred values"): a tensor from
 * wi_tensor_new records its whole-tensor writes and computes them only
 * when read.  Its values, read whole or in any part by any number of
 * threads, must be the bytes the eager write stores (the eager path is
 * the one the torch golden suites check, under WEIGHTINIT_DEFER=0 in the
 * dispatch matrix), and the generator must stand where the eager writes
 * leave it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <weightinit/init.h>
#include <weightinit/rng.h>
#include <weightinit/tensor.h>

#include "util.h"

/* A write of the whole tensor, with its arguments (init.h). */
typedef int (*write_fn)(wi_tensor_t *t, wi_generator_t *g);

static int w_uniform(wi_tensor_t *t, wi_generator_t *g) { return wi_uniform_(t, g, -0.3, 0.7, NULL); }
static int w_normal(wi_tensor_t *t, wi_generator_t *g) { return wi_normal_(t, g, 0.5, 0.02, NULL); }
static int w_trunc(wi_tensor_t *t, wi_generator_t *g) { return wi_trunc_normal_(t, g, 0.0, 1.0, -0.5, 1.5, NULL); }
static int w_const(wi_tensor_t *t, wi_generator_t *g) { (void)g; return wi_constant_(t, 0.25, NULL); }
static int w_kaiming(wi_tensor_t *t, wi_generator_t *g) { return wi_kaiming_uniform_(t, g, 2.23606797749979, "fan_in", "leaky_relu", NULL); }
static int w_xavier_n(wi_tensor_t *t, wi_generator_t *g) { return wi_xavier_normal_(t, g, 1.0, NULL); }

static const struct {
    const char *name;
    write_fn fn;
} writes[] = {
    {"uniform_", w_uniform}, {"normal_", w_normal}, {"trunc_normal_", w_trunc},
    {"constant_", w_const},  {"kaiming_uniform_", w_kaiming},
    {"xavier_normal_", w_xavier_n},
};
#define N_WRITES (sizeof writes / sizeof writes[0])

/* Sizes around the normal fill's 16-blocks and the threads' chunks. */
static const int64_t sizes[][2] = {
    {1, 16}, {1, 17}, {31, 1}, {64, 33}, {1000, 7}, {1025, 1031}, {4099, 1021},
};
#define N_SIZES (sizeof sizes / sizeof sizes[0])

static void free_data(void *data, void *ud)
{
    (void)ud;
    free(data);
}

/* An eager tensor: storage of its own from the start (wrapped storage
 * is never deferred). */
static wi_tensor_t *eager_new(const int64_t *shape)
{
    float *data = calloc((size_t)(shape[0] * shape[1]), sizeof *data);
    ck_assert_ptr_nonnull(data);
    return wi_tensor_wrap(WI_DTYPE_F32, 2, shape, data, free_data, NULL, NULL);
}

/* The next 8 draws, to compare where two generators stand. */
static void next_draws(wi_generator_t *g, uint32_t out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = wi_generator_random32(g);
}

/* Two writes to each tensor (the first never computed when deferred),
 * then the deferred values read whole and in ragged parts must equal
 * the eager ones, and both generators stand at the same draw. */
START_TEST(deferred_equals_eager)
{
    const int64_t *shape = sizes[_i / (int)N_WRITES];
    write_fn second = writes[_i % (int)N_WRITES].fn;
    for (int p = 0; p < 2; p++) {
        wi_generator_t *ge = wi_generator_new(7, (wi_rng_profile_t)p);
        wi_generator_t *gd = wi_generator_new(7, (wi_rng_profile_t)p);
        wi_tensor_t *e = eager_new(shape);
        wi_tensor_t *d = wi_tensor_new(WI_DTYPE_F32, 2, shape, NULL);
        ck_assert_int_eq(w_kaiming(e, ge), 0);
        ck_assert_int_eq(second(e, ge), 0);
        ck_assert_int_eq(w_kaiming(d, gd), 0);
        ck_assert_int_eq(second(d, gd), 0);
        ck_assert(wi_tensor_is_deferred(d));
        ck_assert(!wi_tensor_is_deferred(e));
        ck_assert_uint_eq(wi_tensor_version(d), wi_tensor_version(e));
        uint32_t de[8], dd[8];
        next_draws(ge, de);
        next_draws(gd, dd);
        ck_assert_msg(memcmp(de, dd, sizeof de) == 0,
                      "%s: the generator stands elsewhere after the writes",
                      writes[_i % (int)N_WRITES].name);

        int64_t n = wi_tensor_numel(e);
        const float *want = wi_tensor_const_data(e);
        float *got = malloc((size_t)n * sizeof *got);
        /* Ragged parts: starts and lengths off every 16-block. */
        for (int64_t pos = 0, step = 1; pos < n; pos += step, step = step * 3 + 5) {
            int64_t cnt = step < n - pos ? step : n - pos;
            ck_assert_int_eq(wi_tensor_read(d, pos, cnt, got + pos, NULL), 0);
        }
        ck_assert(wi_tensor_is_deferred(d));
        ck_assert_msg(memcmp(got, want, (size_t)n * sizeof *got) == 0,
                      "%s of %lld elements, profile %d: parts differ from eager",
                      writes[_i % (int)N_WRITES].name, (long long)n, p);
        /* Whole, through materialising. */
        const float *all = wi_tensor_const_data(d);
        ck_assert(!wi_tensor_is_deferred(d));
        ck_assert(memcmp(all, want, (size_t)n * sizeof *all) == 0);
        free(got);
        wi_tensor_free(e);
        wi_tensor_free(d);
        wi_generator_free(ge);
        wi_generator_free(gd);
    }
}
END_TEST

/* One big normal_ (odd size, several chunks per thread) read whole with
 * 1 to 8 threads equals the eager bytes. */
START_TEST(threads_read_same_bytes)
{
    const int64_t shape[2] = {2051, 2053};
    int64_t n = shape[0] * shape[1];
    wi_generator_t *ge = wi_generator_new(3, WI_RNG_AVX2);
    wi_tensor_t *e = eager_new(shape);
    ck_assert_int_eq(w_trunc(e, ge), 0);
    float *got = malloc((size_t)n * sizeof *got);
    for (int threads = 1; threads <= 8; threads++) {
        wi_generator_t *g = wi_generator_new(3, WI_RNG_AVX2);
        wi_generator_set_threads(g, threads);
        wi_tensor_t *d = wi_tensor_new(WI_DTYPE_F32, 2, shape, NULL);
        ck_assert_int_eq(w_trunc(d, g), 0);
        memset(got, 0, (size_t)n * sizeof *got);
        ck_assert_int_eq(wi_tensor_read(d, 0, n, got, NULL), 0);
        ck_assert_msg(memcmp(got, wi_tensor_const_data(e), (size_t)n * sizeof *got) == 0,
                      "%d threads", threads);
        wi_tensor_free(d);
        wi_generator_free(g);
    }
    free(got);
    wi_tensor_free(e);
    wi_generator_free(ge);
}
END_TEST

/* Writes that need values as they go: normal_ below 16 elements (the
 * cached double) after a deferred write, then writes to a tensor whose
 * pointer was handed out: computed at once, the pointer stays valid. */
START_TEST(materialised_writes)
{
    const int64_t small[2] = {3, 5}, shape[2] = {40, 40};
    wi_generator_t *ge = wi_generator_new(11, WI_RNG_DEFAULT);
    wi_generator_t *gd = wi_generator_new(11, WI_RNG_DEFAULT);
    wi_tensor_t *se = eager_new(small), *sd = wi_tensor_new(WI_DTYPE_F32, 2, small, NULL);
    wi_tensor_t *e = eager_new(shape), *d = wi_tensor_new(WI_DTYPE_F32, 2, shape, NULL);
    ck_assert_int_eq(w_uniform(e, ge), 0);
    ck_assert_int_eq(w_uniform(d, gd), 0);
    for (int k = 0; k < 3; k++) { /* the pair's second value is cached */
        ck_assert_int_eq(w_normal(se, ge), 0);
        ck_assert_int_eq(w_normal(sd, gd), 0);
    }
    ck_assert(memcmp(wi_tensor_const_data(sd), wi_tensor_const_data(se), 15 * 4) == 0);
    float *p = wi_tensor_data(d);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(w_normal(e, ge), 0);
    ck_assert_int_eq(w_normal(d, gd), 0);
    ck_assert(!wi_tensor_is_deferred(d));
    ck_assert_ptr_eq(wi_tensor_data(d), p);
    ck_assert(memcmp(p, wi_tensor_const_data(e), 1600 * 4) == 0);
    uint32_t de[8], dd[8];
    next_draws(ge, de);
    next_draws(gd, dd);
    ck_assert(memcmp(de, dd, sizeof de) == 0);
    wi_tensor_free(se);
    wi_tensor_free(sd);
    wi_tensor_free(e);
    wi_tensor_free(d);
    wi_generator_free(ge);
    wi_generator_free(gd);
}
END_TEST

/* A new tensor reads as zeros in every dtype, without storage; a range
 * outside the tensor is WI_EINVAL. */
START_TEST(zeros_and_bounds)
{
    const int64_t shape[1] = {1000};
    static const wi_dtype_t dts[] = {WI_DTYPE_F32, WI_DTYPE_I64, WI_DTYPE_BF16, WI_DTYPE_BOOL};
    unsigned char buf[8000];
    for (size_t i = 0; i < sizeof dts / sizeof *dts; i++) {
        wi_tensor_t *t = wi_tensor_new(dts[i], 1, shape, NULL);
        memset(buf, 0xab, sizeof buf);
        ck_assert_int_eq(wi_tensor_read(t, 10, 990, buf, NULL), 0);
        size_t bytes = 990 * wi_dtype_size(dts[i]);
        for (size_t k = 0; k < bytes; k++)
            ck_assert_uint_eq(buf[k], 0);
        ck_assert_uint_eq(buf[bytes], 0xab);
        ck_assert(wi_tensor_is_deferred(t));
        wi_error_t err;
        ck_assert_int_eq(wi_tensor_read(t, 999, 2, buf, &err), WI_EINVAL);
        ck_assert_int_eq(wi_tensor_read(t, -1, 1, buf, &err), WI_EINVAL);
        ck_assert_int_eq(wi_tensor_read(t, 0, -1, buf, &err), WI_EINVAL);
        ck_assert_int_eq(wi_tensor_read(t, 1, INT64_MAX, buf, &err), WI_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.text, "not within"));
        wi_tensor_free(t);
    }
    /* Wrapped storage is never deferred. */
    float *mem = calloc(4, sizeof *mem);
    wi_tensor_t *w = wi_tensor_wrap(WI_DTYPE_F32, 1, (int64_t[]){4}, mem, free_data, NULL, NULL);
    ck_assert(!wi_tensor_is_deferred(w));
    wi_tensor_free(w);
}
END_TEST

/* Records cost their jump, not their values: 64 writes of 2^30 elements
 * each to a deferred tensor of 4 GiB, never read, finish (an eager run
 * would need 4 GiB and a minute), and the generator then stands where
 * 2^36 draws put it: the same draws as a jump by that count. */
START_TEST(records_cost_no_values)
{
    const int64_t shape[2] = {1 << 15, 1 << 15};
    wi_generator_t *g = wi_generator_new(5, WI_RNG_AVX2);
    wi_generator_t *jumped = wi_generator_new(5, WI_RNG_AVX2);
    wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, 2, shape, NULL);
    for (int k = 0; k < 64; k++)
        ck_assert_int_eq(w_uniform(t, g), 0);
    ck_assert(wi_tensor_is_deferred(t));
    ck_assert_int_eq(wi_generator_skip(jumped, (uint64_t)1 << 36, NULL), 0);
    uint32_t a[8], b[8];
    next_draws(g, a);
    next_draws(jumped, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    float first[4];
    ck_assert_int_eq(wi_tensor_read(t, 0, 4, first, NULL), 0);
    for (int i = 0; i < 4; i++)
        ck_assert(first[i] >= -0.3f && first[i] < 0.7f);
    wi_tensor_free(t);
    wi_generator_free(g);
    wi_generator_free(jumped);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, deferred_equals_eager, 0, (int)(N_SIZES * N_WRITES));
    tcase_add_test(tc, threads_read_same_bytes);
    tcase_add_test(tc, materialised_writes);
    tcase_add_test(tc, zeros_and_bounds);
    tcase_add_test(tc, records_cost_no_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* This suite is about the deferred path itself. */
    unsetenv("WEIGHTINIT_DEFER");
    return wi_test_run_suite(plan_suite());
}
