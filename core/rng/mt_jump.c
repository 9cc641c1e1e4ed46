/* MT19937 jump-ahead by the polynomial method (Haramoto, Matsumoto,
 * Nishimura, Panneton, L'Ecuyer 2008): the state after m steps is
 * (x^m mod p)(A) applied to the state, p the characteristic polynomial of
 * the twister's transition A.  Applying a polynomial sum c_i x^i is an XOR
 * of the 624-word windows of the word stream at offsets i with c_i = 1.
 *
 * p is found once per process by Berlekamp-Massey on 2*19937 output bits;
 * x^(2^k) mod p are kept as they are first needed.  A jump by m applies
 * one of those per set bit of m >> 11 and steps the last < 2048 words. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "rng/rng_internal.h"

#define DEG 19937                /* degree of p */
#define NW ((DEG + 64) / 64)     /* 64-bit words of a polynomial (312) */
#define SEQ (DEG + WI_MT_N - 1)  /* stream words one application reads */
#define STEP_BITS 11             /* jumps below 2^11 words are stepped */
#define MAX_POW 64

typedef struct {
    uint64_t w[NW];
} poly_t;

/* A cached x^(2^k) mod p, with the exponents of its nonzero terms so an
 * application visits only those. */
typedef struct {
    uint16_t *terms;
    int nterms;
} jump_t;

static poly_t char_poly;
static int char_poly_ok;
static pthread_once_t char_poly_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pow_lock = PTHREAD_MUTEX_INITIALIZER;
static poly_t *pow_poly[MAX_POW]; /* x^(2^k) mod p */
static jump_t pow_jump[MAX_POW];

static inline uint32_t mt_word(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t mix = (a & 0x80000000u) | (b & 0x7fffffffu);
    return c ^ (mix >> 1) ^ ((b & 1u) ? 0x9908b0dfu : 0u);
}

/* Appends stream words: w[i] for i in [WI_MT_N, len) from w[0..623]. */
static void stream_extend(uint32_t *w, size_t len)
{
    for (size_t i = WI_MT_N; i < len; i++)
        w[i] = mt_word(w[i - WI_MT_N], w[i - WI_MT_N + 1], w[i - 227]);
}

static inline int bit_get(const uint64_t *v, size_t i)
{
    return (int)((v[i >> 6] >> (i & 63)) & 1u);
}

/* 64 bits of v starting at bit i (bits past the end read as whatever v
 * holds there; callers keep one spare word). */
static inline uint64_t bits64(const uint64_t *v, size_t i)
{
    size_t q = i >> 6, r = i & 63;
    return r ? (v[q] >> r) | (v[q + 1] << (64 - r)) : v[q];
}

/* dst ^= src << shift (bits), for the low `nw` words of src. */
static void xor_shifted(uint64_t *dst, const uint64_t *src, size_t nw,
                        size_t shift)
{
    size_t q = shift >> 6, r = shift & 63;
    if (r == 0) {
        for (size_t i = 0; i < nw; i++)
            dst[i + q] ^= src[i];
        return;
    }
    dst[q] ^= src[0] << r;
    for (size_t i = 1; i < nw; i++)
        dst[i + q] ^= (src[i] << r) | (src[i - 1] >> (64 - r));
    dst[nw + q] ^= src[nw - 1] >> (64 - r);
}

/* Berlekamp-Massey over GF(2) on the low bits of the stream: the minimal
 * polynomial of any nonzero output sequence of MT19937 is p itself, since
 * p is primitive.  Runs once, about 20 ms. */
