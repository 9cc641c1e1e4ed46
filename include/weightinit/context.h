/* A context bundles what an initialisation run needs: the generator, the
 * registry of initializer and module types, and the log callback.  The
 * library never prints: it reports through the callback. */
#ifndef WEIGHTINIT_CONTEXT_H
#define WEIGHTINIT_CONTEXT_H

#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wi_log_level {
    WI_LOG_DEBUG = 10,
    WI_LOG_INFO = 20,
    WI_LOG_WARNING = 30,
    WI_LOG_ERROR = 40
} wi_log_level_t;

/* message is borrowed for the duration of the call; one logical record,
 * which may span lines (MMEngine's per-parameter listing does). */
typedef void (*wi_log_fn)(wi_log_level_t level, const char *message,
                          void *user_data);

typedef struct wi_context wi_context_t;
typedef struct wi_registry wi_registry_t;

/* A new context borrowing g (which must outlive it) and using the
 * process-wide default registry.  NULL only when out of memory. */
wi_context_t *wi_context_new(wi_generator_t *g);
void wi_context_free(wi_context_t *ctx);

wi_generator_t *wi_context_generator(const wi_context_t *ctx);
/* Borrowed registry; NULL restores the process-wide default. */
void wi_context_set_registry(wi_context_t *ctx, wi_registry_t *reg);
wi_registry_t *wi_context_registry(const wi_context_t *ctx);

/* Threads for large tensors (wi_generator_set_threads on the context's
 * generator): 0 = all cores, -1 = WEIGHTINIT_THREADS or all cores. */
void wi_context_set_threads(wi_context_t *ctx, int threads);

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

#ifdef __cplusplus
}
#endif
#endif
