/* The vector kernels behind the sampling primitives, one table per
 * instruction set, chosen once at run time (or forced with
 * WEIGHTINIT_ISA=scalar|avx2|avx512).  Every table computes the same bits:
 * the RNG profile decides the arithmetic, the instruction set only how
 * fast it runs.  Not part of the ABI. */
#ifndef WI_KERNELS_DISPATCH_H
#define WI_KERNELS_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>

#include "base/internal.h"

typedef struct wi_kernels {
    const char *isa; /* "scalar", "avx2", "avx512" */
    /* MT19937 regeneration of the 624-word block in place (torch-rng.md
     * §2, increasing k, wrapped words already new). */
    void (*twist)(uint32_t *st);
    /* out[i] = temper(st[i]): raw 32-bit draws. */
    void (*temper)(uint32_t *out, const uint32_t *st, size_t n);
    /* out[i] = U24(temper(st[i])). */
    void (*u24)(float *out, const uint32_t *st, size_t n);
    /* out[i] = U24(temper(st[i])) * range + from, one rounding when fused
     * (avx2 profile), two otherwise (§3). */
    void (*uniform)(float *out, const uint32_t *st, size_t n, float from,
                    float range, int fused);
    /* The avx2 profile's Box-Muller on nblocks blocks of 16 (§4.2). */
    void (*normal_avx2)(float *data, size_t nblocks, float mean, float std);
    /* The default profile's Box-Muller on nblocks blocks of 16 (§4.3);
     * fma_end: the last step is one fused multiply-add (torch >= 2.13). */
    void (*normal_default)(float *data, size_t nblocks, float mean,
                           float std, int fma_end);
    /* trunc_normal_ after its uniforms: erfinv (fused Horner steps in the
     * avx2 profile), * scale, + shift, clamp to [lo, hi], in place. */
    void (*trunc)(float *a, size_t n, float scale, float shift, float lo,
                  float hi, int fused);
    /* acc[0..623] = XOR over t of buf[terms[t] .. terms[t] + 623]: one
     * application of a jump polynomial (rng/mt_jump.c). */
    void (*xor_windows)(uint32_t *acc, const uint32_t *buf,
                        const uint16_t *terms, int nterms);
} wi_kernels_t;

WI_INTERNAL extern const wi_kernels_t wi_kernels_scalar;
WI_INTERNAL extern const wi_kernels_t wi_kernels_avx2;
WI_INTERNAL extern const wi_kernels_t wi_kernels_avx512;

/* Sets *k to the table for this process: the best the CPU has, or the
 * one WEIGHTINIT_ISA names.  WI_EINVAL (unknown name) or WI_EUNSUPPORTED
 * (not on this CPU) when WEIGHTINIT_ISA cannot be honoured. */
WI_INTERNAL int wi_kernels(const wi_kernels_t **k, wi_error_t *err);

#endif
