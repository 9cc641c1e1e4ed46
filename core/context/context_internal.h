/* The context's fields, shared by core files; not part of the ABI. */
#ifndef WI_CONTEXT_INTERNAL_H
#define WI_CONTEXT_INTERNAL_H

#include <stdarg.h>

#include <jansson.h>

#include <weightinit/context.h>

#include "base/internal.h"

struct wi_priv_tracker;
struct wi_diagnostics;

struct wi_context {
    wi_generator_t *generator;
    wi_registry_t *registry; /* NULL: the process-wide default */
    wi_log_fn log;
    void *log_data;
    wi_progress_fn progress;
    void *progress_data;
    wi_task_progress_fn task_progress;
    void *task_progress_data;
    /* Set during a top-level init_weights: who wrote what
     * (engine/provenance.c). */
    struct wi_priv_tracker *tracker;
    /* Borrowed; the engine appends what matched nothing (diagnostics.h). */
    struct wi_diagnostics *diagnostics;
    wi_write_observer_fn write_observer;
    void *write_observer_data;
    char **inputs; /* wi_context_input */
    size_t n_inputs;
    int headers_only; /* wi_context_set_headers_only */
    /* The last built layer's arguments (owned): a layer with equal ones
     * shares them (a million Linear(1, 1) keep one object). */
    json_t *shared_args;
};

/* args (stolen) or an equal object built before (a new reference);
 * args, now read-only, become the ones shared next. */
WI_INTERNAL json_t *wi_priv_context_share_args(wi_context_t *ctx, json_t *args);

/* Records a local file the library read (once).  WI_ENOMEM or 0. */
WI_INTERNAL int wi_priv_context_note_input(wi_context_t *ctx, const char *path);

#endif
