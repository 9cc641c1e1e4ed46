/* erff as glibc 2.36 computes it (flt-32/s_erff.c, Sun's algorithm: odd
 * rational approximations on |x| < 0.84375 and 0.84375 <= |x| < 1.25,
 * exp(-x^2 - 0.5625 + R/S) / x beyond).  glibc builds this file for
 * baseline x86-64, so nothing is fused: every operation rounds in float,
 * in the order written. */
#include <math.h>

#include "math/bits.h"
#include "math/wimath.h"

#define F(hex) wi_asfloat(UINT32_C(hex))

float wi_erff(float x)
{
    const float one = 1.0f, tiny = 1e-30f;
    const float erx = F(0x3f58560b), efx = F(0x3e0375d4);
    const float pp0 = F(0x3e0375d4), pp1 = F(0xbea66beb), pp2 = F(0xbce9528f),
                pp3 = F(0xbbbd1489), pp4 = F(0xb7c756b1);
    const float qq1 = F(0x3ecbbbce), qq2 = F(0x3d852a63), qq3 = F(0x3ba68116),
                qq4 = F(0x390aee49), qq5 = F(0xb684e21a);
    const float pa0 = F(0xbb1acdc6), pa1 = F(0x3ed46805), pa2 = F(0xbebe9208),
                pa3 = F(0x3ea2fe54), pa4 = F(0xbde31cc2), pa5 = F(0x3d1151b3),
                pa6 = F(0xbb0df9c0);
    const float qa1 = F(0x3dd9f331), qa2 = F(0x3f0a5785), qa3 = F(0x3d931ae7),
                qa4 = F(0x3e013307), qa5 = F(0x3c5f6e13), qa6 = F(0x3c445aa3);
    const float ra0 = F(0xbc21a093), ra1 = F(0xbf31a0b7), ra2 = F(0xc128f022),
                ra3 = F(0xc2798057), ra4 = F(0xc322658c), ra5 = F(0xc3389ae7),
                ra6 = F(0xc2a2932b), ra7 = F(0xc11d077e);
    const float sa1 = F(0x419d35ce), sa2 = F(0x4309a863), sa3 = F(0x43d9486f),
                sa4 = F(0x442158c9), sa5 = F(0x43d6810b), sa6 = F(0x42d9451f),
                sa7 = F(0x40d23f7c), sa8 = F(0xbd777f97);
    const float rb0 = F(0xbc21a092), rb1 = F(0xbf4c9dd4), rb2 = F(0xc18e104b),
                rb3 = F(0xc320a2ea), rb4 = F(0xc41f6441), rb5 = F(0xc480230b),
                rb6 = F(0xc3f1c275);
    const float sb1 = F(0x41f2b459), sb2 = F(0x43a2e571), sb3 = F(0x44c01759),
                sb4 = F(0x4547fdbb), sb5 = F(0x451f90ce), sb6 = F(0x43ed43a7),
                sb7 = F(0xc1b38712);

    int32_t hx = (int32_t)wi_asuint(x);
    int32_t ix = hx & 0x7fffffff;
    if (ix >= 0x7f800000) { /* erf(nan) = nan, erf(+-inf) = +-1 */
        int32_t i = (int32_t)(((uint32_t)hx >> 31) << 1);
        return (float)(1 - i) + one / x;
    }
    if (ix < 0x3f580000) { /* |x| < 0.84375 */
        if (ix < 0x31800000) { /* |x| < 2^-28 */
            if (ix < 0x04000000)
                return 0.0625f * (16.0f * x + (16.0f * efx) * x);
            return x + efx * x;
        }
        float z = x * x;
        float r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
        float s = one + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
        float y = r / s;
        return x + x * y;
    }
    if (ix < 0x3fa00000) { /* 0.84375 <= |x| < 1.25 */
        float s = fabsf(x) - one;
        float P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
        float Q = one + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
        return hx >= 0 ? erx + P / Q : -erx - P / Q;
    }
    if (ix >= 0x40c00000) /* |x| >= 6 */
        return hx >= 0 ? one - tiny : tiny - one;
    x = fabsf(x);
    float s = one / (x * x);
    float R, S;
    if (ix < 0x4036DB6E) { /* |x| < 1/0.35 */
        R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
        S = one + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
    } else {
        R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
        S = one + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
    }
    float z = wi_asfloat(wi_asuint(x) & 0xfffff000u);
    float r = wi_expf(-z * z - 0.5625f) * wi_expf((z - x) * (z + x) + R / S);
    return hx >= 0 ? one - r / x : r / x - one;
}
