/* Tensors: an n-dimensional, contiguous, row-major array of one dtype.
 * Sizes and offsets are 64-bit everywhere.  A tensor owns its storage,
 * allocated once (zero-filled), or wraps storage that someone else owns
 * (for example a memory-mapped file) and calls a release hook when freed.
 *
 * Deferred values (the write plan).  A tensor from wi_tensor_new() has no
 * storage until its values are needed.  Until then each sampling
 * primitive of init.h that writes the whole tensor (uniform_, normal_ on
 * 16 or more elements, trunc_normal_, constant_, and the xavier_ and
 * kaiming_ forms of them) records the write instead of computing it: the
 * generator advances exactly as the write would advance it (by
 * jump-ahead), and an earlier write's values are never computed.  The
 * values are computed, equal to what the eager write would have stored:
 *   - all at once, into the tensor's own storage, by the first
 *     wi_tensor_data() / wi_tensor_const_data() / wi_tensor_materialize()
 *     (the tensor then stays in memory: a pointer it returned stays valid
 *     and later writes are computed when made);
 *   - in any part, into the caller's memory, by wi_tensor_read(), which
 *     leaves the tensor deferred (the writers stream files this way, in
 *     bounded memory).
 * Writes that need values as they go (per-element normal_ on fewer than
 * 16 elements, orthogonal_, partial writes, copies) materialise first.
 * Set WEIGHTINIT_DEFER=0 in the environment to allocate and compute every
 * tensor eagerly (the same bits; for comparing the two paths).
 *
 * Every in-place write through the library bumps the tensor's version
 * counter (as PyTorch's `_version`); code that writes through
 * wi_tensor_data() directly calls wi_tensor_bump_version() afterwards.
 * The init_cfg engine uses the counter to report exactly who wrote what. */
#ifndef WEIGHTINIT_TENSOR_H
#define WEIGHTINIT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/rng.h>
#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif


/* Element size in bytes, 0 for an unknown dtype. */
size_t wi_dtype_size(wi_dtype_t dtype);
/* "F32", "I64", ... (static string), NULL for an unknown dtype. */
const char *wi_dtype_name(wi_dtype_t dtype);
/* Parses a safetensors dtype name; returns 0, or WI_ENOTFOUND. */
int wi_dtype_from_name(const char *name, wi_dtype_t *dtype);

/* A new zero-filled tensor; ndim in [0, WI_MAX_DIMS], every size >= 0.
 * ndim 0 is a scalar with one element.  Its storage is deferred (above):
 * allocating a model costs nothing until its values are read.  Free with
 * wi_tensor_free(). */
wi_tensor_t *wi_tensor_new(wi_dtype_t dtype, int ndim, const int64_t *shape,
                           wi_error_t *err);

/* A new tensor over caller-provided storage of at least numel * element
 * size bytes.  release(data, release_data) runs in wi_tensor_free()
 * (release may be NULL: the storage is then borrowed and must outlive the
 * tensor). */
wi_tensor_t *wi_tensor_wrap(wi_dtype_t dtype, int ndim, const int64_t *shape,
                            void *data, void (*release)(void *data, void *ud),
                            void *release_data, wi_error_t *err);

/* Frees the tensor and, when it owns it, its storage.  NULL is allowed. */
void wi_tensor_free(wi_tensor_t *t);

wi_dtype_t wi_tensor_dtype(const wi_tensor_t *t);
int wi_tensor_ndim(const wi_tensor_t *t);
/* Borrowed array of ndim sizes, valid for the tensor's lifetime. */
const int64_t *wi_tensor_shape(const wi_tensor_t *t);
int64_t wi_tensor_numel(const wi_tensor_t *t);
/* numel * element size. */
uint64_t wi_tensor_nbytes(const wi_tensor_t *t);
/* Borrowed pointer to the elements, row-major, host byte order, valid
 * for the tensor's lifetime.  A deferred tensor is materialised first
 * (wi_tensor_materialize); NULL when that fails (out of memory).  Not
 * thread-safe on a deferred tensor. */
