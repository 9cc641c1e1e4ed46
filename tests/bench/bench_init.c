/* Throughput of the nn.init primitives on one large tensor, per profile,
 * without PyTorch (bench_vs_torch.sh compares with it).  Prints one line
 * per primitive: best of 3 in ns per element and elements per second.
 * Usage: bench_init [ELEMENTS [THREADS]] (default 2^24, all cores). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <weightinit/weightinit.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef int (*prim_fn)(wi_tensor_t *t, wi_generator_t *g);

static int uniform(wi_tensor_t *t, wi_generator_t *g) { return wi_uniform_(t, g, -0.1, 0.1, NULL); }
static int normal(wi_tensor_t *t, wi_generator_t *g) { return wi_normal_(t, g, 0, 0.02, NULL); }
static int trunc_normal(wi_tensor_t *t, wi_generator_t *g) { return wi_trunc_normal_(t, g, 0, 0.02, -2, 2, NULL); }
static int kaiming(wi_tensor_t *t, wi_generator_t *g) { return wi_kaiming_uniform_(t, g, 2.23606797749979, "fan_in", "leaky_relu", NULL); }

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : (int64_t)1 << 24;
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    int64_t shape[2] = {n / 1024, 1024};
    wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, 2, shape, NULL);
    if (!t || n < 1024) {
        fprintf(stderr, "bench_init: need at least 1024 elements and the memory for them\n");
        return 1;
    }
    static const struct { const char *name; prim_fn fn; } prims[] = {
        {"uniform_", uniform}, {"normal_", normal}, {"trunc_normal_", trunc_normal},
        {"kaiming_uniform_", kaiming}};
    /* Every profile, in wi_rng_profile_t order. */
    for (int p = 0; wi_rng_profile_name((wi_rng_profile_t)p); p++) {
        wi_generator_t *g = wi_generator_new(0, (wi_rng_profile_t)p);
        wi_generator_set_threads(g, threads);
        for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++) {
            prims[i].fn(t, g); /* warm up: page in the tensor */
            double best = 1e30;
            for (int rep = 0; rep < 3; rep++) {
                double t0 = now();
                prims[i].fn(t, g);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            printf("%-16s %-17s %12lld elements  %8.3f ns/element  %8.1f Melem/s\n",
                   wi_rng_profile_name((wi_rng_profile_t)p), prims[i].name,
                   (long long)wi_tensor_numel(t), best * 1e9 / (double)wi_tensor_numel(t),
                   (double)wi_tensor_numel(t) / best / 1e6);
        }
        wi_generator_free(g);
    }
    wi_tensor_free(t);
    return 0;
}
