/* The context's fields, shared by core files; not part of the ABI. */
#ifndef WI_CONTEXT_INTERNAL_H
#define WI_CONTEXT_INTERNAL_H

#include <stdarg.h>

#include <weightinit/context.h>

struct wi_priv_tracker;

struct wi_context {
    wi_generator_t *generator;
    wi_registry_t *registry; /* NULL: the process-wide default */
    wi_log_fn log;
    void *log_data;
    wi_progress_fn progress;
    void *progress_data;
    /* Set during a top-level init_weights: who wrote what (engine.c). */
    struct wi_priv_tracker *tracker;
};

#endif
