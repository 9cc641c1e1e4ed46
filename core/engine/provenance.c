/* Which initializer wrote each parameter: tensor version counters read
 * right after each initializer and each user-defined init_weights. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>

#include "base/map.h"
#include "context/context_internal.h"
#include "engine/engine_internal.h"
#include "model/module_internal.h"
#include "tensor/tensor_internal.h"

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, c * size);
    if (!p)
        return WI_ENOMEM;
    *items = p;
    *cap = c;
    return 0;
}

/* Records m's parameters, then its children's, depth first. */
static int track_module(struct wi_priv_tracker *t, wi_module_t *m)
{
    size_t r = t->n_runs;
    if (grow((void **)&t->runs, &t->cap_runs, r, sizeof *t->runs) < 0 ||
        wi_priv_map_put_ptr(&t->subtrees, m, r) < 0)
        return WI_ENOMEM;
    t->n_runs++;
    t->runs[r].begin = t->n;
    for (size_t i = 0; i < wi_module_parameter_count(m); i++) {
        wi_tensor_t *p = wi_module_parameter(m, i);
        if (!p)
            continue;
        if (grow((void **)&t->items, &t->cap, t->n, sizeof *t->items) < 0)
            return WI_ENOMEM;
        if (!t->keep_info) {
            wi_module_set_parameter_info(m, i, NULL, NULL);
            wi_priv_module_set_written(m, i, 0);
        }
        t->items[t->n++] = (struct wi_priv_tracked){m, i, wi_tensor_version(p)};
    }
    for (size_t i = 0; i < wi_module_child_count(m); i++)
        if (track_module(t, wi_module_child(m, i)) < 0)
            return WI_ENOMEM;
    t->runs[r].end = t->n;
    return 0;
}

static void tracker_free(struct wi_priv_tracker *t)
{
    free(t->items);
    free(t->runs);
    wi_priv_map_clear(&t->subtrees);
}

/* Attributes the written parameters of items [begin, end) to info and
 * returns how many writes it saw (or a negative WI_E* code). */
static int64_t attribute_run(const wi_context_t *ctx, size_t begin,
                             size_t end, const char *info, const char *source,
                             wi_error_t *err)
{
    struct wi_priv_tracker *t = ctx->tracker;
    int64_t seen = 0;
    for (size_t k = begin; k < end; k++) {
        struct wi_priv_tracked *p = &t->items[k];
        uint64_t v = wi_tensor_version(wi_module_parameter(p->owner, p->index));
        if (v == p->version)
            continue;
        seen += (int64_t)(v - p->version);
        p->version = v;
        wi_priv_module_set_written(p->owner, p->index, 1);
        int rc = wi_module_set_parameter_info(p->owner, p->index, info, err);
        if (rc < 0)
            return rc;
        if (ctx->write_observer)
            ctx->write_observer(p->owner, p->index, source, info,
                                ctx->write_observer_data);
    }
    return seen;
}

int wi_priv_attribute(wi_context_t *ctx, wi_module_t *m, const char *info,
                      const char *source, int64_t *count, wi_error_t *err)
{
    struct wi_priv_tracker *t = ctx->tracker;
    if (!t)
        return 0;
    uint64_t writes = wi_priv_tensor_writes();
    size_t r;
    struct wi_priv_run run = {0, t->n};
    if (wi_priv_map_get_ptr(&t->subtrees, m, &r))
        run = t->runs[r];
    int64_t seen = attribute_run(ctx, run.begin, run.end, info, source, err);
    if (seen >= 0 && (uint64_t)seen != writes - t->writes) {
        int64_t before = attribute_run(ctx, 0, run.begin, info, source, err);
        int64_t after = before < 0 ? before
                                   : attribute_run(ctx, run.end, t->n, info, source, err);
        seen = before < 0 ? before : after < 0 ? after : seen + before + after;
    }
    t->writes = writes;
    if (seen >= 0 && count)
        *count += seen;
    return seen < 0 ? (int)seen : 0;
}

int wi_priv_start_tracking(wi_module_t *m, int keep_info, struct wi_priv_tracker *t,
                           wi_error_t *err)
{
    memset(t, 0, sizeof *t);
    t->writes = wi_priv_tensor_writes();
    t->keep_info = keep_info;
    if (track_module(t, m) < 0) {
        tracker_free(t);
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    }
    return 0;
}

void wi_priv_stop_tracking(wi_context_t *ctx, struct wi_priv_tracker *t)
{
    ctx->tracker = NULL;
    tracker_free(t);
}
