/* exp as glibc 2.36 computes it (dbl-64/e_exp.c, the "-mfma" build that
 * x86-64 selects, also inside erf): exp(x) = 2^(k/128) * exp(r) with a
 * 128-entry table and a degree-5 polynomial. */
#include <math.h>

#include "math/bits.h"
#include "math/exp_data.h"
#include "math/special.h"
#include "math/wimath.h"

static inline uint32_t top12(double x)
{
    return (uint32_t)(wi_asuint64(x) >> 52);
}

/* scale * (1 + tmp) where the exponent of scale over- or underflowed. */
static double specialcase(double tmp, uint64_t sbits, uint64_t ki)
{
    double scale, y;
    if ((ki & 0x80000000) == 0) {
        sbits -= 1009ULL << 52;
        scale = wi_asdouble(sbits);
        return 0x1p1009 * fma(scale, tmp, scale);
    }
    sbits += 1022ULL << 52;
    scale = wi_asdouble(sbits);
    /* Not fused here: the product has a use in another basic block,
     * which GCC does not contract. */
    double st = scale * tmp;
    y = scale + st;
    if (y < 1.0) {
        /* Round once before scaling into the subnormal range. */
        double lo = scale - y + st;
        double hi = 1.0 + y;
        lo = 1.0 - hi + y + lo;
        y = (hi + lo) - 1.0;
        if (y == 0.0)
            y = 0.0;
    }
    return 0x1p-1022 * y;
}

double wi_exp(double x)
{
    uint32_t abstop = top12(x) & 0x7ff;
    if (abstop - top12(0x1p-54) >= top12(512.0) - top12(0x1p-54)) {
        if (abstop - top12(0x1p-54) >= 0x80000000)
            return 1.0 + x; /* tiny x */
        if (abstop >= top12(1024.0)) {
            if (wi_asuint64(x) == wi_asuint64(-INFINITY))
                return 0.0;
            if (abstop >= top12(INFINITY))
                return 1.0 + x;
            return (wi_asuint64(x) >> 63) ? wi_xflow(0, 0x1p-767)
                                          : wi_xflow(0, 0x1p769);
        }
        abstop = 0; /* large |x|: specialcase below */
    }
    double kd = fma(WI_EXP_INVLN2N, x, WI_EXP_SHIFT);
    uint64_t ki = wi_asuint64(kd);
    kd -= WI_EXP_SHIFT;
    double r = fma(kd, WI_EXP_NEGLN2LON, fma(kd, WI_EXP_NEGLN2HIN, x));
    uint64_t idx = 2 * (ki % 128);
    uint64_t top = ki << (52 - 7);
    double tail = wi_asdouble(wi_exp_tab[idx]);
    uint64_t sbits = wi_exp_tab[idx + 1] + top;
    const double *C = wi_exp_poly;
    double r2 = r * r;
    double tmp = fma(r2 * r2, fma(r, C[3], C[2]),
                     fma(r2, fma(r, C[1], C[0]), tail + r));
    if (abstop == 0)
        return specialcase(tmp, sbits, ki);
    double scale = wi_asdouble(sbits);
    return fma(scale, tmp, scale);
}
