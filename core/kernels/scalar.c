/* The scalar reference kernels: plain C, the definition every vector
 * variant must reproduce bit for bit. */
#include <math.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/erfinv.h"
#include "kernels/normal_default.h"
#include "kernels/mathfun.h"
#include "kernels/mt_word.h"

/* In place and in increasing k: from k = 227 on, st[k + 397 - 624] is
 * already new, and so is st[0] for k = 623 (std::mt19937's order). */
static void twist(uint32_t *st)
{
    int k = 0;
    for (; k < 227; k++)
        st[k] = wi_mt_word(st[k], st[k + 1], st[k + 397]);
    for (; k < 623; k++)
        st[k] = wi_mt_word(st[k], st[k + 1], st[k - 227]);
    st[623] = wi_mt_word(st[623], st[0], st[396]);
}

static void temper(uint32_t *out, const uint32_t *st, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = wi_mt_temper(st[i]);
}

static inline float u24(uint32_t d)
{
    return (float)(d & 0xffffffu) * 0x1p-24f;
}

static void u24_fill(float *out, const uint32_t *st, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = u24(wi_mt_temper(st[i]));
}

/* The "fma" clone runs fmaf() as an instruction (same exact rounding). */
WI_FMA_CLONES static void
uniform_fused(float *out, const uint32_t *st, size_t n, float from,
              float range)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fmaf(u24(wi_mt_temper(st[i])), range, from);
}

static void uniform(float *out, const uint32_t *st, size_t n, float from,
                    float range, int fused)
{
    if (fused) {
        uniform_fused(out, st, n, from, range);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = u24(wi_mt_temper(st[i])) * range + from;
}

static void normal_avx2(float *data, size_t nblocks, float mean, float std)
{
    wi_normal_blocks_avx2(data, (int64_t)nblocks, mean, std);
}

/* 624 words = 39 passes of 8 64-bit accumulators held in registers. */
static void xor_windows(uint32_t *acc, const uint32_t *buf,
                        const uint16_t *terms, int nterms)
{
    for (int pass = 0; pass < 39; pass++) {
        uint64_t r[8] = {0};
        const uint32_t *base = buf + 16 * pass;
        for (int t = 0; t < nterms; t++) {
            const uint32_t *w = base + terms[t];
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                uint64_t v;
                memcpy(&v, w + 2 * i, sizeof v);
                r[i] ^= v;
            }
        }
        memcpy(acc + 16 * pass, r, sizeof r);
    }
}

WI_FMA_CLONES
static void trunc_fill(float *a, size_t n, float scale, float shift, float lo,
                  float hi, int fused)
{
    wi_trunc_tail_inline(a, n, scale, shift, lo, hi, fused);
}

static void normal_default(float *data, size_t nblocks, float mean,
                           float std, int fma_end)
{
    wi_normal_default_blocks(data, nblocks, mean, std, fma_end);
}

const wi_kernels_t wi_kernels_scalar = {
    .isa = "scalar",
    .twist = twist,
    .temper = temper,
    .u24 = u24_fill,
    .uniform = uniform,
    .normal_avx2 = normal_avx2,
    .normal_default = normal_default,
    .trunc = trunc_fill,
    .xor_windows = xor_windows,
};
