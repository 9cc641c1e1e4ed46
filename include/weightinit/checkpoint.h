/* Checkpoint files: safetensors (read and write) and PyTorch torch.save
 * files (read: the zip format and the legacy stream), read safely:
 * a hostile file gets an error, never a crash, never code execution. */
#ifndef WEIGHTINIT_CHECKPOINT_H
#define WEIGHTINIT_CHECKPOINT_H

#include <stdio.h>

#include <jansson.h>

#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>
#include <weightinit/state_dict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes sd as safetensors to fp: tensors in sd's order with their own
 * dtypes, metadata (a JSON object of string values, borrowed, may be
 * NULL) as "__metadata__".  name (may be NULL) names the output in
 * messages; a failed write says why (strerror: "No space left on
 * device").  fp stays open; stream errors may also surface only at its
 * flush (wi_output_group_commit checks them). */
int wi_safetensors_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                         const json_t *metadata, wi_error_t *err);

/* wi_safetensors_write to path as a one-file wi_output_group_t
 * (output.h): through a hidden temporary renamed only when complete, so
 * on failure nothing (not even a partial file) is left at path. */
int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const json_t *metadata, wi_error_t *err);

/* Reads a checkpoint (safetensors, torch.save zip, or legacy torch.save),
 * detected from its first bytes.  Returns a new state dict: the file's
 * tensors in file order; for torch files whose top-level dict has a
 * "state_dict" key, that dict's tensors (MMEngine's unwrapping).  Keys are
 * otherwise unchanged (no "module." stripping).  Tensors keep their own
 * dtype and shape, values row-major (views and strides resolved).
 * NULL with err set (source = path, path = tensor or key) on any failure. */
wi_state_dict_t *wi_checkpoint_load(const char *path, wi_error_t *err);

/* The local file for an http:// or https:// checkpoint URL: downloaded
 * once into the cache folder ($WEIGHTINIT_CACHE, else
 * $XDG_CACHE_HOME/weightinit/checkpoints, else
 * ~/.cache/weightinit/checkpoints) under the URL's last path component,
 * as torch.hub names it, through a temporary file renamed only when
 * complete.  Later calls reuse the file without a request.  Progress goes
 * to the context's progress callback.  Returns a malloc'd path. */
char *wi_checkpoint_fetch(const char *url, wi_context_t *ctx, wi_error_t *err);

/* MMEngine's load_state_dict(module, sd, strict=False): copies every
 * tensor of sd whose key names a parameter or buffer of m with the same
 * shape (converting dtypes as torch's copy_ does); size mismatches,
 * unexpected keys and missing keys (ignoring num_batches_tracked) are
 * reported in one WARNING worded as MMEngine words it.  With strict, the
 * same message is an error instead and nothing is reported as a warning. */
int wi_load_state_dict(wi_module_t *m, const wi_state_dict_t *sd, int strict,
                       wi_context_t *ctx, wi_error_t *err);

/* MMEngine's Pretrained loading: a local path or an http(s) URL; the
 * checkpoint's "state_dict" unwrapped; without prefix, a leading "module."
 * stripped from keys; with prefix (a trailing '.' added when missing),
 * only the keys under it, stripped, and an error when none is.  Then
 * wi_load_state_dict(strict=0). */
int wi_load_checkpoint(wi_module_t *m, const char *checkpoint,
                       const char *prefix, wi_context_t *ctx, wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
