/* The writers' shared pieces: progress reporting across the files of one
 * write (all shards), and the writers' variants that report it. */
#ifndef WI_WRITE_INTERNAL_H
#define WI_WRITE_INTERNAL_H

#include <stdio.h>

#include <jansson.h>

#include "base/internal.h"

#include <weightinit/checkpoint.h>
#include <weightinit/context.h>

/* Bytes between two reports within a tensor. */
#define WI_PROGRESS_STEP (4u << 20)

typedef struct wi_priv_progress {
    const wi_context_t *ctx; /* NULL: nothing to report (the cheap path) */
    wi_task_progress_t p;
} wi_priv_progress_t;

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
