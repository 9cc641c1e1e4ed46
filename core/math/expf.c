/* expf as glibc 2.36 computes it (flt-32/e_expf.c, "-mfma" build):
 * exp(x) = 2^(k/32) * 2^(r/32) with a 32-entry table of 2^(i/32) and a
 * cubic, in double. */
#include <math.h>

#include "math/bits.h"
#include "math/special.h"
#include "math/wimath.h"

/* bits(2^(i/32)) - (i << 47): the exponent is added back from k. */
static const uint64_t exp2f_tab[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define INVLN2N (0x1.71547652b82fep+0 * 32)
#define SHIFT 0x1.8p+52
static const double expf_poly[3] = {0x1.c6af84b912394p-5 / 32 / 32 / 32,
                                    0x1.ebfce50fac4f3p-3 / 32 / 32,
                                    0x1.62e42ff0c52d6p-1 / 32};

float wi_expf(float x)
{
    double xd = (double)x;
    uint32_t abstop = (wi_asuint(x) >> 20) & 0x7ff;
    if (abstop >= (wi_asuint(88.0f) >> 20)) {
        if (wi_asuint(x) == wi_asuint(-INFINITY))
            return 0.0f;
        if (abstop >= (wi_asuint(INFINITY) >> 20))
            return x + x;
        if (x > 0x1.62e42ep6f)
            return wi_xflowf(0, 0x1p97f);
        if (x < -0x1.9fe368p6f)
            return wi_xflowf(0, 0x1p-95f);
        if (x < -0x1.9d1d9ep6f)
            return wi_xflowf(0, 0x1.4p-75f);
    }
    /* z = x * N/ln2 feeds two additions; glibc's FMA build fused both. */
    double kd = fma(INVLN2N, xd, SHIFT);
    uint64_t ki = wi_asuint64(kd);
    kd -= SHIFT;
    double r = fma(INVLN2N, xd, -kd);
    uint64_t t = exp2f_tab[ki % 32];
    t += ki << (52 - 5);
    double s = wi_asdouble(t);
    double z = fma(expf_poly[0], r, expf_poly[1]);
    double r2 = r * r;
    double y = fma(expf_poly[2], r, 1.0);
    y = fma(z, r2, y);
    y = y * s;
    return (float)y;
}
