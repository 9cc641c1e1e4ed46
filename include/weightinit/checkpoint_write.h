/* Writing checkpoint files: safetensors and torch.save's zip format, to a
 * stream, a file (atomically) or Hugging Face-style shards, with the
 * values of deferred tensors computed as their bytes are written. */
#ifndef WEIGHTINIT_CHECKPOINT_WRITE_H
#define WEIGHTINIT_CHECKPOINT_WRITE_H

#include <stdio.h>


#include <weightinit/error.h>
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
                        const wi_state_dict_t *sd, const wi_value_t *metadata,
                        wi_error_t *err);

/* wi_checkpoint_write reporting its progress (WI_TASK_WRITE: bytes,
 * tensors, parameters) to ctx's task progress callback (context.h);
 * ctx may be NULL. */
int wi_checkpoint_write_progress(FILE *fp, const char *name,
                                 wi_checkpoint_format_t fmt,
                                 const wi_state_dict_t *sd,
                                 const wi_value_t *metadata,
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
                                const wi_value_t *metadata,
                                uint64_t max_shard_bytes,
                                const wi_context_t *ctx, size_t *n_files,
                                wi_error_t *err);

/* wi_checkpoint_write_sharded into a group of its own, committed: every
 * file appears, or none. */
int wi_checkpoint_save_sharded(const char *path, wi_checkpoint_format_t fmt,
                               const wi_state_dict_t *sd,
                               const wi_value_t *metadata,
                               uint64_t max_shard_bytes,
                               const wi_context_t *ctx, size_t *n_files,
                               wi_error_t *err);

/* wi_checkpoint_write to a temporary file beside path, renamed onto path
 * only when complete: on failure nothing is left at path. */
int wi_checkpoint_save(const char *path, wi_checkpoint_format_t fmt,
                       const wi_state_dict_t *sd, const wi_value_t *metadata,
                       wi_error_t *err);

/* Writes sd as safetensors to fp: tensors in sd's order with their own
 * dtypes, metadata (a JSON object of string values, borrowed, may be
 * NULL; anything else is WI_EINVAL naming the entry) as "__metadata__".  name (may be NULL) names the output in
 * messages; a failed write says why (strerror: "No space left on
 * device").  fp stays open; stream errors may also surface only at its
 * flush (wi_output_group_commit checks them). */
int wi_safetensors_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                         const wi_value_t *metadata, wi_error_t *err);

/* wi_safetensors_write to path as a one-file wi_output_group_t
 * (output.h): through a hidden temporary renamed only when complete, so
 * on failure nothing (not even a partial file) is left at path. */
int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const wi_value_t *metadata, wi_error_t *err);

#ifdef __cplusplus
}
#endif

#endif
