/* core/math against values glibc 2.36 returned (tests/data/math, made by
 * its gen_reference.py through ctypes): each function's kernel arguments,
 * random bit patterns and special values, compared bit for bit.  The full
 * comparison (all 2^32 floats, 10^9 doubles) is tests/math/verify_math. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "math/bits.h"
#include "math/wimath.h"
#include "util.h"

/* Calls fn on every line of tests/data/math/<name>.txt; fn returns 1
 * when our bits equal the recorded ones.  Returns the number of lines. */
static int replay(const char *name, int (*fn)(const uint64_t *v, int n))
{
    char rel[64];
    snprintf(rel, sizeof rel, "math/%s.txt", name);
    char *path = wi_test_data_path(rel);
    FILE *in = fopen(path, "r");
    ck_assert_msg(in != NULL, "cannot open %s", path);
    char line[256];
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, in)) {
        if (line[0] == '#')
            continue;
        uint64_t v[3];
        int n = 0;
        char *p = line, *end;
        while (n < 3 && (v[n] = strtoull(p, &end, 16), end != p)) {
            n++;
            p = end;
        }
        ck_assert_msg(n >= 2, "%s: malformed line %d", path, lines + 1);
        lines++;
        if (!fn(v, n)) {
            if (bad < 5)
                fprintf(stderr, "%s(%" PRIx64 "): differs from glibc\n", name, v[0]);
            bad++;
        }
    }
    fclose(in);
    free(path);
    ck_assert_msg(bad == 0, "%s: %d of %d values differ from glibc", name, bad, lines);
    ck_assert_int_ge(lines, 1000);
    return lines;
}

#define FLOAT1(fn)                                                          \
    static int check_##fn(const uint64_t *v, int n)                        \
    {                                                                       \
        (void)n;                                                            \
        return wi_asuint(wi_##fn(wi_asfloat((uint32_t)v[0]))) == v[1];      \
    }
#define DOUBLE1(fn)                                                         \
    static int check_##fn(const uint64_t *v, int n)                        \
    {                                                                       \
        (void)n;                                                            \
        return wi_asuint64(wi_##fn(wi_asdouble(v[0]))) == v[1];             \
    }
FLOAT1(logf)
FLOAT1(expf)
FLOAT1(erff)
FLOAT1(sinf)
FLOAT1(cosf)
DOUBLE1(log)
DOUBLE1(exp)
DOUBLE1(erf)
DOUBLE1(sin)
DOUBLE1(cos)

#if defined(__x86_64__) || defined(__i386__)
static int check_logf_avx2(const uint64_t *v, int n)
{
    (void)n;
    /* A full vector of the same input exercises the 8-lane path. */
    float in[9], out[9];
    for (int i = 0; i < 9; i++)
        in[i] = wi_asfloat((uint32_t)v[0]);
    wi_logf_avx2(in, out, 9);
    for (int i = 0; i < 9; i++)
        if (wi_asuint(out[i]) != v[1])
            return 0;
    return 1;
}

static int check_sincosf_avx2(const uint64_t *v, int n)
{
    float in[9], sn[9], cs[9];
    for (int i = 0; i < 9; i++)
        in[i] = wi_asfloat((uint32_t)v[0]);
    wi_sincosf_avx2(in, sn, cs, 9);
    for (int i = 0; i < 9; i++)
        if (n != 3 || wi_asuint(sn[i]) != v[1] || wi_asuint(cs[i]) != v[2])
            return 0;
    return 1;
}

#endif

static int check_sincosf(const uint64_t *v, int n)
{
    float s, c;
    wi_sincosf(wi_asfloat((uint32_t)v[0]), &s, &c);
    return n == 3 && wi_asuint(s) == v[1] && wi_asuint(c) == v[2];
}

static int check_sincos(const uint64_t *v, int n)
{
    double s, c;
    wi_sincos(wi_asdouble(v[0]), &s, &c);
    return n == 3 && wi_asuint64(s) == v[1] && wi_asuint64(c) == v[2];
}

static int check_pow(const uint64_t *v, int n)
{
    return n == 3 &&
           wi_asuint64(wi_pow(wi_asdouble(v[0]), wi_asdouble(v[1]))) == v[2];
}

static const struct {
    const char *name;
    int (*fn)(const uint64_t *v, int n);
} cases[] = {
    {"logf", check_logf}, {"expf", check_expf}, {"erff", check_erff},
    {"sinf", check_sinf}, {"cosf", check_cosf}, {"sincosf", check_sincosf},
    {"log", check_log},   {"exp", check_exp},   {"erf", check_erf},
    {"sin", check_sin},   {"cos", check_cos},   {"sincos", check_sincos},
    {"pow", check_pow},
};

START_TEST(test_reference)
{
    replay(cases[_i].name, cases[_i].fn);
}
END_TEST

START_TEST(test_avx2_arrays)
{
#if defined(__x86_64__) || defined(__i386__)
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return; /* nothing to compare on this CPU */
    replay("logf", check_logf_avx2);
    replay("sincosf", check_sincosf_avx2);
#endif
}
END_TEST

/* The logf of torch >= 2.12's trunc_normal_ (init/trunc_normal.c) on
 * every value uniform_() draws, k * 2^-24 for k < 2^24, against the
 * correctly rounded logs (numpy's double log rounded, the 378 near-ties
 * by mpmath): tests/refs/torch2/check_reject_log.py --sha256. */
START_TEST(test_logf_cr_u24)
{
    const uint32_t n = 1u << 24;
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (uint32_t k = 0; k < n; k++)
        v[k] = wi_logf_cr_u24((float)k * 0x1p-24f);
    char hex[65];
    wi_test_sha256_hex(v, n * sizeof *v, hex);
    free(v);
    ck_assert_str_eq(hex, "bb5021a8499253400cb6826412db5c7d07ebbbc1f28f7845269122d2751cb165");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("math");
    TCase *tc = tcase_create("glibc");
    tcase_add_loop_test(tc, test_reference, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_avx2_arrays);
    tcase_add_test(tc, test_logf_cr_u24);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
