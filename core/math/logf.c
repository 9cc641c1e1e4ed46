/* logf as glibc 2.36 computes it (sysdeps/ieee754/flt-32/e_logf.c, the
 * "-mfma" build x86-64 runs): log(x) = log1p(z/c - 1) + log(c) + k ln2
 * with a 16-entry table of c and a degree-4 polynomial, in double. */
#include <math.h>

#include "math/bits.h"
#include "math/special.h"
#include "math/logf_data.h"
#include "math/wimath.h"

float wi_logf(float x)
{
    uint32_t ix = wi_asuint(x);
    if (ix == 0x3f800000u)
        return 0.0f;
    if (ix - 0x00800000u >= 0x7f800000u - 0x00800000u) {
        if (ix * 2 == 0)
            return wi_divzerof(1);
        if (ix == 0x7f800000u)
            return x;
        if ((ix & 0x80000000u) || ix * 2 >= 0xff000000u)
            return wi_invalidf(x);
        ix = wi_asuint(x * 0x1p23f); /* subnormal: normalise */
        ix -= 23u << 23;
    }
    uint32_t tmp = ix - 0x3f330000u;
    int i = (int)((tmp >> (23 - 4)) % 16);
    int k = (int32_t)tmp >> 23;
    uint32_t iz = ix - (tmp & 0x1ffu << 23);
    double invc = wi_asdouble(wi_logf_tab[i][0]);
    double logc = wi_asdouble(wi_logf_tab[i][1]);
    double z = (double)wi_asfloat(iz);

    double r = fma(z, invc, -1.0);
    double y0 = fma((double)k, WI_LOGF_LN2, logc);
    double r2 = r * r;
    double y = fma(wi_logf_poly[1], r, wi_logf_poly[2]);
    y = fma(wi_logf_poly[0], r2, y);
    y = fma(y, r2, y0 + r);
    return (float)y;
}
