/* sinf, cosf and sincosf as glibc 2.36 computes them (flt-32/s_sinf.c,
 * s_cosf.c, s_sincosf.c, "-mfma" build): reduction by pi/2 in double
 * (a 192-bit 4/pi for |x| >= 120), then sine or cosine polynomials. */
#include <math.h>

#include "math/bits.h"
#include "math/special.h"
#include "math/wimath.h"

typedef struct {
    double sign[4]; /* sign of sine in quadrants 0..3 */
    double hpi_inv; /* 2/pi * 2^24 */
    double hpi;     /* pi/2 */
    double c0, c1, c2, c3, c4;
    double s1, s2, s3;
} sincos_poly_t;

/* The second entry computes -cos: negation for free. */
static const sincos_poly_t sincosf_poly_tab[2] = {
    {{1.0, -1.0, -1.0, 1.0}, 0x1.45F306DC9C883p+23, 0x1.921FB54442D18p0,
     0x1p0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5,
     -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16, -0x1.555545995a603p-3,
     0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
    {{1.0, -1.0, -1.0, 1.0}, 0x1.45F306DC9C883p+23, 0x1.921FB54442D18p0,
     -0x1p0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5,
     0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16, -0x1.555545995a603p-3,
     0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
};

/* 4/pi to 192 bits; entry i holds bits 8(i-3) .. 8i+32 so every read is
 * an aligned word. */
static const uint32_t inv_pio4[24] = {
    0xa2,       0xa2f9,     0xa2f983,   0xa2f9836e, 0xf9836e4e, 0x836e4e44,
    0x6e4e4415, 0x4e441529, 0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
    0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0, 0x34ddc0db, 0xddc0db62,
    0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
};

#define PI63 0x1.921FB54442D18p-62 /* 2 pi * 2^-64 */
#define PIO4 0x1.921FB6p-1f

static inline uint32_t abstop12(float x)
{
    return (wi_asuint(x) >> 20) & 0x7ff;
}

/* x - n pi/2 for |x| < 120, quadrant n. */
static inline double reduce_fast(double x, const sincos_poly_t *p, int *np)
{
    double r = x * p->hpi_inv;
    int n = ((int32_t)r + 0x800000) >> 24;
    *np = n;
    return fma(-(double)n, p->hpi, x);
}

/* Exact 2.62 fixed-point reduction of a float >= 2 from its bits xi. */
static inline double reduce_large(uint32_t xi, int *np)
{
    const uint32_t *arr = &inv_pio4[(xi >> 26) & 15];
    int shift = (xi >> 23) & 7;
    xi = (xi & 0xffffff) | 0x800000;
    xi <<= shift;
    uint64_t res0 = xi * arr[0];
    uint64_t res1 = (uint64_t)xi * arr[4];
    uint64_t res2 = (uint64_t)xi * arr[8];
    res0 = (res2 >> 32) | (res0 << 32);
    res0 += res1;
    uint64_t n = (res0 + (1ULL << 61)) >> 62;
    res0 -= n << 62;
    double x = (double)(int64_t)res0;
    *np = (int)n;
    return x * PI63;
}

static inline double sin_poly(double x, double x2, const sincos_poly_t *p)
{
    double x3 = x * x2;
    double s1 = fma(x2, p->s3, p->s2);
    double x7 = x3 * x2;
    double s = fma(x3, p->s1, x);
    return fma(x7, s1, s);
}

static inline double cos_poly(double x2, const sincos_poly_t *p)
{
    double x4 = x2 * x2;
    double c2 = fma(x2, p->c4, p->c3);
    double c1 = fma(x2, p->c1, p->c0);
    double x6 = x4 * x2;
    double c = fma(x4, p->c2, c1);
    return fma(x6, c2, c);
}

/* Sine of the reduced x (cosine when n is odd). */
static inline float sinf_poly(double x, double x2, const sincos_poly_t *p,
                              int n)
{
    return (float)((n & 1) == 0 ? sin_poly(x, x2, p) : cos_poly(x2, p));
}

/* Shared reduction for |x| >= pi/4: x reduced, the quadrant n (whose
 * parity picks sine or cosine), the sign s and the table p that make
 * sinf_poly(x * s, x * x, p, n) the sine.  Large negative inputs are
 * reduced by magnitude and their sign enters s and p, not n. */
static inline double reduce(float y, const sincos_poly_t **pp, int *np,
                            double *s)
{
    const sincos_poly_t *p = &sincosf_poly_tab[0];
    double x;
    int n, q;
    if (abstop12(y) < abstop12(120.0f)) {
        x = reduce_fast((double)y, p, &n);
        q = n;
    } else {
        uint32_t xi = wi_asuint(y);
        x = reduce_large(xi, &n);
        q = n + (int)(xi >> 31);
    }
    *s = p->sign[q & 3];
    if (q & 2)
        p = &sincosf_poly_tab[1];
    *pp = p;
    *np = n;
    return x;
}

float wi_sinf(float y)
{
    double x = y;
    if (abstop12(y) < abstop12(PIO4)) {
        if (abstop12(y) < abstop12(0x1p-12f))
            return y;
        return sinf_poly(x, x * x, &sincosf_poly_tab[0], 0);
    }
    if (abstop12(y) >= abstop12(INFINITY))
        return wi_invalidf(y);
    const sincos_poly_t *p;
    int n;
    double s;
    x = reduce(y, &p, &n, &s);
    return sinf_poly(x * s, x * x, p, n);
}

float wi_cosf(float y)
{
    double x = y;
    if (abstop12(y) < abstop12(PIO4)) {
        if (abstop12(y) < abstop12(0x1p-12f))
            return 1.0f;
        return sinf_poly(x, x * x, &sincosf_poly_tab[0], 1);
    }
    if (abstop12(y) >= abstop12(INFINITY))
        return wi_invalidf(y);
    const sincos_poly_t *p;
    int n;
    double s;
    x = reduce(y, &p, &n, &s);
    return sinf_poly(x * s, x * x, p, n ^ 1);
}

void wi_sincosf(float y, float *sinp, float *cosp)
{
    double x = y;
    if (abstop12(y) < abstop12(PIO4)) {
        if (abstop12(y) < abstop12(0x1p-12f)) {
            *sinp = y;
            *cosp = 1.0f;
            return;
        }
        double x2 = x * x;
        *sinp = (float)sin_poly(x, x2, &sincosf_poly_tab[0]);
        *cosp = (float)cos_poly(x2, &sincosf_poly_tab[0]);
        return;
    }
    if (abstop12(y) >= abstop12(INFINITY)) {
        float nan = wi_opaquef(y) - y;
        *sinp = *cosp = nan;
        return;
    }
    const sincos_poly_t *p;
    int n;
    double s;
    x = reduce(y, &p, &n, &s);
    double xs = x * s, x2 = x * x;
    float sv = (float)sin_poly(xs, x2, p);
    float cv = (float)cos_poly(x2, p);
    *sinp = (n & 1) ? cv : sv;
    *cosp = (n & 1) ? sv : cv;
}
