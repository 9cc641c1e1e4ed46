/* The writers' shared pieces: progress reporting across the files of one
 * write (all shards), and the writers' variants that report it. */
#ifndef WI_WRITE_INTERNAL_H
#define WI_WRITE_INTERNAL_H

#include <stdio.h>

#include <jansson.h>

#include "base/internal.h"

#include <weightinit/checkpoint_write.h>
#include <weightinit/context.h>
#include <weightinit/output.h>

/* The stream of g's output opened as path (the label given to
 * wi_output_group_open), else NULL: a caller that opened its output
 * early, to refuse a bad one before any work, hands it to the writer
 * that is given the path. */
WI_INTERNAL FILE *wi_priv_output_group_stream(const wi_output_group_t *g,
                                              const char *path);
/* Finishes g's output fp before the commit: flushes it, checks for write
 * errors, fsyncs it (unless the group does not sync) and closes it; the
 * commit then only renames it.  So that a write of many files (shards)
 * holds one open at a time.  0, WI_EIO, or WI_EINVAL when fp is not an
 * open output of g. */
WI_INTERNAL int wi_priv_output_group_close(wi_output_group_t *g, FILE *fp,
                                           wi_error_t *err);

/* Bytes between two reports within a tensor. */
#define WI_PROGRESS_STEP (4u << 20)

/* Elements the writers compute at a time for a deferred tensor: enough
 * for every thread of the fill to get its share, 16 MB of float32. */
#define WI_WRITE_PIECE ((int64_t)1 << 22)

/* Elements [begin, begin + count) of t as bytes: a pointer into t's
 * storage when it is in memory, else the values computed into scratch
 * (at least count element sizes; scratch may be NULL when t is in
 * memory).  NULL with err when computing fails. */
WI_INTERNAL const void *wi_priv_tensor_bytes(const wi_tensor_t *t,
                                             int64_t begin, int64_t count,
                                             void *scratch, wi_error_t *err);
/* When fp is a regular file: WI_EIO (err naming name) unless its file
 * system has room for `bytes` more, so that a model larger than the disk
 * fails before writing, not after filling it.  0 otherwise. */
WI_INTERNAL int wi_priv_check_space(FILE *fp, const char *name,
                                    uint64_t bytes, wi_error_t *err);
/* The bytes of sd's tensors. */
WI_INTERNAL uint64_t wi_priv_state_dict_bytes(const wi_state_dict_t *sd);

/* A buffer of WI_WRITE_PIECE elements of the widest dtype in sd when a
 * tensor of sd is deferred, else NULL with *none = 1 (nothing to
 * compute).  Free with free(). */
WI_INTERNAL void *wi_priv_piece_buffer(const wi_state_dict_t *sd, int *none);

typedef struct wi_priv_progress {
    const wi_context_t *ctx; /* NULL: nothing to report (the cheap path) */
    wi_task_progress_t p;
    /* Writer threads: the context generator's setting (0: all cores), -1
     * without a context (WEIGHTINIT_THREADS, else all cores). */
    int threads;
    int headers_only; /* the context's wi_context_set_headers_only */
} wi_priv_progress_t;

/* Writes the bytes of sd's tensors, packed in order from byte `base` of
 * fd (a regular file), with pr's threads: each takes the next piece
 * (WI_WRITE_PIECE elements of one tensor), computes it into its own
 * buffer when the tensor is deferred, and pwrites it at its place, so
 * computing and copying into the page cache use every core.  pr (may be
 * NULL) is told of each piece under a lock.  0, WI_EIO with err naming
 * name, or the computation's error. */
WI_INTERNAL int wi_priv_pwrite_tensors(int fd, uint64_t base,
                                       const wi_state_dict_t *sd,
                                       wi_priv_progress_t *pr,
                                       const char *name, wi_error_t *err);

/* Totals from sd; pr->ctx stays NULL when ctx has no task callback, so
 * the writers skip all reporting. */
WI_INTERNAL void wi_priv_progress_start(wi_priv_progress_t *pr,
                                        const wi_context_t *ctx,
                                        const char *name,
                                        const wi_state_dict_t *sd);
/* Counts bytes and params written (tensors: completed) and reports. */
WI_INTERNAL void wi_priv_progress_add(wi_priv_progress_t *pr, uint64_t bytes,
                                      uint64_t params, uint64_t tensors);
/* The last report (finished = 1). */
WI_INTERNAL void wi_priv_progress_finish(wi_priv_progress_t *pr);

/* 0 when metadata is NULL or what safetensors' __metadata__ may be: an
 * object of strings (its readers, ours too, refuse anything else), else
 * WI_EINVAL naming name and the entry at fault. */
WI_INTERNAL int wi_priv_check_metadata(const json_t *metadata, const char *name,
                                       wi_error_t *err);

/* wi_safetensors_write / wi_pth_write / wi_checkpoint_write reporting to
 * pr (NULL: no reports). */
WI_INTERNAL int wi_priv_safetensors_write(FILE *fp, const char *name,
                                          const wi_state_dict_t *sd,
                                          const json_t *metadata,
                                          wi_priv_progress_t *pr,
                                          wi_error_t *err);
WI_INTERNAL int wi_priv_pth_write(FILE *fp, const char *name,
                                  const wi_state_dict_t *sd,
                                  wi_priv_progress_t *pr, wi_error_t *err);
WI_INTERNAL int wi_priv_checkpoint_write(FILE *fp, const char *name,
                                         wi_checkpoint_format_t fmt,
                                         const wi_state_dict_t *sd,
                                         const json_t *metadata,
                                         wi_priv_progress_t *pr,
                                         wi_error_t *err);

#endif
