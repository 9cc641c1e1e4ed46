/* Reading checkpoint files: safetensors and PyTorch torch.save files (the
 * zip format and the legacy stream), read safely: a hostile file gets an
 * error, never a crash, never code execution.  Writing them is
 * weightinit/checkpoint_write.h (included here). */
#ifndef WEIGHTINIT_CHECKPOINT_H
#define WEIGHTINIT_CHECKPOINT_H

#include <stdio.h>


#include <weightinit/checkpoint_write.h>
#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>
#include <weightinit/output.h>
#include <weightinit/state_dict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a checkpoint (safetensors, torch.save zip, or legacy torch.save),
 * detected from its first bytes, or a sharded checkpoint's index
 * (NAME.index.json: {"weight_map": {tensor: shard}}, shards beside it,
 * each tensor checked to be in the shard the index names).  Returns a new
 * state dict: the file's tensors in file order (weight_map order for an
 * index), owned by the caller (wi_state_dict_free); for torch files
 * whose top-level dict has a "state_dict" key,
 * that dict's tensors (MMEngine's unwrapping).  Keys are otherwise
 * unchanged (no "module." stripping).  Tensors keep their own dtype and
 * shape, values row-major (views and strides resolved).
 * path must name a regular file: a directory, FIFO, device or socket is
 * refused (WI_EFILE) without waiting on it, as is a missing file
 * ("PATH can not be found.") or one that cannot be opened (strerror).
 * The file is read into memory (as torch.load does), so nothing another
 * process does to it later can affect the result; a file that is
 * truncated or rewritten while being read is an error (WI_EIO, "changed
 * while being read").  NULL with err set (source = path, path = tensor or
 * key) on any failure: WI_EIO/WI_ENOMEM when reading failed, other codes
 * when the file is not a (supported, intact) checkpoint. */
wi_state_dict_t *wi_checkpoint_load(const char *path, wi_error_t *err);

/* wi_checkpoint_load without the copy: the file is mapped (MAP_PRIVATE)
 * and aligned tensors of a safetensors file point into the mapping, which
 * lives as long as any of them.  Contract: the caller makes sure that no
 * process truncates the file while the state dict (or any tensor taken
 * from it) is alive.  A read of a page the truncation removed raises
 * SIGBUS in the reading thread, which kills the process unless the caller
 * handles it; the library installs no signal handler.  Replacing the file
 * by rename (torch.save to a new name, wi_safetensors_save, a download)
 * is safe: the mapping keeps the old file.  Writes into the file by
 * another process may or may not show in tensors not yet read. */
wi_state_dict_t *wi_checkpoint_load_mapped(const char *path, wi_error_t *err);

/* The tensors of one dict of a torch checkpoint, named relative to it.
 * key is the dict's dotted path ("model", "state_dict", "model.ema";
 * "" = the top level; a safetensors file or an index only has "").  key
 * NULL chooses automatically: checkpoint["state_dict"] when it is a dict
 * (MMEngine, Lightning), else the one top-level entry that is a dict
 * holding tensors ("model" as timm and DeiT save, "ema", "module",
 * "net", ...) when the top level itself holds none, else the top level.
 * Several such entries are WI_EINVAL naming them.  *chosen (may be NULL)
 * receives the path used (malloc'd; the caller frees it).  The result,
 * possibly empty, is the caller's (wi_state_dict_free). */
wi_state_dict_t *wi_checkpoint_load_key(const char *path, const char *key,
                                        char **chosen, wi_error_t *err);

/* Every tensor of a checkpoint at any depth of nested dicts, lists and
 * tuples, named by its full dotted key path ("model.conv.weight" for
 * checkpoint["model"]["conv.weight"]; list items and int keys by
 * number).  *info (may
 * be NULL) receives a new JSON object (the caller's reference): "format" ("safetensors",
 * "torch-zip", "torch-legacy", "sharded"), "kind" of the top-level value,
 * "items" (torch), "metadata" (safetensors __metadata__, an index's
 * metadata), "shards" (an index), and "structure": the non-tensor values
 * one and two levels down (at most 200), each {"path", "kind", and "value" for
 * numbers/strings (60 characters at most), "items"/"tensors" for
 * containers, "class" for objects weightinit does not build}. */
/* The state dict is the caller's (wi_state_dict_free). */
wi_state_dict_t *wi_checkpoint_load_all(const char *path, wi_value_t **info,
                                        wi_error_t *err);

/* The local file for an http:// or https:// checkpoint URL: downloaded
 * once into the cache folder ($WEIGHTINIT_CACHE, else
 * $XDG_CACHE_HOME/weightinit/checkpoints, else
 * ~/.cache/weightinit/checkpoints) as "<h>-<name>": h = 16 hex digits of
 * the 64-bit FNV-1a hash of the URL (up to any '#'), so URLs that share a
 * file name do not share an entry, and name = the URL's last path
 * component (bytes other than letters, digits and "._-+" as '_').  The
 * body goes to a temporary file in that folder, renamed only when the
 * transfer is complete (a body shorter than its Content-Length is an
 * error), within the size limit ($WEIGHTINIT_MAX_DOWNLOAD bytes, suffixes
 * K, M, G, T allowed; default 64G), and readable as a checkpoint by
 * wi_checkpoint_load (an HTML page sent with status 200 is an error).
 * Later calls reuse the file without a request, as torch.hub does.
 * Progress goes to the context's progress callback.  Returns a malloc'd
 * path (the caller frees it), or NULL with err set (WI_EIO: the download failed; WI_EINVAL: the
 * URL or WEIGHTINIT_MAX_DOWNLOAD is unusable). */
char *wi_checkpoint_fetch(const char *url, wi_context_t *ctx, wi_error_t *err);

/* Loading into a module (named wi_module_load_*: the wi_checkpoint_*
 * functions above read or write files and touch no module).
 *
 * MMEngine's load_state_dict(module, sd, strict=False): copies every
 * tensor of sd whose key names a parameter or buffer of m with the same
 * shape (converting dtypes as torch's copy_ does); size mismatches,
 * unexpected keys and missing keys (ignoring num_batches_tracked) are
 * reported in one WARNING worded as MMEngine words it.  With strict, the
 * same message is an error instead and nothing is reported as a warning. */
int wi_module_load_state_dict(wi_module_t *m, const wi_state_dict_t *sd,
                              int strict, wi_context_t *ctx, wi_error_t *err);

/* MMEngine's Pretrained loading: a local path or an http(s) URL; the
 * checkpoint's "state_dict" unwrapped; without prefix, a leading "module."
 * stripped from keys; with prefix (a trailing '.' added when missing),
 * only the keys under it, stripped, and an error when none is.  Then
 * wi_module_load_state_dict(strict=0).  A local path is read by
 * wi_checkpoint_load: a missing one is WI_EFILE "PATH can not be found."
 * (MMEngine's FileNotFoundError), as is one that is not a regular file. */
int wi_module_load_pretrained(wi_module_t *m, const char *checkpoint,
                              const char *prefix, wi_context_t *ctx,
                              wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
