/* erf as glibc 2.36 computes it (dbl-64/s_erf.c, Sun's algorithm with
 * the polynomials split for instruction-level parallelism).  glibc
 * builds this file for baseline x86-64: nothing is fused; the exp calls
 * go to the FMA exp (wi_exp). */
#include <math.h>

#include "math/bits.h"
#include "math/wimath.h"

static const double erx = 0x1.b0ac160000000p-1;
static const double efx = 0x1.06eba8214db69p-3;
static const double pp[5] = {0x1.06eba8214db68p-3, -0x1.4cd7d691cb913p-2,
                             -0x1.d2a51dbd7194fp-6, -0x1.7a291236668e4p-8,
                             -0x1.8ead6120016acp-16};
static const double qq[6] = {0.0, 0x1.97779cddadc09p-2, 0x1.0a54c5536cebap-4,
                             0x1.4d022c4d36b0fp-8, 0x1.15dc9221c1a10p-13,
                             -0x1.09c4342a26120p-18};
static const double pa[7] = {-0x1.359b8bef77538p-9, 0x1.a8d00ad92b34dp-2,
                             -0x1.7d240fbb8c3f1p-2, 0x1.45fca805120e4p-2,
                             -0x1.c63983d3e28ecp-4, 0x1.22a36599795ebp-5,
                             -0x1.1bf380a96073fp-9};
static const double qa[7] = {0.0, 0x1.b3e6618eee323p-4, 0x1.14af092eb6f33p-1,
                             0x1.2635cd99fe9a7p-4, 0x1.02660e763351fp-3,
                             0x1.bedc26b51dd1cp-7, 0x1.88b545735151dp-7};
static const double ra[8] = {-0x1.43412600d6435p-7, -0x1.63416e4ba7360p-1,
                             -0x1.51e0441b0e726p+3, -0x1.f300ae4cba38dp+5,
                             -0x1.44cb184282266p+7, -0x1.7135cebccabb2p+7,
                             -0x1.4526557e4d2f2p+6, -0x1.3a0efc69ac25cp+3};
static const double sa[9] = {0.0, 0x1.3a6b9bd707687p+4, 0x1.1350c526ae721p+7,
                             0x1.b290dd58a1a71p+8, 0x1.42b1921ec2868p+9,
                             0x1.ad02157700314p+8, 0x1.b28a3ee48ae2cp+6,
                             0x1.a47ef8e484a93p+2, -0x1.eeff2ee749a62p-5};
static const double rb[7] = {-0x1.4341239e86f4ap-7, -0x1.993ba70c285dep-1,
                             -0x1.1c209555f995ap+4, -0x1.4145d43c5ed98p+7,
                             -0x1.3ec881375f228p+9, -0x1.004616a2e5992p+10,
                             -0x1.e384e9bdc383fp+8};
static const double sb[8] = {0.0, 0x1.e568b261d5190p+4, 0x1.45cae221b9f0ap+8,
                             0x1.802eb189d5118p+10, 0x1.8ffb7688c246ap+11,
                             0x1.3f219cedf3be6p+11, 0x1.da874e79fe763p+8,
                             -0x1.670e242712d62p+4};

/* |x| < 0.84375: x + x * P(x^2) / Q(x^2). */
static double erf_small(double x)
{
    double z = x * x;
    double r1 = pp[0] + z * pp[1], z2 = z * z;
    double r2 = pp[2] + z * pp[3], z4 = z2 * z2;
    double s1 = 1.0 + z * qq[1];
    double s2 = qq[2] + z * qq[3];
    double s3 = qq[4] + z * qq[5];
    double r = r1 + z2 * r2 + z4 * pp[4];
    double s = s1 + z2 * s2 + z4 * s3;
    double y = r / s;
    return x + x * y;
}

/* 0.84375 <= |x| < 1.25: erf(|x|) = erx + P(s) / Q(s), s = |x| - 1;
 * returns P / Q. */
