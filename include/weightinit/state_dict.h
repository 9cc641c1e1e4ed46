/* A state dict: an ordered list of (name, tensor) pairs, as PyTorch's
 * state_dict() OrderedDict.  Used for what a module tree saves and for
 * what a checkpoint file holds.  Each entry either owns its tensor
 * (appended with wi_state_dict_append_new) or borrows it (the tensor must
 * then outlive the state dict). */
#ifndef WEIGHTINIT_STATE_DICT_H
#define WEIGHTINIT_STATE_DICT_H

#include <stddef.h>


#include <weightinit/error.h>
#include <weightinit/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wi_state_dict wi_state_dict_t;

/* A new empty state dict, owned by the caller (wi_state_dict_free); NULL
 * only when out of memory. */
wi_state_dict_t *wi_state_dict_new(void);
/* Frees the list, its names and the tensors it owns.  NULL allowed. */
void wi_state_dict_free(wi_state_dict_t *sd);

/* Appends (name copied, tensor stolen even on failure).  A duplicate name
 * is WI_EINVAL. */
int wi_state_dict_append_new(wi_state_dict_t *sd, const char *name,
                             wi_tensor_t *t, wi_error_t *err);
/* Appends (name copied, tensor borrowed). */
int wi_state_dict_append(wi_state_dict_t *sd, const char *name,
                         wi_tensor_t *t, wi_error_t *err);

size_t wi_state_dict_size(const wi_state_dict_t *sd);
/* Borrowed; i < size. */
const char *wi_state_dict_name(const wi_state_dict_t *sd, size_t i);
wi_tensor_t *wi_state_dict_tensor(const wi_state_dict_t *sd, size_t i);
/* Borrowed tensor, NULL when absent. */
wi_tensor_t *wi_state_dict_find(const wi_state_dict_t *sd, const char *name);
/* The position of name (0 with *index set), or WI_ENOTFOUND. */
int wi_state_dict_index(const wi_state_dict_t *sd, const char *name,
                        size_t *index);

/* What safetensors' save_model writes for a model with tied weights: a
 * new state dict borrowing sd's tensors (sd must outlive it), in sd's
 * order, with each tensor that several names share (the same
 * wi_tensor_t, or the same view of one storage: same memory, offset and
 * shape; not empty) kept once, under its smallest name in byte order
 * (_remove_duplicate_names: sorted(names)[0]).  Other views of one
 * storage (slices a .pth reader kept) all stay: safetensors writes each
 * in full.  Each dropped name
 * is recorded as metadata[dropped] = kept, unless metadata (may be NULL;
 * a JSON object) has that key already.  NULL with err on failure. */
wi_state_dict_t *wi_state_dict_remove_duplicates(const wi_state_dict_t *sd,
                                                 wi_value_t *metadata,
                                                 wi_error_t *err);
/* 1 when wi_state_dict_remove_duplicates would drop a name of sd, 0 when
 * it would keep them all (a caller can then write sd itself and spare
 * the copy: a model of a million tensors), WI_ENOMEM. */
int wi_state_dict_has_duplicates(const wi_state_dict_t *sd);

/* module.to(dtype) before state_dict(): a new state dict with sd's names
 * in sd's order, each F32 tensor converted with wi_tensor_to_dtype (owned
 * by the new dict; a deferred tensor (tensor.h) gets a deferred converted
 * tensor that reads it, so writing the result streams and converts piece
 * by piece), every other tensor (integer buffers) borrowed from sd, so
 * sd's tensors must outlive the result.  A tensor under several names
 * (tied weights) is converted once and stays shared.  dtype F32, F16 or
 * BF16 (else WI_EUNSUPPORTED).  NULL with err on failure. */
wi_state_dict_t *wi_state_dict_to_dtype(const wi_state_dict_t *sd,
                                        wi_dtype_t dtype,
                                        wi_rng_profile_t profile,
                                        wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
