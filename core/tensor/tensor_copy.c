/* torch's copy_ between dtypes, element by element. */
#include <math.h>
#include <string.h>

#include <weightinit/tensor.h>

#include "tensor/tensor_internal.h"

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f,
             man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf, nan */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: renormalise */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float bf16_to_float(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Element i of src as float32, the way torch converts it. */
static float as_f32(const void *src, wi_dtype_t dt, int64_t i)
{
    const unsigned char *p = src;
    switch (dt) {
    case WI_DTYPE_F32: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case WI_DTYPE_F64: { double v; memcpy(&v, p + 8 * i, 8); return (float)v; }
    case WI_DTYPE_F16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return half_to_float(v); }
    case WI_DTYPE_BF16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return bf16_to_float(v); }
    case WI_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (float)v; }
    case WI_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return (float)v; }
    case WI_DTYPE_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); return (float)v; }
    case WI_DTYPE_I8: return (float)(int8_t)p[i];
    case WI_DTYPE_U8: return (float)p[i];
    case WI_DTYPE_BOOL: return p[i] ? 1.0f : 0.0f;
    }
    return 0.0f;
}

/* Element i of src as int64 (floats truncate toward zero; out-of-range
 * and NaN give INT64_MIN as x86 does). */
static int64_t as_i64(const void *src, wi_dtype_t dt, int64_t i)
{
    const unsigned char *p = src;
    double d;
    switch (dt) {
    case WI_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return v; }
    case WI_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case WI_DTYPE_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case WI_DTYPE_I8: return (int8_t)p[i];
    case WI_DTYPE_U8: return p[i];
    case WI_DTYPE_BOOL: return p[i] != 0;
    case WI_DTYPE_F64: memcpy(&d, p + 8 * i, 8); break;
    default: d = as_f32(src, dt, i); break;
    }
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)d;
}

int wi_tensor_copy_(wi_tensor_t *dst, const wi_tensor_t *src, wi_error_t *err)
{
    if (!wi_tensor_same_shape(dst, src))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "copy_ needs tensors of the same shape");
    wi_dtype_t dd = wi_tensor_dtype(dst), sd = wi_tensor_dtype(src);
    int64_t n = wi_tensor_numel(src);
    if (dd != sd && dd != WI_DTYPE_F32 && dd != WI_DTYPE_I64)
        return wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL,
                            "copying %s into a %s tensor is not supported",
                            wi_dtype_name(sd), wi_dtype_name(dd));
    const void *s = wi_tensor_const_data(src);
    /* Every element is replaced: a deferred dst's values are not
     * computed first. */
    void *d = dst == src ? wi_tensor_data(dst) : wi_priv_tensor_overwrite_data(dst, err);
    if (!s || !d)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL,
                            "out of memory for a tensor of %llu bytes",
                            (unsigned long long)wi_tensor_nbytes(s ? dst : src));
    if (dd == sd) {
        memmove(d, s, (size_t)wi_tensor_nbytes(src));
    } else if (dd == WI_DTYPE_F32) {
        for (int64_t i = 0; i < n; i++)
            ((float *)d)[i] = as_f32(s, sd, i);
    } else {
        for (int64_t i = 0; i < n; i++) {
            int64_t v = as_i64(s, sd, i);
            memcpy((char *)d + 8 * i, &v, 8);
        }
    }
    wi_tensor_bump_version(dst);
    return 0;
}