static double erf_mid_pq(double x)
{
    double s = fabs(x) - 1.0;
    double P1 = pa[0] + s * pa[1], s2 = s * s;
    double Q1 = 1.0 + s * qa[1], s4 = s2 * s2;
    double P2 = pa[2] + s * pa[3], s6 = s4 * s2;
    double Q2 = qa[2] + s * qa[3];
    double P3 = pa[4] + s * pa[5];
    double Q3 = qa[4] + s * qa[5];
    double P = P1 + s2 * P2 + s4 * P3 + s6 * pa[6];
    double Q = Q1 + s2 * Q2 + s4 * Q3 + s6 * qa[6];
    return P / Q;
}

static double erf_mid(double x, int neg)
{
    double pq = erf_mid_pq(x);
    return neg ? -erx - pq : erx + pq;
}

/* 1.25 <= |x| < 6: erfc(|x|) = exp(-x^2 - 0.5625 + R/S) / |x|. */
static double erfc_tail(double x, int32_t ix)
{
    x = fabs(x);
    double s = 1.0 / (x * x);
    double R, S;
    if (ix < 0x4006DB6E) { /* |x| < 1/0.35 */
        double R1 = ra[0] + s * ra[1], s2 = s * s;
        double S1 = 1.0 + s * sa[1], s4 = s2 * s2;
        double R2 = ra[2] + s * ra[3], s6 = s4 * s2;
        double S2 = sa[2] + s * sa[3], s8 = s4 * s4;
        double R3 = ra[4] + s * ra[5];
        double S3 = sa[4] + s * sa[5];
        double R4 = ra[6] + s * ra[7];
        double S4 = sa[6] + s * sa[7];
        R = R1 + s2 * R2 + s4 * R3 + s6 * R4;
        S = S1 + s2 * S2 + s4 * S3 + s6 * S4 + s8 * sa[8];
    } else {
        double R1 = rb[0] + s * rb[1], s2 = s * s;
        double S1 = 1.0 + s * sb[1], s4 = s2 * s2;
        double R2 = rb[2] + s * rb[3], s6 = s4 * s2;
        double S2 = sb[2] + s * sb[3];
        double R3 = rb[4] + s * rb[5];
        double S3 = sb[4] + s * sb[5];
        double S4 = sb[6] + s * sb[7];
        R = R1 + s2 * R2 + s4 * R3 + s6 * rb[6];
        S = S1 + s2 * S2 + s4 * S3 + s6 * S4;
    }
    double z = wi_asdouble(wi_asuint64(x) & 0xffffffff00000000ULL);
    double r = wi_exp(-z * z - 0.5625) * wi_exp((z - x) * (z + x) + R / S);
    return r / x;
}

static double erf_tail(double x, int32_t ix, int neg)
{
    double c = erfc_tail(x, ix);
    return neg ? c - 1.0 : 1.0 - c;
}

double wi_erf(double x)
{
    int32_t hx = (int32_t)(wi_asuint64(x) >> 32);
    int32_t ix = hx & 0x7fffffff;
    if (ix >= 0x7ff00000) { /* erf(nan) = nan, erf(+-inf) = +-1 */
        int32_t i = (int32_t)(((uint32_t)hx >> 31) << 1);
        return (double)(1 - i) + 1.0 / x;
    }
    if (ix < 0x3feb0000) {
        if (ix < 0x3e300000) { /* |x| < 2^-28 */
            if (ix < 0x00800000)
                return 0.0625 * (16.0 * x + (16.0 * efx) * x);
            return x + efx * x;
        }
        return erf_small(x);
    }
    if (ix < 0x3ff40000)
        return erf_mid(x, hx < 0);
    if (ix >= 0x40180000) /* |x| >= 6 */
        return hx >= 0 ? 1.0 - 1e-300 : 1e-300 - 1.0;
    return erf_tail(x, ix, hx < 0);
}

/* erfc for 0 <= x < 6 from the same pieces, as Sun's s_erf.c computes
 * erfc there (no cancellation from 0.84375 on).  Not compared with glibc
 * bit for bit: the correctly rounded erfinv (kernels/erfinv_cr.c) needs
 * only its accuracy, about 1 ulp. */
double wi_erfc_pos(double x)
{
    int32_t ix = (int32_t)(wi_asuint64(x) >> 32) & 0x7fffffff;
    if (ix < 0x3feb0000)
        return 1.0 - erf_small(x);
    if (ix < 0x3ff40000)
        return (1.0 - erx) - erf_mid_pq(x);
    return erfc_tail(x, ix);
}
