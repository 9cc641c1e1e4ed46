/* Polynomials over GF(2) of degree < 19937, 64 coefficients per word
 * (bit i = coefficient of x^i), and the arithmetic modulo MT19937's
 * characteristic polynomial that its jump-ahead needs.  Shared by the
 * library (rng/mt_jump.c) and the build-time table generator
 * (rng/mt_tables_gen.c).  Not part of the ABI. */
#ifndef WI_RNG_GF2_POLY_H
#define WI_RNG_GF2_POLY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WI_GF2_DEG 19937                 /* degree of p */
#define WI_GF2_NW ((WI_GF2_DEG + 64) / 64) /* words of a polynomial (312) */

static inline int wi_gf2_bit(const uint64_t *v, size_t i)
{
    return (int)((v[i >> 6] >> (i & 63)) & 1u);
}

/* dst ^= src << shift (bits), for the low `nw` words of src. */
static inline void wi_gf2_xor_shifted(uint64_t *dst, const uint64_t *src, size_t nw,
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


/* Reduces the 2*WI_GF2_NW-word v modulo p (degree WI_GF2_DEG) in place,
 * bit by bit from the top. */
static inline void wi_gf2_reduce(uint64_t *v, const uint64_t *p)
{
    for (size_t i = 2 * (size_t)WI_GF2_NW * 64 - 1; i >= WI_GF2_DEG; i--)
        if (wi_gf2_bit(v, i))
            wi_gf2_xor_shifted(v, p, WI_GF2_NW, i - WI_GF2_DEG);
}

/* out = a^2 mod p.  Squaring in GF(2)[x] spreads the bits apart. */
static inline void wi_gf2_sqr_mod(uint64_t *out, const uint64_t *a,
                                  const uint64_t *p)
{
    uint64_t v[2 * WI_GF2_NW + 1];
    memset(v, 0, sizeof v);
    for (size_t i = 0; i < WI_GF2_NW; i++) {
        for (int half = 0; half < 2; half++) {
            uint64_t x = (a[i] >> (32 * half)) & 0xffffffffu;
            x = (x | (x << 16)) & UINT64_C(0x0000ffff0000ffff);
            x = (x | (x << 8)) & UINT64_C(0x00ff00ff00ff00ff);
            x = (x | (x << 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
            x = (x | (x << 2)) & UINT64_C(0x3333333333333333);
            x = (x | (x << 1)) & UINT64_C(0x5555555555555555);
            v[2 * i + (size_t)half] = x;
        }
    }
    wi_gf2_reduce(v, p);
    memcpy(out, v, WI_GF2_NW * sizeof *out);
}

#endif
