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
#include <weightinit/partition.h>

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

/* When fp is a regular file: WI_EIO (err naming name) unless its file
 * system has room for `bytes` more, so that a model larger than the disk
 * fails before writing, not after filling it.  0 otherwise. */
WI_INTERNAL int wi_priv_check_space(FILE *fp, const char *name,
                                    uint64_t bytes, wi_error_t *err);
/* The bytes of sd's tensors. */
WI_INTERNAL uint64_t wi_priv_state_dict_bytes(const wi_state_dict_t *sd);

/* Where a file's tensor bytes go, computed once for the header, the
 * free-space check and the data: one extent per tensor of sd, packed in
 * its order, offsets counted from the first tensor byte. */
typedef struct wi_priv_layout {
    const wi_state_dict_t *sd; /* borrowed */
    wi_extent_t *ext;          /* owned: wi_priv_layout_free */
    size_t n_ext;
    uint64_t bytes; /* of all tensors */
} wi_priv_layout_t;

/* Lays out sd: 0 or WI_ENOMEM with err. */
WI_INTERNAL int wi_priv_layout(wi_priv_layout_t *l, const wi_state_dict_t *sd,
                               wi_error_t *err);
WI_INTERNAL void wi_priv_layout_free(wi_priv_layout_t *l);

typedef struct wi_priv_progress {
    const wi_context_t *ctx; /* NULL: nothing to report (the cheap path) */
    wi_task_progress_t p;
    /* Writer threads: the context generator's setting (0: all cores), -1
     * without a context (WEIGHTINIT_THREADS, else all cores). */
    int threads;
    int headers_only; /* the context's wi_context_set_headers_only */
} wi_priv_progress_t;

/* Writes the tensor bytes of l at fp's position (after the header):
 * through the piece writer with pr's threads, at
 * offsets into a regular file, in order into a stream (pipe, FIFO,
 * device); with pr->headers_only, a hole of their size.  fp then stands
 * at their end.  pr (may be NULL) is told of each piece.  0, WI_EIO with
 * err naming name, or the computation's error. */
WI_INTERNAL int wi_priv_write_tensor_data(FILE *fp, const char *name,
                                          const wi_priv_layout_t *l,
                                          wi_priv_progress_t *pr, wi_error_t *err);

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