static void find_char_poly(void)
{
    const size_t n = 2 * DEG;
    /* c and b get room for any shift BM makes; their degrees stay <= L. */
    const size_t sw = (n + 63) / 64 + 2, cw = sw + NW;
    uint32_t *w = malloc((WI_MT_N + n) * sizeof *w);
    uint64_t *rev = calloc(sw, sizeof *rev); /* rev bit k = s[n-1-k] */
    uint64_t *c = calloc(cw, sizeof *c), *b = calloc(cw, sizeof *b),
             *t = calloc(cw, sizeof *t);
    if (!w || !rev || !c || !b || !t)
        goto out;
    w[0] = 5489u;
    for (uint32_t j = 1; j < WI_MT_N; j++)
        w[j] = 1812433253u * (w[j - 1] ^ (w[j - 1] >> 30)) + j;
    stream_extend(w, WI_MT_N + n);
    for (size_t k = 0; k < n; k++)
        if (w[WI_MT_N + k] & 1u)
            rev[(n - 1 - k) >> 6] |= UINT64_C(1) << ((n - 1 - k) & 63);

    c[0] = b[0] = 1;
    size_t len = 0, m = 1;
    for (size_t i = 0; i < n; i++) {
        /* d = sum_{j<=len} c_j s_{i-j}; s_{i-j} is rev bit n-1-i+j. */
        uint64_t acc = 0;
        size_t base = n - 1 - i;
        for (size_t j = 0; j <= len; j += 64)
            acc ^= c[j >> 6] & bits64(rev, base + j);
        /* Bits of c past len are zero, so the last word needs no mask. */
        if (!(__builtin_popcountll(acc) & 1)) {
            m++;
            continue;
        }
        if (2 * len <= i) {
            memcpy(t, c, cw * sizeof *c);
            xor_shifted(c, b, NW, m);
            memcpy(b, t, cw * sizeof *c);
            len = i + 1 - len;
            m = 1;
        } else {
            xor_shifted(c, b, NW, m);
            m++;
        }
    }
    if (len != DEG)
        goto out;
    /* p(x) = x^L C(1/x): coefficient of x^(L-j) is c_j. */
    memset(&char_poly, 0, sizeof char_poly);
    for (size_t j = 0; j <= DEG; j++)
        if (bit_get(c, j))
            char_poly.w[(DEG - j) >> 6] |= UINT64_C(1) << ((DEG - j) & 63);
    char_poly_ok = 1;
out:
    free(w);
    free(rev);
    free(c);
    free(b);
    free(t);
}

/* Reduces the 2*NW-word v modulo p in place (bit by bit, from the top). */
static void reduce(uint64_t *v)
{
    for (size_t i = 2 * (size_t)NW * 64 - 1; i >= DEG; i--)
        if (bit_get(v, i))
            xor_shifted(v, char_poly.w, NW, i - DEG);
}

/* out = a^2 mod p.  Squaring in GF(2)[x] spreads the bits apart. */
static void sqr_mod(poly_t *out, const poly_t *a)
{
    uint64_t v[2 * NW + 1];
    memset(v, 0, sizeof v);
    for (size_t i = 0; i < NW; i++) {
        for (int half = 0; half < 2; half++) {
            uint64_t x = (a->w[i] >> (32 * half)) & 0xffffffffu;
            x = (x | (x << 16)) & UINT64_C(0x0000ffff0000ffff);
            x = (x | (x << 8)) & UINT64_C(0x00ff00ff00ff00ff);
            x = (x | (x << 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
            x = (x | (x << 2)) & UINT64_C(0x3333333333333333);
            x = (x | (x << 1)) & UINT64_C(0x5555555555555555);
            v[2 * i + (size_t)half] = x;
        }
    }
    reduce(v);
    memcpy(out->w, v, sizeof out->w);
}

static int make_jump(jump_t *j, const poly_t *q)
{
    j->terms = malloc(DEG * sizeof *j->terms);
    if (!j->terms)
        return -1;
    j->nterms = 0;
    for (int i = 0; i < DEG; i++)
        if (bit_get(q->w, (size_t)i))
            j->terms[j->nterms++] = (uint16_t)i;
    return 0;
}

/* The cached x^(2^k) mod p (k >= STEP_BITS), computing what is missing.
 * NULL when out of memory. */
static const jump_t *pow2_jump(int k)
{
    const jump_t *res = NULL;
    pthread_mutex_lock(&pow_lock);
    int have = k;
    while (have >= 0 && !pow_poly[have])
        have--;
    for (int i = have + 1; i <= k; i++) {
        poly_t *q = malloc(sizeof *q);
        if (!q)
            goto out;
        if (i <= 15) {
            /* x^(2^i) itself (2^14 < 19937), reduced once for i = 15. */
            uint64_t v[2 * NW + 1];
            memset(v, 0, sizeof v);
            v[((size_t)1 << i) >> 6] = UINT64_C(1) << (((size_t)1 << i) & 63);
            reduce(v);
            memcpy(q->w, v, sizeof q->w);
        } else {
            sqr_mod(q, pow_poly[i - 1]);
        }
        if (make_jump(&pow_jump[i], q) < 0) {
            free(q);
            goto out;
        }
        pow_poly[i] = q;
    }
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
        pthread_once(&char_poly_once, find_char_poly);
        if (!char_poly_ok)
            return WI_ENOMEM;
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
