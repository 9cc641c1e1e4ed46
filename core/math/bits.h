/* Bit access for the math files (the reference code works on IEEE bit
 * patterns).  Every operation in core/math/ rounds on its own: fused
 * multiply-adds are written fma()/fmaf() (the build passes
 * -ffp-contract=off), so results do not depend on the compiler. */
#ifndef WI_MATH_BITS_H
#define WI_MATH_BITS_H

#include <float.h>
#include <stdint.h>
#include <string.h>

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "core/math needs FLT_EVAL_METHOD == 0 (SSE2 math, no x87)"
#endif

static inline uint32_t wi_asuint(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float wi_asfloat(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline uint64_t wi_asuint64(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double wi_asdouble(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#endif
