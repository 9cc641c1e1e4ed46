/* Compares core/math/ with the libm this program is linked against (on
 * the reference machine: Debian 12's glibc 2.36), bit for bit.
 *
 *   verify_math float NAME [THREADS]     every one of the 2^32 inputs
 *   verify_math double NAME COUNT [SEED] [THREADS]
 *                                        COUNT random inputs from several
 *                                        distributions, plus special values
 * NAME: logf expf erff sinf cosf sincosf logf_avx2 sincosf_avx2 expf_avx2
 *       erff_avx2 / log exp erf sin cos sincos pow
 * (pow: y is 2.0 for half the inputs, as calculate_gain squares its slope,
 * otherwise random).
 * Prints the number of inputs and of mismatches; exit status 1 on any
 * mismatch.  Two NaNs match only with the same bit pattern.
 * See tests/math/README.md. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "math/bits.h"
#include "math/wimath.h"

typedef struct {
    const char *name;
    float (*ours)(float);
    float (*ref)(float);
    int sincos; /* 0: f(x); 1: sincosf; 3, 5, 6: logf/expf/erff_avx2 arrays; 4: sincosf_avx2 */
} ffun_t;

static void ref_sincosf_pair(float x, float *s, float *c) { sincosf(x, s, c); }

static const ffun_t ffuns[] = {
    {"logf", wi_logf, logf, 0}, {"expf", wi_expf, expf, 0},
    {"erff", wi_erff, erff, 0}, {"sinf", wi_sinf, sinf, 0},
    {"cosf", wi_cosf, cosf, 0}, {"sincosf", NULL, NULL, 1},
    {"logf_avx2", wi_logf, logf, 3}, {"sincosf_avx2", NULL, NULL, 4},
    {"expf_avx2", wi_expf, expf, 5}, {"erff_avx2", wi_erff, erff, 6},
};

typedef struct {
    const char *name;
    double (*ours)(double);
    double (*ref)(double);
    int sincos;
} dfun_t;

static const dfun_t dfuns[] = {
    {"log", wi_log, log, 0}, {"exp", wi_exp, exp, 0},
    {"erf", wi_erf, erf, 0}, {"sin", wi_sin, sin, 0},
    {"cos", wi_cos, cos, 0}, {"sincos", NULL, NULL, 1},
    {"pow", NULL, NULL, 2},
};

/* Through a pointer: GCC turns a direct pow(x, 2.0) into x * x. */
static double (*volatile ref_pow)(double, double) = pow;

typedef struct {
    const ffun_t *ff;
    const dfun_t *df;
    uint64_t begin, end, seed;
    uint64_t mismatches, count;
    uint64_t first_bad;
    int have_bad;
} job_t;

static void note_bad(job_t *j, uint64_t input)
{
    if (!j->have_bad) {
        j->first_bad = input;
        j->have_bad = 1;
    }
    j->mismatches++;
}

/* The array version, 4096 consecutive bit patterns at a time. */
static void run_float_array(job_t *j)
{
    float in[4096], out[4096];
    for (uint64_t u = j->begin; u < j->end; u += 4096) {
        size_t n = j->end - u < 4096 ? (size_t)(j->end - u) : 4096;
        for (size_t i = 0; i < n; i++)
            in[i] = wi_asfloat((uint32_t)(u + i));
        if (j->ff->sincos == 3 || j->ff->sincos == 5 || j->ff->sincos == 6) {
            if (j->ff->sincos == 3)
                wi_logf_avx2(in, out, n);
            else if (j->ff->sincos == 5)
                wi_expf_avx2(in, out, n);
            else
                wi_erff_avx2(in, out, n);
            /* Against the libm and against core/math's scalar function. */
            for (size_t i = 0; i < n; i++) {
                if (wi_asuint(out[i]) != wi_asuint(j->ff->ref(in[i])) ||
                    wi_asuint(out[i]) != wi_asuint(j->ff->ours(in[i])))
                    note_bad(j, u + i);
                j->count++;
            }
            continue;
        }
        static _Thread_local float co[4096];
        wi_sincosf_avx2(in, out, co, n);
        for (size_t i = 0; i < n; i++) {
            float s, c;
            sincosf(in[i], &s, &c);
            if (wi_asuint(out[i]) != wi_asuint(s) || wi_asuint(co[i]) != wi_asuint(c))
                note_bad(j, u + i);
            j->count++;
        }
    }
}

