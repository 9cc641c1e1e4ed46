/* A context bundles what an initialisation run needs: the generator, the
 * registry of initializer and module types, and the log callback.  The
 * library never prints: it reports through the callback. */
#ifndef WEIGHTINIT_CONTEXT_H
#define WEIGHTINIT_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/rng.h>
#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* message is borrowed for the duration of the call; one logical record,
 * which may span lines (MMEngine's per-parameter listing does). */
typedef void (*wi_log_fn)(wi_log_level_t level, const char *message,
                          void *user_data);

/* A new context borrowing g (which must outlive it) and using the
 * process-wide default registry.  NULL only when out of memory. */
wi_context_t *wi_context_new(wi_generator_t *g);
void wi_context_free(wi_context_t *ctx);

/* The generator the context borrows (owned by the caller of
 * wi_context_new). */
wi_generator_t *wi_context_generator(const wi_context_t *ctx);
/* Borrowed registry (the caller keeps owning it; it must outlive ctx);
 * NULL restores the process-wide default.  The accessor returns the one in
 * use, borrowed (the default is the library's, never freed by callers). */
void wi_context_set_registry(wi_context_t *ctx, wi_registry_t *reg);
wi_registry_t *wi_context_registry(const wi_context_t *ctx);

/* Threads for large tensors (wi_generator_set_threads on the context's
 * generator): 0 = all cores, -1 = WEIGHTINIT_THREADS or all cores. */
void wi_context_set_threads(wi_context_t *ctx, int threads);

/* 1: the writers given ctx (wi_checkpoint_write_progress,
 * wi_checkpoint_write_sharded) write each safetensors file's header, and
 * a shard index, but none of its tensor bytes: the file gets its full
 * size with the data left a hole, for the caller to fill at the offsets
 * of wi_extents_from_safetensors (partition.h), from this process or
 * others (docs/mpi.md).  .pth is then WI_EUNSUPPORTED.  Default 0. */
void wi_context_set_headers_only(wi_context_t *ctx, int on);

/* Installs the log callback (NULL = discard everything). */
void wi_context_set_log(wi_context_t *ctx, wi_log_fn fn, void *user_data);
void wi_context_log(const wi_context_t *ctx, wi_log_level_t level,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Progress of a long transfer (a checkpoint download): bytes done and
 * the total (0 when unknown). */
typedef void (*wi_progress_fn)(uint64_t done, uint64_t total, void *user_data);
void wi_context_set_progress(wi_context_t *ctx, wi_progress_fn fn,
                             void *user_data);
void wi_context_progress(const wi_context_t *ctx, uint64_t done,
                         uint64_t total);

/* Progress of long work for a progress bar: writing a checkpoint
 * (bytes, tensors and parameters), and downloads (bytes only).  The
 * struct is the library's, valid for the call; fields may be appended in
 * later versions.  A total of 0 means unknown. */
typedef enum wi_task {
    WI_TASK_DOWNLOAD = 1, /* a checkpoint download */
    WI_TASK_WRITE = 2     /* writing checkpoint files (all shards of one) */
} wi_task_t;
typedef struct wi_task_progress {
    wi_task_t task;
    const char *name; /* the output being written ("" for a download); borrowed */
    uint64_t bytes_done, bytes_total;
    uint64_t tensors_done, tensors_total;
    uint64_t params_done, params_total; /* elements */
    int finished; /* 1 on the last report of a task (written or failed) */
} wi_task_progress_t;
typedef void (*wi_task_progress_fn)(const wi_task_progress_t *p,
                                    void *user_data);
/* Installs the task progress callback (NULL = none).  It gets the write
 * progress (at least once per tensor and per 4 MiB) and the downloads
 * that wi_context_set_progress's callback also gets; the two are
 * independent. */
void wi_context_set_task_progress(wi_context_t *ctx, wi_task_progress_fn fn,
                                  void *user_data);
/* Told of each parameter write the init_cfg engine attributes during
 * wi_init_weights / wi_initialize, in the order the writes happen:
 * owner's parameter `index` was written by `source`, the JSON path of
 * the init_cfg entry ("init_cfg[1]", "init_cfg[0].override") or
 * "init_weights" for a module type's own init_weights, and `info` is the
 * report's text for it.  Strings are borrowed for the call.  Writes at
 * construction happen before and are not reported (a parameter's version
 * counter says how many there were).  NULL = none. */
typedef void (*wi_write_observer_fn)(const wi_module_t *owner, size_t index,
                                     const char *source, const char *info,
                                     void *user_data);
void wi_context_set_write_observer(wi_context_t *ctx, wi_write_observer_fn fn,
                                   void *user_data);

/* Reports p to the task callback (nothing when ctx or the callback is
 * NULL); for a library's own long work and for plugins of the library. */
void wi_context_task_progress(const wi_context_t *ctx,
                              const wi_task_progress_t *p);

/* The local files the library read through this context (checkpoints
 * loaded by Pretrained, downloads from the cache), in reading order, each
 * once.  Borrowed, valid until the context is freed.  A caller that
 * writes outputs passes them to wi_output_group_add_input (output.h), so
 * that no output replaces a file the run read. */
size_t wi_context_input_count(const wi_context_t *ctx);
const char *wi_context_input(const wi_context_t *ctx, size_t i);

#ifdef __cplusplus
}
#endif
#endif
