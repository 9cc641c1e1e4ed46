/* Checkpoint files: safetensors and PyTorch torch.save files (read: the
 * zip format and the legacy stream; written: the zip format), read
 * safely: a hostile file gets an error, never a crash, never code
 * execution. */
#ifndef WEIGHTINIT_CHECKPOINT_H
#define WEIGHTINIT_CHECKPOINT_H

#include <stdio.h>

#include <jansson.h>

#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>
#include <weightinit/output.h>
#include <weightinit/state_dict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The formats a checkpoint can be written in. */
typedef enum wi_checkpoint_format {
    WI_CHECKPOINT_SAFETENSORS = 0, /* .safetensors */
    WI_CHECKPOINT_PTH = 1          /* .pth, .pt, .bin: torch.save's zip */
} wi_checkpoint_format_t;

/* The format named by path's extension (case-insensitive): .safetensors,
 * or .pth/.pt/.bin for torch.save's format.  Any other name is WI_EINVAL
 * with a message listing the formats.  fmt may be NULL (a check only). */
int wi_checkpoint_format_from_path(const char *path,
                                   wi_checkpoint_format_t *fmt,
                                   wi_error_t *err);

/* Writes sd to fp as torch.save(model.state_dict(), f) does (zip format,
 * records stored and 64-byte aligned, pickle protocol 2): an OrderedDict
 * of sd's tensors in sd's order, each with its own dtype; tensors in
 * one storage share one storage record, written once: the same tensor
 * under several names (tied weights), tensors of one dtype over the same
 * memory, views the readers kept over one storage of a .pth (each at its
 * offset, as torch.load gave them).  Loads with torch.load(f, weights_only=True) in torch 1.13
 * and 2.x.  The folder inside the zip is name's stem ("model/" for
 * "model.pth"), else "archive/".  The archive is built in memory and
 * then streamed, so fp may be a pipe (the file's size is needed as
 * memory once more).  name is also used in messages. */
int wi_pth_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                 wi_error_t *err);

/* Writes sd to fp in fmt; metadata (borrowed, may be NULL) goes into
 * safetensors' __metadata__ and is not stored in .pth.  metadata must
 * be what safetensors' __metadata__ may be, an object of string values,
 * for either format: anything else is WI_EINVAL naming the entry
 * ("__metadata__.seed: expected a string ..."), nothing written. */
int wi_checkpoint_write(FILE *fp, const char *name, wi_checkpoint_format_t fmt,
                        const wi_state_dict_t *sd, const json_t *metadata,
                        wi_error_t *err);

/* wi_checkpoint_write reporting its progress (WI_TASK_WRITE: bytes,
 * tensors, parameters) to ctx's task progress callback (context.h);
 * ctx may be NULL. */
int wi_checkpoint_write_progress(FILE *fp, const char *name,
                                 wi_checkpoint_format_t fmt,
                                 const wi_state_dict_t *sd,
                                 const json_t *metadata,
                                 const wi_context_t *ctx, wi_error_t *err);

/* A shard size limit as Hugging Face writes it (save_pretrained's
 * max_shard_size): digits, optionally with a fraction, then a unit, case
 * ignored: none or B (bytes), KB, MB, GB, TB (powers of 1000), KiB, MiB,
 * GiB, TiB (powers of 1024); "5GB" = 5000000000.  A fraction is cut to
 * whole bytes (int(1.5 * 10**9)).  WI_EINVAL for anything else, 0, more
 * than 2^63 bytes, and a lowercase final b ("5Gb": transformers reads
 * bits, huggingface_hub bytes). */
int wi_checkpoint_parse_size(const char *text, uint64_t *bytes,
                             wi_error_t *err);

/* Writes sd to path in fmt as Hugging Face's save_pretrained(
 * max_shard_size=max_shard_bytes) does, every file opened in g (which
 * the caller commits, so that all files of a run appear together or not
 * at all).  The tensors are split greedily in sd's order
 * (huggingface_hub's split_state_dict_into_shards): a tensor joins the
 * current shard unless that would take it over the limit, which closes
 * the shard; a tensor larger than the limit gets a shard of its own,
 * numbered when it is met (before the shard still being filled).  A
 * tensor that shares the storage of an earlier one (a tie) is skipped,
 * then put in that tensor's shard, after the shard's own tensors, and
 * counted once in total_size (huggingface_hub keys storages by data
 * pointer, which torch leaves 0 for every empty tensor: the empty
 * tensors go to the first one's shard).  One
 * shard (or max_shard_bytes 0): one file, path itself.  Several: for
 * path DIR/STEM.EXT, DIR/STEM-00001-of-0000N.EXT ... and
 * DIR/STEM.EXT.index.json, {"metadata": {"total_size": data bytes},
 * "weight_map": {tensor: shard file}} with sorted keys and 2-space
 * indentation, as transformers writes it.  Every safetensors shard gets
 * metadata (borrowed, may be NULL) as its __metadata__.  Progress
 * (WI_TASK_WRITE, all shards as one task) goes to ctx (may be NULL).
 * Files of an earlier save that this one leaves in place (shards
 * STEM-DDDDD-of-DDDDD.EXT of another count, path itself beside a new
 * index, an old index beside a single file) are named in WARNINGs
 * through ctx, sorted by name, never deleted (Hugging Face deletes stale
 * shards).  The shards are opened one at a time, each flushed, synced
 * (unless g does not sync) and closed before the next, so any number of
 * shards needs one file descriptor.  One file: when g already has an
 * output opened as path (wi_output_group_open's name), it is written
 * through that stream, so a caller can open its output before the work
 * (to refuse a bad one early) and still get these checks.
 * *n_files (may be NULL) receives the number of data files: 1 when
 * unsharded.  Errors as wi_output_group_open and wi_checkpoint_write
 * (bad metadata before any file is opened);
 * nothing is renamed into place before the caller's commit. */
int wi_checkpoint_write_sharded(wi_output_group_t *g, const char *path,
                                wi_checkpoint_format_t fmt,
                                const wi_state_dict_t *sd,
                                const json_t *metadata,
                                uint64_t max_shard_bytes,
                                const wi_context_t *ctx, size_t *n_files,
                                wi_error_t *err);

/* wi_checkpoint_write_sharded into a group of its own, committed: every
 * file appears, or none. */
int wi_checkpoint_save_sharded(const char *path, wi_checkpoint_format_t fmt,
                               const wi_state_dict_t *sd,
                               const json_t *metadata,
                               uint64_t max_shard_bytes,
                               const wi_context_t *ctx, size_t *n_files,
                               wi_error_t *err);

/* wi_checkpoint_write to a temporary file beside path, renamed onto path
 * only when complete: on failure nothing is left at path. */
int wi_checkpoint_save(const char *path, wi_checkpoint_format_t fmt,
                       const wi_state_dict_t *sd, const json_t *metadata,
                       wi_error_t *err);

/* Writes sd as safetensors to fp: tensors in sd's order with their own
 * dtypes, metadata (a JSON object of string values, borrowed, may be
 * NULL; anything else is WI_EINVAL naming the entry) as "__metadata__".  name (may be NULL) names the output in
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
wi_state_dict_t *wi_checkpoint_load_all(const char *path, json_t **info,
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
