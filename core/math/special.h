/* The values glibc's error paths return (math_err.c, math_errf.c), made
 * by the same operations so NaN signs and payloads come out alike.
 * errno is not set: nothing in weightinit reads it. */
#ifndef WI_MATH_SPECIAL_H
#define WI_MATH_SPECIAL_H

/* A value the optimizer cannot fold, so the operations below run (and
 * round) at run time like glibc's NOINLINE helpers. */
static inline float wi_opaquef(float x)
{
    __asm__("" : "+x"(x));
    return x;
}

static inline double wi_opaque(double x)
{
    __asm__("" : "+x"(x));
    return x;
}

static inline float wi_xflowf(int neg, float y)
{
    y = wi_opaquef(y);
    return (neg ? -y : y) * y;
}

static inline float wi_divzerof(int neg)
{
    return wi_opaquef(neg ? -1.0f : 1.0f) / 0.0f;
}

static inline float wi_invalidf(float x)
{
    x = wi_opaquef(x);
    return (x - x) / (x - x);
}

static inline double wi_xflow(int neg, double y)
{
    y = wi_opaque(y);
    return (neg ? -y : y) * y;
}

static inline double wi_divzero(int neg)
{
    return wi_opaque(neg ? -1.0 : 1.0) / 0.0;
}

static inline double wi_invalid(double x)
{
    x = wi_opaque(x);
    return (x - x) / (x - x);
}

#endif
