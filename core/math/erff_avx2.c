/* wi_erff on arrays, 8 lanes at a time with AVX2 (+ FMA for expf's part):
 * erff.c's float operations in erff.c's order, nothing fused (glibc's
 * s_erff.c is a baseline build), each of its ranges of |x| computed for
 * the whole block when some lane is in it and blended by lane, so every
 * lane is bit identical to wi_erff.  Blocks holding inf or NaN and the
 * tail go through wi_erff. */
#include <stddef.h>

#include "math/bits.h"
#include "math/wimath.h"

#if defined(__x86_64__) || defined(__i386__)
#include "math/expf_avx2.h"

#define F(hex) _mm256_castsi256_ps(_mm256_set1_epi32((int)UINT32_C(hex)))
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define LT(ix, c) _mm256_cmpgt_epi32(_mm256_set1_epi32(c), ix)
#define ANY(m) (!_mm256_testz_si256(m, m))
/* Lanes of m take b, the others keep a. */
#define PICK(a, b, m) _mm256_blendv_ps(a, b, _mm256_castsi256_ps(m))

/* |x| < 0.84375: x + x * (r / s); below 2^-28 x + efx * x, and below
 * 2^-119 erff.c's scaled form (keeps the product out of the
 * subnormals). */
__attribute__((target("avx2,fma"))) static __m256
erff8_small(__m256 x, __m256i ix)
{
    const __m256 one = _mm256_set1_ps(1.0f), efx = F(0x3e0375d4);
    __m256 z = MUL(x, x);
    __m256 r = ADD(F(0x3e0375d4), MUL(z, ADD(F(0xbea66beb), MUL(z, ADD(F(0xbce9528f),
               MUL(z, ADD(F(0xbbbd1489), MUL(z, F(0xb7c756b1)))))))));
    __m256 s = ADD(one, MUL(z, ADD(F(0x3ecbbbce), MUL(z, ADD(F(0x3d852a63), MUL(z,
               ADD(F(0x3ba68116), MUL(z, ADD(F(0x390aee49), MUL(z, F(0xb684e21a)))))))))));
    __m256 y = DIV(r, s);
    __m256 res = ADD(x, MUL(x, y));
    __m256i tiny = LT(ix, 0x31800000);
    if (ANY(tiny)) {
        res = PICK(res, ADD(x, MUL(efx, x)), tiny);
        __m256i sub = LT(ix, 0x04000000);
        if (ANY(sub)) {
            const float efx16 = 16.0f * wi_asfloat(0x3e0375d4);
            __m256 t = ADD(MUL(_mm256_set1_ps(16.0f), x),
                           MUL(_mm256_set1_ps(efx16), x));
            res = PICK(res, MUL(_mm256_set1_ps(0.0625f), t), sub);
        }
    }
    return res;
}

/* 0.84375 <= |x| < 1.25: +-(erx + P / Q), each sign as erff.c writes it. */
__attribute__((target("avx2,fma"))) static __m256
erff8_mid(__m256 ax, __m256 neg)
{
    const __m256 one = _mm256_set1_ps(1.0f), erx = F(0x3f58560b);
    __m256 s = SUB(ax, one);
    __m256 P = ADD(F(0xbb1acdc6), MUL(s, ADD(F(0x3ed46805), MUL(s, ADD(F(0xbebe9208),
               MUL(s, ADD(F(0x3ea2fe54), MUL(s, ADD(F(0xbde31cc2), MUL(s, ADD(F(0x3d1151b3),
               MUL(s, F(0xbb0df9c0)))))))))))));
    __m256 Q = ADD(one, MUL(s, ADD(F(0x3dd9f331), MUL(s, ADD(F(0x3f0a5785), MUL(s,
               ADD(F(0x3d931ae7), MUL(s, ADD(F(0x3e013307), MUL(s, ADD(F(0x3c5f6e13),
               MUL(s, F(0x3c445aa3)))))))))))));
    __m256 q = DIV(P, Q);
    __m256 pos = ADD(erx, q);
    __m256 ngv = SUB(SUB(_mm256_setzero_ps(), erx), q);
    return _mm256_blendv_ps(pos, ngv, neg);
}

/* 1.25 <= |x| < 6: +-(1 - exp(-z^2 - 0.5625) * exp((z-x)(z+x) + R/S) / x)
 * with R/S from erff.c's two tables split at 1/0.35. */
