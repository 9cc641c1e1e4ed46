/* Tensor facts shared by core files; not part of the ABI. */
#ifndef WI_TENSOR_INTERNAL_H
#define WI_TENSOR_INTERNAL_H

#include <stdint.h>

#include "base/internal.h"

/* Version bumps of all tensors of the process so far.  The engine compares
 * it with the bumps it sees in a subtree to know that nothing outside the
 * subtree was written, without looking at every other tensor. */
WI_INTERNAL uint64_t wi_priv_tensor_writes(void);

#include <weightinit/rng.h>
#include <weightinit/tensor.h>

struct wi_priv_rec;
/* 1 when a full write to t is recorded rather than computed: t is
 * deferred (its storage never handed out) and F32. */
WI_INTERNAL int wi_priv_tensor_records(const wi_tensor_t *t);
/* Makes rec (stolen) t's values, dropping the previous record; t must be
 * one that records. */
WI_INTERNAL void wi_priv_tensor_set_rec(wi_tensor_t *t,
                                        struct wi_priv_rec *rec);
/* The record behind a deferred t (NULL: zeros, or t is in memory). */
WI_INTERNAL const struct wi_priv_rec *wi_priv_tensor_rec(const wi_tensor_t *t);
/* wi_tensor_read with `threads` threads (0: as t's generator allows). */
WI_INTERNAL int wi_priv_tensor_read(const wi_tensor_t *t, int64_t begin,
                                    int64_t count, void *out, int threads,
                                    wi_error_t *err);
/* A new tensor equal to t (copy.deepcopy): a deferred t's record is
 * copied, nothing computed.  NULL with err. */
WI_INTERNAL wi_tensor_t *wi_priv_tensor_clone(const wi_tensor_t *t,
                                              wi_error_t *err);
/* A new deferred tensor whose values are src's (F32) converted to dtype
 * as torch's .to(dtype) rounds under profile, computed as read: src is
 * borrowed and must outlive it (or its materialisation).  Eager (values
 * converted now) under WEIGHTINIT_DEFER=0.  NULL with err. */
WI_INTERNAL wi_tensor_t *wi_priv_tensor_convert_view(const wi_tensor_t *src,
                                                     wi_dtype_t dtype,
                                                     wi_rng_profile_t profile,
                                                     wi_error_t *err);
/* The source of a deferred view (and its profile), else NULL. */
WI_INTERNAL const wi_tensor_t *wi_priv_tensor_view_source(const wi_tensor_t *t,
                                                          wi_rng_profile_t *profile);
/* t's elements multiplied by s in float32 (torch's tensor * s), t F32:
 * a recorded write records the multiply, anything else is computed (and
 * materialised) now.  0, WI_ENOMEM or WI_EINVAL with err; the caller
 * bumps the version. */
WI_INTERNAL int wi_priv_tensor_scale(wi_tensor_t *t, float s,
                                     wi_error_t *err);
/* t's storage for a write of every element: a deferred t gets fresh
 * storage without computing values about to be overwritten.  NULL with
 * err when out of memory. */
WI_INTERNAL void *wi_priv_tensor_overwrite_data(wi_tensor_t *t,
                                                wi_error_t *err);

/* Which storage t's elements are in, as torch sees storages: one id for
 * all tensors that share one (the same tensor under several names, as a
 * tie; tensors over the same memory; views the .pth reader kept over one
 * storage), NULL for a tensor of 0 elements (torch's empty storages have
 * no data).  *offset: t's first byte in the storage; *nbytes: the
 * storage's size when known (set by wi_priv_tensor_set_storage), else
 * t's own. */
WI_INTERNAL const void *wi_priv_tensor_storage(const wi_tensor_t *t,
                                               uint64_t *offset,
                                               uint64_t *nbytes);
/* Marks t as the bytes [offset, offset + t's size) of the shared
 * storage `storage` of nbytes bytes (an id only: never dereferenced).
 * 0, or WI_ENOMEM (t unchanged). */
WI_INTERNAL int wi_priv_tensor_set_storage(wi_tensor_t *t, const void *storage,
                                           uint64_t offset, uint64_t nbytes);

#endif
