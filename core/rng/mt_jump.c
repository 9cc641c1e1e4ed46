/* MT19937 jump-ahead by the polynomial method (Haramoto, Matsumoto,
 * Nishimura, Panneton, L'Ecuyer 2008): the state after m steps is
 * (x^m mod p)(A) applied to the state, p the characteristic polynomial of
 * the twister's transition A.  Applying a polynomial sum c_i x^i is an XOR
 * of the 624-word windows of the word stream at offsets i with c_i = 1.
 *
 * x^(2^k) mod p comes from tables made at build time (mt_tables.h, by
 * rng/mt_tables_gen.c: Berlekamp-Massey on the twister's output gives p,
 * squarings the powers), further powers by squaring at run time.  A jump
 * by m applies one per set bit of m >> 11 and steps the last < 2048
 * words. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/mt_word.h"
#include "mt_tables.h" /* generated: wi_mt_char_poly, wi_mt_pow2 */
#include "rng/gf2_poly.h"
#include "rng/rng_internal.h"

#define SEQ (WI_GF2_DEG + WI_MT_N - 1) /* stream words one application reads */
#define STEP_BITS 11                   /* jumps below 2^11 words are stepped */
#define MAX_POW 64

/* x^(2^k) mod p as the exponents of its nonzero terms, so an application
 * visits only those. */
typedef struct {
    uint16_t *terms;
    int nterms;
} jump_t;

static pthread_mutex_t pow_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *pow_extra[MAX_POW]; /* powers past the tables */
static jump_t pow_jump[MAX_POW];

/* Appends stream words: w[i] for i in [WI_MT_N, len) from w[0..623]. */
static void stream_extend(uint32_t *w, size_t len)
{
    for (size_t i = WI_MT_N; i < len; i++)
        w[i] = wi_mt_word(w[i - WI_MT_N], w[i - WI_MT_N + 1], w[i - 227]);
}

static int make_jump(jump_t *j, const uint64_t *q)
{
    j->terms = malloc(WI_GF2_DEG * sizeof *j->terms);
    if (!j->terms)
        return -1;
    j->nterms = 0;
    for (int i = 0; i < WI_GF2_DEG; i++)
        if (wi_gf2_bit(q, (size_t)i))
            j->terms[j->nterms++] = (uint16_t)i;
    return 0;
}

static const uint64_t *pow2_poly(int k)
{
    return k <= WI_MT_POW2_LAST ? wi_mt_pow2[k - WI_MT_POW2_FIRST]
                                : pow_extra[k];
}

/* x^(2^k) mod p (STEP_BITS <= k < 64) as terms, made on first use.  NULL
 * when out of memory. */
static const jump_t *pow2_jump(int k)
{
    const jump_t *res = NULL;
    pthread_mutex_lock(&pow_lock);
    for (int i = WI_MT_POW2_LAST + 1; i <= k; i++) {
        if (pow_extra[i])
            continue;
        uint64_t *q = malloc(WI_GF2_NW * sizeof *q);
        if (!q)
            goto out;
        wi_gf2_sqr_mod(q, pow2_poly(i - 1), wi_mt_char_poly);
        pow_extra[i] = q;
    }
    if (!pow_jump[k].terms && make_jump(&pow_jump[k], pow2_poly(k)) < 0)
        goto out;
    res = &pow_jump[k];
out:
    pthread_mutex_unlock(&pow_lock);
    return res;
}

/* st (a full window of the stream, st[0] the oldest word) advances by
 * `count` words, one word at a time; `count` < 2^STEP_BITS + WI_MT_N. */
static void step_words(uint32_t *st, uint32_t *buf, size_t count)
{
    memcpy(buf, st, WI_MT_N * sizeof *buf);
    stream_extend(buf, WI_MT_N + count);
    memcpy(st, buf + count, WI_MT_N * sizeof *st);
}

/* The window st advances by m words.  buf holds SEQ words. */
static int advance_window(uint32_t *st, uint32_t *buf, uint64_t m)
{
    uint32_t acc[WI_MT_N];
    /* Any instruction set gives the same XOR; fall back when the forced
     * one is unusable (the primitives report that error themselves). */
    const wi_kernels_t *kern;
    if (wi_kernels(&kern, NULL) < 0)
        kern = &wi_kernels_scalar;
    for (int k = STEP_BITS; k < MAX_POW; k++) {
        if (!((m >> k) & 1u))
            continue;
        const jump_t *j = pow2_jump(k);
        if (!j)
            return -1;
        memcpy(buf, st, WI_MT_N * sizeof *buf);
        stream_extend(buf, SEQ);
        kern->xor_windows(acc, buf, j->terms, j->nterms);
        memcpy(st, acc, sizeof acc);
    }
    uint64_t rest = m & (((uint64_t)1 << STEP_BITS) - 1);
    if (rest)
        step_words(st, buf, (size_t)rest);
    return 0;
}

int wi_mt_jump(wi_generator_t *g_out, uint64_t n)
{
    if (n == 0)
        return 0;
    if (n > UINT64_MAX / 2) {
        /* Two halves keep q below from overflowing. */
        wi_generator_t half = *g_out;
        int rc = wi_mt_jump(&half, n / 2);
        if (rc == 0)
            rc = wi_mt_jump(&half, n - n / 2);
        if (rc == 0)
            *g_out = half;
        return rc;
    }
    /* Work on a copy so that a failure leaves the generator as it was. */
    wi_generator_t tmp = *g_out, *g = &tmp;
    /* The next draw tempers stream word B + j0, B the word held in
     * st[0] (left == 1 means the block is used up). */
    uint64_t q = (uint64_t)(625 - g->left) + n;
    if (q <= WI_MT_N) {
        g_out->next = (int)q;
        g_out->left = 625 - (int)q;
        return 0;
    }
    /* One ordinary twist first: st[0] of a freshly seeded state is not a
     * word of the stream, and the XOR of windows needs every word to be. */
    wi_mt_twist(g);
    q -= WI_MT_N;
    uint64_t blocks = (q - 1) / WI_MT_N;
    uint64_t j = q - blocks * WI_MT_N;
    if (blocks) {
        uint32_t *buf = malloc((SEQ + 64) * sizeof *buf);
        if (!buf)
            return WI_ENOMEM;
        int rc = advance_window(g->state, buf, blocks * WI_MT_N);
        free(buf);
        if (rc < 0)
            return WI_ENOMEM;
    }
    g->next = (int)j;
    g->left = 625 - (int)j;
    *g_out = tmp;
    return 0;
}