static void *run_float(void *arg)
{
    job_t *j = arg;
    if (j->ff->sincos >= 3) {
        run_float_array(j);
        return NULL;
    }
    for (uint64_t u = j->begin; u < j->end; u++) {
        float x = wi_asfloat((uint32_t)u);
        int bad;
        if (j->ff->sincos) {
            float s1, c1, s2, c2;
            wi_sincosf(x, &s1, &c1);
            ref_sincosf_pair(x, &s2, &c2);
            bad = wi_asuint(s1) != wi_asuint(s2) ||
                  wi_asuint(c1) != wi_asuint(c2);
        } else {
            bad = wi_asuint(j->ff->ours(x)) != wi_asuint(j->ff->ref(x));
        }
        if (bad)
            note_bad(j, u);
        j->count++;
    }
    return NULL;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Inputs in the proportions the kernels and the rest of the range need:
 * uniform bit patterns, and each function's kernel arguments. */
static double draw(const dfun_t *f, uint64_t *s)
{
    uint64_t r = splitmix(s);
    double u53 = (double)(r >> 11) * 0x1p-53; /* [0, 1) on 2^-53 */
    switch (r & 3) {
    case 0:
        return wi_asdouble(splitmix(s)); /* any bit pattern */
    case 1:
        if (!strcmp(f->name, "log"))
            return 1.0 - u53; /* log(1 - u2), normal_ */
        if (!strcmp(f->name, "exp"))
            return -0.5625 - 40.0 * u53; /* erf's exp(-z*z - 0.5625) */
        if (!strcmp(f->name, "pow"))
            return u53 * 2.0; /* slopes */
        if (!strcmp(f->name, "erf"))
            return (u53 - 0.5) * 12.0; /* trunc_normal_ bounds / sqrt2 */
        return 6.283185307179586 * u53; /* theta = 2 pi u1 */
    case 2: {
        /* wide exponents with a random sign: [2^-60, 2^60) */
        int e = (int)(splitmix(s) % 120) - 60;
        return ldexp(1.0 + u53, e) * ((r >> 2) & 1 ? -1.0 : 1.0);
    }
    default:
        return (u53 - 0.5) * 16.0;
    }
}

static double pow_y(double x)
{
    uint64_t b = wi_asuint64(x);
    switch ((b >> 7) & 3) {
    case 0:
    case 1:
        return 2.0;
    case 2:
        return (double)(int)((b >> 9) % 41) - 20.0; /* small integers */
    default:
        return ((double)(b >> 12 & 0xfffff) - 0x80000) * 0x1p-15;
    }
}

static int dcheck(const dfun_t *f, double x)
{
    if (f->sincos == 2) {
        double y = pow_y(x);
        return wi_asuint64(wi_pow(x, y)) != wi_asuint64(ref_pow(x, y));
    }
    if (f->sincos) {
        double s1, c1, s2, c2;
        wi_sincos(x, &s1, &c1);
        sincos(x, &s2, &c2);
        return wi_asuint64(s1) != wi_asuint64(s2) ||
               wi_asuint64(c1) != wi_asuint64(c2);
    }
    return wi_asuint64(f->ours(x)) != wi_asuint64(f->ref(x));
}

static void *run_double(void *arg)
{
    job_t *j = arg;
    uint64_t s = j->seed;
    for (uint64_t i = j->begin; i < j->end; i++) {
        double x = draw(j->df, &s);
        if (dcheck(j->df, x))
            note_bad(j, wi_asuint64(x));
        j->count++;
    }
    return NULL;
}

/* Zeros, infinities, NaNs, subnormals, and the branch boundaries of the
 * reference code (and their neighbours). */
static void double_specials(const dfun_t *f, job_t *j)
{
    static const uint64_t base[] = {
        0x0000000000000000, 0x0000000000000001, 0x000fffffffffffff,
        0x0010000000000000, 0x3c70000000000000, 0x3e300000, 0x3e40000000000000,
        0x3e50000000000000, 0x3feb000000000000, 0x3feb600000000000,
        0x3fe6000000000000, 0x3fee000000000000, 0x3ff0000000000000,
        0x3ff0900000000000, 0x3ff4000000000000, 0x4006db6e00000000,
        0x400368fd00000000, 0x4018000000000000, 0x419921fb00000000,
        0x4090000000000000, 0x4080000000000000, 0x7fefffffffffffff,
        0x7ff0000000000000, 0x7ff0000000000001, 0x7ff8000000000000,
        0x7fffffffffffffff, 0x3c90000000000000, 0x3c9fffffffffffff,
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        for (int64_t d = -64; d <= 64; d++)
            for (int sign = 0; sign < 2; sign++) {
                uint64_t b = (base[i] + (uint64_t)d) |
                             ((uint64_t)sign << 63);
                if (dcheck(f, wi_asdouble(b)))
                    note_bad(j, b);
                j->count++;
            }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: verify_math float NAME [THREADS]\n"
                        "       verify_math double NAME COUNT [SEED] [THREADS]\n");
        return 2;
    }
    int is_float = !strcmp(argv[1], "float");
    const ffun_t *ff = NULL;
    const dfun_t *df = NULL;
    for (size_t i = 0; i < sizeof ffuns / sizeof ffuns[0]; i++)
        if (is_float && !strcmp(argv[2], ffuns[i].name))
            ff = &ffuns[i];
    for (size_t i = 0; i < sizeof dfuns / sizeof dfuns[0]; i++)
        if (!is_float && !strcmp(argv[2], dfuns[i].name))
            df = &dfuns[i];
    if (!ff && !df) {
        fprintf(stderr, "verify_math: unknown %s function '%s'\n", argv[1],
                argv[2]);
        return 2;
    }
    uint64_t count = 0, seed = 1;
    int threads = 2;
    if (is_float) {
        if (argc > 3)
            threads = atoi(argv[3]);
    } else {
        if (argc < 4) {
            fprintf(stderr, "verify_math: double needs COUNT\n");
            return 2;
        }
        count = strtoull(argv[3], NULL, 10);
        if (argc > 4)
            seed = strtoull(argv[4], NULL, 10);
        if (argc > 5)
            threads = atoi(argv[5]);
    }
    if (threads < 1 || threads > 64)
        threads = 2;
    job_t jobs[64];
    pthread_t tid[64];
    uint64_t total = is_float ? (UINT64_C(1) << 32) : count;
    for (int t = 0; t < threads; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].ff = ff;
        jobs[t].df = df;
        jobs[t].begin = total / (uint64_t)threads * (uint64_t)t;
        jobs[t].end = t == threads - 1 ? total
                                       : total / (uint64_t)threads * (uint64_t)(t + 1);
        jobs[t].seed = seed * 1000003u + (uint64_t)t;
        pthread_create(&tid[t], NULL, is_float ? run_float : run_double,
                       &jobs[t]);
    }
    uint64_t bad = 0, n = 0;
    int have_bad = 0;
    uint64_t first = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        bad += jobs[t].mismatches;
        n += jobs[t].count;
        if (jobs[t].have_bad && !have_bad) {
            have_bad = 1;
            first = jobs[t].first_bad;
        }
    }
    if (!is_float) {
        job_t sj;
        memset(&sj, 0, sizeof sj);
        double_specials(df, &sj);
        bad += sj.mismatches;
        n += sj.count;
        if (sj.have_bad && !have_bad) {
            have_bad = 1;
            first = sj.first_bad;
        }
    }
    printf("%s %s: %" PRIu64 " inputs, %" PRIu64 " mismatches", argv[1],
           argv[2], n, bad);
    if (have_bad)
        printf(" (first at bits 0x%" PRIx64 ")", first);
    printf("\n");
    return bad ? 1 : 0;
}
