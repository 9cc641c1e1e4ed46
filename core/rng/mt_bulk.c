/* Many draws at once: the block regeneration and the tempering run as
 * vector kernels, with the same left/next bookkeeping as wi_mt_next32. */
#include "kernels/dispatch.h"
#include "rng/rng_internal.h"

void wi_mt_bulk(wi_generator_t *g, const wi_kernels_t *k, size_t n,
                wi_mt_seg_fn fn, void *ctx)
{
    size_t done = 0;
    while (done < n) {
        if (g->left == 1) {
            k->twist(g->state);
            g->left = WI_MT_N + 1; /* 624 draws available */
            g->next = 0;
        }
        size_t take = (size_t)(g->left - 1);
        if (take > n - done)
            take = n - done;
        fn(g->state + g->next, done, take, ctx);
        g->next += (int)take;
        g->left -= (int)take;
        done += take;
    }
}

static void temper_seg(const uint32_t *words, size_t off, size_t cnt,
                       void *ctx)
{
    const wi_kernels_t *k = ((void **)ctx)[0];
    uint32_t *out = ((void **)ctx)[1];
    k->temper(out + off, words, cnt);
}

int wi_generator_fill_random32(wi_generator_t *g, uint32_t *out, size_t n,
                               wi_error_t *err)
{
    const wi_kernels_t *k;
    int rc = wi_kernels(&k, err);
    if (rc < 0)
        return rc;
    void *ctx[2] = {(void *)k, out};
    wi_mt_bulk(g, k, n, temper_seg, ctx);
    return 0;
}

int wi_generator_skip(wi_generator_t *g, uint64_t n, wi_error_t *err)
{
    int rc = wi_mt_jump(g, n);
    if (rc < 0)
        return wi_error_set(err, rc, NULL, NULL,
                            "skipping %llu draws: out of memory",
                            (unsigned long long)n);
    return 0;
}

void wi_generator_set_threads(wi_generator_t *g, int threads)
{
    g->threads = threads < 0 ? -1 : threads;
}
