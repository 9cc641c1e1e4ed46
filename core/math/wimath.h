/* The transcendental functions the kernels and nn.init use, as the
 * project's own code.  Each returns, bit for bit, what the reference libm
 * (glibc 2.36 on x86-64 with FMA, Debian 12: what torch 1.13 was measured
 * against) returns, so no result depends on the host's libm.  Verified by
 * tests/math/verify_math (see tests/math/README.md).  Not part of the ABI.
 *
 * The float functions follow glibc's flt-32 code (Szabolcs Nagy's logf,
 * expf, sinf/cosf; Sun's erff), the double ones dbl-64 (log, exp from the
 * same family; IBM's sin/cos; Sun's erf), with the multiply-adds that GCC
 * fused in glibc's "-mfma" builds spelled as fma() here.  Special inputs
 * (NaN, infinities, zeros, subnormals) give glibc's values too; errno and
 * floating-point exception flags are not reproduced. */
#ifndef WI_WIMATH_H
#define WI_WIMATH_H

#include <stddef.h>

#include "base/internal.h"

WI_INTERNAL float wi_logf(float x);
/* wi_logf over n floats with AVX2 + FMA instructions, bit identical to
 * wi_logf for every input (in may equal out).  Only call it when the CPU
 * has AVX2 and FMA (__builtin_cpu_supports). */
WI_INTERNAL void wi_logf_avx2(const float *in, float *out, size_t n);
WI_INTERNAL float wi_expf(float x);
WI_INTERNAL float wi_erff(float x);
/* wi_expf and wi_erff over n floats with AVX2 + FMA instructions, bit
 * identical to the scalar functions for every input (in may equal out).
 * Only call them when the CPU has AVX2 and FMA. */
WI_INTERNAL void wi_expf_avx2(const float *in, float *out, size_t n);
WI_INTERNAL void wi_erff_avx2(const float *in, float *out, size_t n);
WI_INTERNAL float wi_sinf(float x);
WI_INTERNAL float wi_cosf(float x);
/* glibc's sincosf: the same values as sinf and cosf. */
WI_INTERNAL void wi_sincosf(float x, float *s, float *c);
/* wi_sincosf over n floats with AVX2 + FMA instructions, bit identical to
 * wi_sincosf for every input.  Only call it when the CPU has AVX2 and
 * FMA. */
WI_INTERNAL void wi_sincosf_avx2(const float *in, float *s, float *c,
                                 size_t n);

WI_INTERNAL double wi_log(double x);
/* The correctly rounded float log of a uniform_() value u = k * 2^-24
 * (k < 2^24): glibc's double log rounded once.  Checked on all 2^24
 * inputs (tests/test_math.c); not correctly rounded for every float. */
static inline float wi_logf_cr_u24(float u) { return (float)wi_log((double)u); }
WI_INTERNAL double wi_exp(double x);
WI_INTERNAL double wi_pow(double x, double y);
WI_INTERNAL double wi_erf(double x);
/* erfc(x) for 0 <= x < 6 (Sun's algorithm; accurate, not glibc's bits). */
WI_INTERNAL double wi_erfc_pos(double x);
WI_INTERNAL double wi_sin(double x);
WI_INTERNAL double wi_cos(double x);
/* glibc's sincos, which is what compiled code calling sin() and cos() of
 * the same argument ends up with; for 0.855469 <= |x| < 2.426265 its sine
 * can differ from sin() in the last bit (another reduction). */
WI_INTERNAL void wi_sincos(double x, double *s, double *c);

#endif
