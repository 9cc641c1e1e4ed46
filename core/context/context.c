/* wi_context_t: the generator, registry, log, progress and write-observer
 * callbacks and the files read, for one run (context.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/registry.h>

#include "context/context_internal.h"

wi_context_t *wi_context_new(wi_generator_t *g)
{
    wi_context_t *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->generator = g;
    return ctx;
}

void wi_context_free(wi_context_t *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->n_inputs; i++)
        free(ctx->inputs[i]);
    free(ctx->inputs);
    json_decref(ctx->shared_args);
    free(ctx);
}

json_t *wi_priv_context_share_args(wi_context_t *ctx, json_t *args)
{
    if (ctx->shared_args && json_equal(ctx->shared_args, args)) {
        json_decref(args);
        return json_incref(ctx->shared_args);
    }
    json_decref(ctx->shared_args);
    ctx->shared_args = json_incref(args);
    return args;
}

wi_generator_t *wi_context_generator(const wi_context_t *ctx)
{
    return ctx->generator;
}

void wi_context_set_threads(wi_context_t *ctx, int threads)
{
    wi_generator_set_threads(ctx->generator, threads);
}

void wi_context_set_headers_only(wi_context_t *ctx, int on)
{
    ctx->headers_only = on != 0;
}

void wi_context_set_registry(wi_context_t *ctx, wi_registry_t *reg)
{
    ctx->registry = reg;
}

wi_registry_t *wi_context_registry(const wi_context_t *ctx)
{
    return ctx->registry ? ctx->registry : wi_registry_default();
}

void wi_context_set_log(wi_context_t *ctx, wi_log_fn fn, void *user_data)
{
    ctx->log = fn;
    ctx->log_data = user_data;
}

void wi_context_log(const wi_context_t *ctx, wi_log_level_t level,
                    const char *fmt, ...)
{
    if (!ctx || !ctx->log)
        return;
    char stack[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof stack) {
        ctx->log(level, stack, ctx->log_data);
        return;
    }
    /* Long records (a whole init_cfg dump) get a heap buffer. */
    char *heap = malloc((size_t)n + 1);
    if (!heap) {
        ctx->log(level, stack, ctx->log_data);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(heap, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ctx->log(level, heap, ctx->log_data);
    free(heap);
}

void wi_context_set_progress(wi_context_t *ctx, wi_progress_fn fn, void *user_data)
{
    ctx->progress = fn;
    ctx->progress_data = user_data;
}

void wi_context_progress(const wi_context_t *ctx, uint64_t done, uint64_t total)
{
    if (ctx && ctx->progress)
        ctx->progress(done, total, ctx->progress_data);
    if (ctx && ctx->task_progress) {
        wi_task_progress_t p = {.task = WI_TASK_DOWNLOAD, .name = "",
                                .bytes_done = done, .bytes_total = total,
                                .finished = total > 0 && done >= total};
        ctx->task_progress(&p, ctx->task_progress_data);
    }
}

void wi_context_set_task_progress(wi_context_t *ctx, wi_task_progress_fn fn,
                                  void *user_data)
{
    ctx->task_progress = fn;
    ctx->task_progress_data = user_data;
}

void wi_context_set_write_observer(wi_context_t *ctx, wi_write_observer_fn fn,
                                   void *user_data)
{
    ctx->write_observer = fn;
    ctx->write_observer_data = user_data;
}

void wi_context_task_progress(const wi_context_t *ctx,
                              const wi_task_progress_t *p)
{
    if (ctx && ctx->task_progress)
        ctx->task_progress(p, ctx->task_progress_data);
}

int wi_priv_context_note_input(wi_context_t *ctx, const char *path)
{
    if (!ctx)
        return 0;
    for (size_t i = 0; i < ctx->n_inputs; i++)
        if (strcmp(ctx->inputs[i], path) == 0)
            return 0;
    char **inputs = realloc(ctx->inputs, (ctx->n_inputs + 1) * sizeof *inputs);
    if (!inputs)
        return WI_ENOMEM;
    ctx->inputs = inputs;
    if (!(inputs[ctx->n_inputs] = strdup(path)))
        return WI_ENOMEM;
    ctx->n_inputs++;
    return 0;
}

size_t wi_context_input_count(const wi_context_t *ctx)
{
    return ctx->n_inputs;
}

const char *wi_context_input(const wi_context_t *ctx, size_t i)
{
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}
