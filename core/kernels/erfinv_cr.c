/* The correctly rounded float erfinv (erfinv_cr.h).
 *
 * Fast path: x = erfinv(|y|) in double by Halley's method on erf (|y| <=
 * 0.5) or on erfc (|y| > 0.5, where q = 1 - |y| is exact and erfc keeps
 * its relative accuracy), started from the rational first guess of torch
 * 1.13's calc_erfinv (in float, without its Newton steps).
 * Both have f'' = -2x f', so a Halley step is x - D / (1 + x D) with the
 * Newton step D = f / f'.  Error of the double x:
 *  - the start is within 2^-18 (relative) of erfinv(|y|) wherever the
 *    result is a normal float (measured on every 97th input), and
 *    Halley's relative error goes from e to about (x^2 + 1) x^2 e^3 / 3,
 *    at most 82 e^3 for x < 3.9 (0.1 e^3 for |y| <= 0.5): one step leaves
 *    at most 2^-48.5.
 *    Where the result is subnormal, erf is linear to double precision and
 *    one step lands;
 *  - what remains is the residual's own error: erf and erfc (Sun's, about
 *    1 ulp) err by at most 2^-51 relative; divided by the derivative that
 *    is at most 1.3 * 2^-51 * x for erf (|y| <= 0.5, x >= 0.886 |y|) and
 *    2^-51 / (2 x^2) * x <= 2.3 * 2^-51 * x for erfc (x >= 0.47, Mills'
 *    ratio); the last update's rounding adds 2^-53 x.
 * So |x - erfinv(|y|)| < 2^-47.2 x.  Rounding x to float gives the
 * correctly rounded result unless x lies within 2^-44 x (a margin of 9)
 * of the midpoint between two floats.  That happens for about a thousand
 * of the 2^31 inputs (322 within 2^-46 per erfinv_scan.py's reference,
 * so about four times as many within 2^-44); for them the sign of
 * erf(m) - |y| at the midpoint m decides, computed in double-double by
 * erf's Taylor series: at m < 4 the terms reach 2^17, so the error stays
 * below 2^-80 while |erf(m) - |y|| >= erf'(m) * |m - erfinv(|y|)| is
 * never that small for a float y (checked over all inputs, below).
 *
 * Verified over all 2,130,706,432 float inputs in (-1, 1) against scipy +
 * mpmath (tests/refs/torch2/erfinv_scan.py --reference-out, sha256 in
 * tests/data/torch2/erfinv_cr.json; tests/erfinv_cr_all.c runs it: equal). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/erfinv.h"
#include "kernels/erfinv_cr.h"
#include "math/wimath.h"

/* 2 / sqrt(pi) as a double-double. */
#define K_HI 0x1.20dd750429b6dp+0
#define K_LO 0x1.1ae3a914fed80p-56

typedef struct {
    double hi, lo;
} dd_t;

static dd_t two_sum(double a, double b)
{
    double s = a + b, bb = s - a;
    return (dd_t){s, (a - (s - bb)) + (b - bb)};
}

static dd_t dd_add(dd_t a, dd_t b)
{
    dd_t s = two_sum(a.hi, b.hi);
    return two_sum(s.hi, s.lo + a.lo + b.lo);
}

static dd_t dd_mul(dd_t a, dd_t b)
{
    double p = a.hi * b.hi;
    double e = fma(a.hi, b.hi, -p) + (a.hi * b.lo + a.lo * b.hi);
    return two_sum(p, e);
}

/* a / d for a small integer d (exact as a double). */
static dd_t dd_div_d(dd_t a, double d)
{
    double q = a.hi / d;
    double r = (fma(-q, d, a.hi) + a.lo) / d;
    return two_sum(q, r);
}

/* Sign of erf(m) - y (m > 0 a double, y > 0), from
 * erf(m) = 2/sqrt(pi) * sum_n (-1)^n m^(2n+1) / (n! (2n+1)) in
 * double-double. */
static int erf_above(double m, double y)
{
    dd_t mm = {m, 0.0};
    dd_t neg_m2 = dd_mul(mm, mm);
    neg_m2.hi = -neg_m2.hi;
    neg_m2.lo = -neg_m2.lo;
    dd_t a = mm, sum = mm;
    for (int n = 1; n < 400; n++) {
        a = dd_div_d(dd_mul(a, neg_m2), (double)n);
        dd_t t = dd_div_d(a, (double)(2 * n + 1));
        sum = dd_add(sum, t);
        if (fabs(t.hi) < 0x1p-120 * fabs(sum.hi) && n > 2 * m * m)
            break;
    }
    dd_t e = dd_mul(sum, (dd_t){K_HI, K_LO});
    dd_t d = dd_add(e, (dd_t){-y, 0.0});
    return d.hi > 0.0 || (d.hi == 0.0 && d.lo > 0.0);
}

/* erfinv(a) in double for 0 < a < 1 (float a), error below 2^-47.2 x:
 * one Halley step from calc_erfinv's first guess. */
static double erfinv_double(float a)
{
    double y = a;
    double x = (double)wi_erfinv_guess_inline(a, 0);
    double deriv = K_HI * wi_exp(-x * x), d;
    if (a <= 0.5f)
        d = (wi_erf(x) - y) / deriv;
    else /* erfc(x) - (1 - y), with 1 - y exact for y >= 0.5 */
        d = -(wi_erfc_pos(x) - (1.0 - y)) / deriv;
    return x - d / (1.0 + x * d);
}

float wi_erfinv_cr(float y)
{
    float a = fabsf(y);
    if (!(a < 1.0f)) /* NaN, or |y| >= 1 as calc_erfinv answers it */
        return a == 1.0f ? copysignf(INFINITY, y) : NAN;
    if (a == 0.0f)
        return y;
    double x = erfinv_double(a);
    float f = (float)x;
    double fd = f;
    if (x != fd) {
        /* The midpoint between f and its neighbour on x's side. */
        float nb = nextafterf(f, x > fd ? INFINITY : 0.0f);
        double m = (fd + (double)nb) / 2;
        if (fabs(x - m) <= 0x1p-44 * x) {
            /* erfinv(a) > m exactly when erf(m) < a (erf increases). */
            int above = !erf_above(m, (double)a);
            float lo_f = nb < f ? nb : f, hi_f = nb < f ? f : nb;
            f = above ? hi_f : lo_f;
        }
    }
    return copysignf(f, y);
}

void wi_trunc_tail_cr(float *a, size_t n, float scale, float shift, float lo,
                      float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = wi_trunc_affine_clamp(wi_erfinv_cr(a[i]), scale, shift, lo, hi);
}
