/* float32 -> bfloat16 / float16 as torch rounds them under each profile
 * (convert.h). */
#include <string.h>

#include <weightinit/tensor.h>

#include "kernels/profile.h"
#include "tensor/convert.h"

int wi_priv_convert_supported(wi_dtype_t dst)
{
    return dst == WI_DTYPE_F32 || dst == WI_DTYPE_F16 || dst == WI_DTYPE_BF16;
}

/* c10::detail::round_to_nearest_even: adding 0x7fff plus the kept lsb
 * rounds the dropped half to nearest even, and carries into the exponent
 * (max float -> inf).  NaN is the one special case, and torch's scalar
 * and vector kernels disagree on it. */
uint16_t wi_priv_f32_to_bf16(uint32_t u, wi_rng_profile_t profile)
{
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return wi_profile_avx2(profile) ? 0xffff : 0x7fc0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* Keeps the top bits of m above `shift`, rounding the rest to nearest
 * even; a carry out of the mantissa lands in the exponent field. */
static uint32_t round_shift(uint32_t m, unsigned shift)
{
    uint32_t kept = m >> shift, rest = m & ((1u << shift) - 1u),
             half = 1u << (shift - 1);
    return kept + (rest > half || (rest == half && (kept & 1u)));
}

/* IEEE binary16, what c10::Half's fp16_ieee_from_fp32_value computes
 * (with float arithmetic there, with integers here). */
uint16_t wi_priv_f32_to_f16(uint32_t u, wi_rng_profile_t profile)
{
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu, e = a >> 23;
    if (a > 0x7f800000u) { /* quiet NaN: torch 1.13 drops the payload,
                              2.x keeps its top 10 bits */
        uint16_t payload = wi_profile_f16_nan_payload(profile)
                               ? (uint16_t)((a & 0x7fffffu) >> 13)
                               : 0;
        return sign | 0x7e00 | payload;
    }
    if (e >= 143)             /* >= 65536 (and inf): beyond 65504 */
        return sign | 0x7c00;
    if (e >= 113) { /* a normal half: rebias 127 -> 15, 13 bits dropped */
        uint32_t h = round_shift(a - (112u << 23), 13);
        return sign | (uint16_t)(h >= 0x7c00 ? 0x7c00 : h);
    }
    if (e < 102) /* below 2^-25 (also float32 subnormals): +-0 */
        return sign;
    /* A half subnormal: the value in units of 2^-24; rounding up from
     * the largest one gives 0x400, the smallest normal, as it should. */
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    return sign | (uint16_t)round_shift(m, 126 - e);
}

int wi_priv_convert_f32(wi_dtype_t dst, wi_rng_profile_t profile,
                        const float *src, void *out, size_t n)
{
    uint16_t *o = out;
    uint32_t u;
    switch (dst) {
    case WI_DTYPE_F32:
        memcpy(out, src, n * sizeof *src);
        return 0;
    case WI_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) {
            memcpy(&u, src + i, 4);
            o[i] = wi_priv_f32_to_bf16(u, profile);
        }
        return 0;
    case WI_DTYPE_F16:
        for (size_t i = 0; i < n; i++) {
            memcpy(&u, src + i, 4);
            o[i] = wi_priv_f32_to_f16(u, profile);
        }
        return 0;
    default:
        return WI_EUNSUPPORTED;
    }
}
