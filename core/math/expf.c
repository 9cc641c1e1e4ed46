/* expf as glibc 2.36 computes it (flt-32/e_expf.c, "-mfma" build):
 * exp(x) = 2^(k/32) * 2^(r/32) with a 32-entry table of 2^(i/32) and a
 * cubic, in double. */
#include <math.h>

#include "math/bits.h"
#include "math/expf_data.h"
#include "math/special.h"
#include "math/wimath.h"

#define INVLN2N WI_EXPF_INVLN2N
#define SHIFT WI_EXPF_SHIFT

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
    uint64_t t = wi_expf_tab[ki % 32];
    t += ki << (52 - 5);
    double s = wi_asdouble(t);
    double z = fma(wi_expf_poly[0], r, wi_expf_poly[1]);
    double r2 = r * r;
    double y = fma(wi_expf_poly[2], r, 1.0);
    y = fma(z, r2, y);
    y = y * s;
    return (float)y;
}