void *wi_tensor_data(wi_tensor_t *t);
const void *wi_tensor_const_data(const wi_tensor_t *t);

/* Gives a deferred tensor its storage and computes its values there
 * (with the threads its generator allows); nothing for a tensor in
 * memory.  0, WI_ENOMEM, or the WEIGHTINIT_ISA error (t unchanged). */
int wi_tensor_materialize(wi_tensor_t *t, wi_error_t *err);
/* 1 while t has no storage (its values are a recorded write or zeros). */
int wi_tensor_is_deferred(const wi_tensor_t *t);

/* What gives a tensor its values, for `weightinit plan` and provenance. */
typedef struct wi_tensor_write_info {
    /* "uniform", "normal", "trunc_normal", "constant": a recorded write;
     * "zeros": deferred and never written; "memory": values in storage
     * (computed when written, or read from a file).  Static string. */
    const char *kind;
    /* The recorded write's float32 parameters, as the kernel uses them:
     * uniform: from, range (values from + u * range); normal: mean, std;
     * for both, p[2] is a float32 multiply applied afterwards (1: none;
     * a model file's {"randn": {"mul": S}}); trunc_normal: from, range of
     * the uniform, then scale, shift and the clamp lo, hi; constant:
     * value in p[0]. */
    double p[6];
    uint64_t draws;         /* the recorded write's 32-bit draws */
    uint64_t skipped_draws; /* draws of earlier writes never computed */
} wi_tensor_write_info_t;

/* Fills *info for t (never fails). */
void wi_tensor_write_info(const wi_tensor_t *t, wi_tensor_write_info_t *info);
/* out[0 .. count) = elements [begin, begin + count) of t, in t's dtype,
 * computed (with the threads of t's recorded generator) when t is
 * deferred, which it stays.  out is the caller's, count * element size
 * bytes.  Several threads may read one tensor at once.  0, WI_EINVAL for
 * a range outside t, WI_ENOMEM or the WEIGHTINIT_ISA error. */
int wi_tensor_read(const wi_tensor_t *t, int64_t begin, int64_t count,
                   void *out, wi_error_t *err);

/* The write counter: starts at 0, +1 for every in-place write. */
uint64_t wi_tensor_version(const wi_tensor_t *t);
void wi_tensor_bump_version(wi_tensor_t *t);

/* torch's dst.copy_(src) for tensors of the same shape: converts each
 * element to dst's dtype (float to float rounds to nearest, float to int
 * truncates, bool is 0/1) and bumps dst's version.  WI_EINVAL for a shape
 * mismatch. */
int wi_tensor_copy_(wi_tensor_t *dst, const wi_tensor_t *src, wi_error_t *err);

/* torch's t.to(dtype) for a float32 t: a new tensor (the caller frees it
 * with wi_tensor_free; t is unchanged) holding t's values rounded to
 * nearest even as torch rounds them on the CPU: overflow to +-inf,
 * -0 and subnormals as IEEE 754 says.  profile names the torch build to
 * match, which only decides NaNs: a bfloat16 NaN is 0xffff under
 * WI_RNG_AVX2 and WI_RNG_TORCH2_AVX2 (torch's vectorised kernel), 0x7fc0
 * under the default capability's profiles (c10::BFloat16); an F16 NaN
 * keeps its sign, and its payload's top 10 bits only under the
 * WI_RNG_TORCH2_* profiles (torch 1.13 drops them).  dtype F32, F16 or BF16; t
 * already of dtype gives a copy; anything else is WI_EUNSUPPORTED. */
wi_tensor_t *wi_tensor_to_dtype(const wi_tensor_t *t, wi_dtype_t dtype,
                                wi_rng_profile_t profile, wi_error_t *err);

/* 1 when both have the same ndim and sizes. */
int wi_tensor_same_shape(const wi_tensor_t *a, const wi_tensor_t *b);

/* Formats the shape as PyTorch prints it, "[2, 3]", into buf (the
 * caller's, truncated to size); returns buf. */
char *wi_shape_format(int ndim, const int64_t *shape, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
