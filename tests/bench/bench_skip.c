/* The cost of positioning a generator far into its stream, which every
 * piece of a divided write pays once (docs/mpi.md): wi_generator_skip by
 * n draws, for n up to a 70B-parameter model's, best of 5 per n.
 * Usage: bench_skip */
#include <stdio.h>
#include <time.h>

#include <weightinit/weightinit.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    static const unsigned long long ns[] = {1ull << 24, 1ull << 30, 70000000000ull,
                                            1ull << 40};
    for (int p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
            double best = 1e9;
            for (int rep = 0; rep < 5; rep++) {
                wi_generator_t *g = wi_generator_new(42, (wi_rng_profile_t)p);
                double t0 = now();
                if (wi_generator_skip(g, ns[i] + (unsigned)rep, NULL) < 0)
                    return 1;
                double dt = now() - t0;
                best = dt < best ? dt : best;
                wi_generator_free(g);
            }
            printf("skip %-7s %14llu draws: %.3f ms\n",
                   wi_rng_profile_name((wi_rng_profile_t)p), ns[i], best * 1e3);
        }
    }
    return 0;
}
