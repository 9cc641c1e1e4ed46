/* float32 to a narrower floating dtype, rounded as the profile's torch
 * build's tensor.to(dtype) rounds on the CPU.  Array functions over caller
 * buffers, so a writer can convert one piece of a tensor at a time.
 * Internal; not exported. */
#ifndef WI_CONVERT_H
#define WI_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/rng.h>
#include <weightinit/tensor.h>

#include "base/internal.h"

/* 1 when F32 values can be converted to dst (F32, F16, BF16). */
WI_INTERNAL int wi_priv_convert_supported(wi_dtype_t dst);

/* Converts n float32 values to dst's dtype into out (n * element size
 * bytes, host byte order; out must not overlap src).  Round to nearest,
 * ties to even; overflow goes to +-inf, float32 subnormals and values
 * below half the smallest subnormal become +-0, -0 stays -0.  NaN: F16
 * keeps the sign; torch 1.13's c10::Half drops the payload (0x7e00 /
 * 0xfe00), torch 2.x's keeps its top 10 bits (sign | 0x7e00 | mantissa >>
 * 13, the torch2.0-* profiles, docs/torch-versions.md (E)); BF16 gives
 * 0x7fc0 under the default capability's profiles (c10::BFloat16's scalar
 * round_to_nearest_even) and 0xffff under the AVX2 ones (the AVX2/AVX-512
 * cvtfp32_bf16 kernel torch's copy_ runs on such CPUs).  Returns 0, or
 * WI_EUNSUPPORTED for another dst. */
WI_INTERNAL int wi_priv_convert_f32(wi_dtype_t dst, wi_rng_profile_t profile,
                                    const float *src, void *out, size_t n);

/* One value each, for tests and callers that convert element-wise. */
WI_INTERNAL uint16_t wi_priv_f32_to_bf16(uint32_t bits, wi_rng_profile_t profile);
WI_INTERNAL uint16_t wi_priv_f32_to_f16(uint32_t bits, wi_rng_profile_t profile);

#endif