__attribute__((target("avx2,fma"))) static __m256
erff8_big(__m256 ax, __m256i ix, __m256 neg, __m256i in_big)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 s = DIV(one, MUL(ax, ax));
    __m256i lowr = _mm256_and_si256(in_big, LT(ix, 0x4036DB6E));
    __m256i highr = _mm256_andnot_si256(lowr, in_big);
    __m256 R = _mm256_setzero_ps(), S = one;
    if (ANY(lowr)) {
        R = ADD(F(0xbc21a093), MUL(s, ADD(F(0xbf31a0b7), MUL(s, ADD(F(0xc128f022),
            MUL(s, ADD(F(0xc2798057), MUL(s, ADD(F(0xc322658c), MUL(s, ADD(F(0xc3389ae7),
            MUL(s, ADD(F(0xc2a2932b), MUL(s, F(0xc11d077e)))))))))))))));
        S = ADD(one, MUL(s, ADD(F(0x419d35ce), MUL(s, ADD(F(0x4309a863), MUL(s,
            ADD(F(0x43d9486f), MUL(s, ADD(F(0x442158c9), MUL(s, ADD(F(0x43d6810b),
            MUL(s, ADD(F(0x42d9451f), MUL(s, ADD(F(0x40d23f7c),
            MUL(s, F(0xbd777f97)))))))))))))))));
    }
    if (ANY(highr)) {
        __m256 Rb = ADD(F(0xbc21a092), MUL(s, ADD(F(0xbf4c9dd4), MUL(s, ADD(F(0xc18e104b),
            MUL(s, ADD(F(0xc320a2ea), MUL(s, ADD(F(0xc41f6441), MUL(s, ADD(F(0xc480230b),
            MUL(s, F(0xc3f1c275)))))))))))));
        __m256 Sb = ADD(one, MUL(s, ADD(F(0x41f2b459), MUL(s, ADD(F(0x43a2e571), MUL(s,
            ADD(F(0x44c01759), MUL(s, ADD(F(0x4547fdbb), MUL(s, ADD(F(0x451f90ce),
            MUL(s, ADD(F(0x43ed43a7), MUL(s, F(0xc1b38712)))))))))))))));
        R = PICK(R, Rb, highr);
        S = PICK(S, Sb, highr);
    }
    __m256 z = _mm256_and_ps(ax, F(0xfffff000));
    __m256 e1 = SUB(MUL(SUB(_mm256_setzero_ps(), z), z), _mm256_set1_ps(0.5625f));
    __m256 e2 = ADD(MUL(SUB(z, ax), ADD(z, ax)), DIV(R, S));
    __m256 r = MUL(wi_expf8_core(e1), wi_expf8_core(e2));
    __m256 q = DIV(r, ax);
    return _mm256_blendv_ps(SUB(one, q), SUB(q, one), neg);
}

__attribute__((target("avx2,fma"))) static __m256
erff8(__m256 x, __m256i ix)
{
    __m256 ax = _mm256_and_ps(x, F(0x7fffffff));
    __m256 neg = _mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_setzero_si256(), _mm256_castps_si256(x)));
    __m256i small = LT(ix, 0x3f580000);
    __m256i upto_mid = LT(ix, 0x3fa00000);
    __m256i upto_big = LT(ix, 0x40c00000);
    __m256i mid = _mm256_andnot_si256(small, upto_mid);
    __m256i big = _mm256_andnot_si256(upto_mid, upto_big);
    /* |x| >= 6: one - tiny or tiny - one, rounded as erff.c rounds them. */
    const float one = 1.0f, tiny = 1e-30f;
    __m256 res = _mm256_blendv_ps(_mm256_set1_ps(one - tiny),
                                  _mm256_set1_ps(tiny - one), neg);
    if (ANY(small))
        res = PICK(res, erff8_small(x, ix), small);
    if (ANY(mid))
        res = PICK(res, erff8_mid(ax, neg), mid);
    if (ANY(big))
        res = PICK(res, erff8_big(ax, ix, neg, big), big);
    return res;
}

__attribute__((target("avx2,fma"))) void
wi_erff_avx2(const float *in, float *out, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 x = _mm256_loadu_ps(in + j);
        __m256i ix = _mm256_and_si256(_mm256_castps_si256(x),
                                      _mm256_set1_epi32(0x7fffffff));
        __m256i bad = _mm256_cmpgt_epi32(ix, _mm256_set1_epi32(0x7f7fffff));
        if (ANY(bad)) {
            for (size_t l = 0; l < 8; l++)
                out[j + l] = wi_erff(in[j + l]);
            continue;
        }
        _mm256_storeu_ps(out + j, erff8(x, ix));
    }
    for (; j < n; j++)
        out[j] = wi_erff(in[j]);
}

#else
/* Not x86: no vector version (callers check the CPU first). */
typedef int wi_no_avx2_t;
#endif
