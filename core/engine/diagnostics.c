/* The diagnostics list and the checks made after a run (the engine adds
 * the rest while it runs: engine.c, init_cfg.c, names.c). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>

#include "base/jsonutil.h"
#include "context/context_internal.h"
#include "engine/diagnostics_internal.h"
#include "model/module_internal.h"

struct item {
    wi_diagnostic_t pub; /* points into text */
    char *text;          /* path \0 message \0 suggestion \0, or the
                            path alone for a constant message */
};

struct wi_diagnostics {
    struct item *items;
    size_t n, cap;
    size_t notes, max_notes; /* construction-only notes: found, kept at most */
};

wi_diagnostics_t *wi_diagnostics_new(void)
{
    wi_diagnostics_t *d = calloc(1, sizeof(wi_diagnostics_t));
    if (d)
        d->max_notes = SIZE_MAX;
    return d;
}

void wi_diagnostics_limit_notes(wi_diagnostics_t *d, size_t max)
{
    d->max_notes = max;
}

size_t wi_diagnostics_notes(const wi_diagnostics_t *d)
{
    return d ? d->notes : 0;
}

void wi_diagnostics_free(wi_diagnostics_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->items[i].text);
    free(d->items);
    free(d);
}

size_t wi_diagnostics_count(const wi_diagnostics_t *d)
{
    return d ? d->n : 0;
}

const wi_diagnostic_t *wi_diagnostics_get(const wi_diagnostics_t *d, size_t i)
{
    return d && i < d->n ? &d->items[i].pub : NULL;
}

size_t wi_diagnostics_mistakes(const wi_diagnostics_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < wi_diagnostics_count(d); i++)
        n += d->items[i].pub.kind != WI_DIAG_CONSTRUCTION_ONLY;
    return n;
}

const char *wi_diag_kind_name(wi_diag_kind_t kind)
{
    switch (kind) {
    case WI_DIAG_LAYER_UNMATCHED: return "layer-unmatched";
    case WI_DIAG_NAMES_UNMATCHED: return "names-unmatched";
    case WI_DIAG_NO_EFFECT: return "no-effect";
    case WI_DIAG_CFG_NOT_APPLIED: return "cfg-not-applied";
    case WI_DIAG_CONSTRUCTION_ONLY: return "construction-only";
    }
    return "unknown";
}

void wi_context_set_diagnostics(wi_context_t *ctx, wi_diagnostics_t *d)
{
    ctx->diagnostics = d;
}

/* Appends an item whose text block is `text` (stolen). */
static int push(wi_diagnostics_t *d, wi_diag_kind_t kind, char *text,
                const char *message, const char *suggestion)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct item *p = realloc(d->items, cap * sizeof *p);
        if (!p) {
            free(text);
            return WI_ENOMEM;
        }
        d->items = p;
        d->cap = cap;
    }
    d->items[d->n++] = (struct item){{kind, text, message, suggestion}, text};
    return 0;
}

int wi_priv_diag_add(wi_diagnostics_t *d, wi_diag_kind_t kind,
                     const char *path, const char *suggestion,
                     const char *fmt, ...)
{
    if (!d)
        return 0;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    size_t lp = strlen(path) + 1, lm = strlen(message) + 1;
    size_t ls = suggestion ? strlen(suggestion) + 1 : 0;
    char *text = malloc(lp + lm + ls);
    if (!text)
        return WI_ENOMEM;
    memcpy(text, path, lp);
    memcpy(text + lp, message, lm);
    if (suggestion)
        memcpy(text + lp + lm, suggestion, ls);
    return push(d, kind, text, text + lp, suggestion ? text + lp + lm : NULL);
}

/* A diagnostic of a static message: one per parameter of a large model
 * costs its path only. */
static int add_static(wi_diagnostics_t *d, wi_diag_kind_t kind,
                      const char *path, const char *message)
{
    if (kind == WI_DIAG_CONSTRUCTION_ONLY && d->notes++ >= d->max_notes)
        return 0;
    char *text = strdup(path);
    return text ? push(d, kind, text, message, NULL) : WI_ENOMEM;
}

/* ---- after the run ------------------------------------------------------ */

static int has_cfg(const wi_module_t *m)
{
    const json_t *c = (const json_t *)wi_module_init_cfg(m);
    return c && !json_is_null(c) &&
           !(json_is_object(c) && json_object_size(c) == 0) &&
           !(json_is_array(c) && json_array_size(c) == 0);
}

/* Why m's init_weights never ran: the nearest ancestor that does not
 * pass init_weights on (MMEngine only calls it on children that have
 * one: a plain nn.Module has none). */
static void why_not_applied(const wi_module_t *m, char *out, size_t size)
{
    for (const wi_module_t *p = wi_module_parent(m); p; p = wi_module_parent(p)) {
        if (wi_module_is_base_module(p) || wi_module_init_weights_fn(p))
            continue;
        const char *name = wi_module_parent(p) ? wi_priv_module_name(p) : NULL;
        snprintf(out, size, "%s%s%s (%s) is a plain nn.Module, and MMEngine's "
                 "init_weights does not descend into it; make it a BaseModule "
                 "or initialise this module from an ancestor's init_cfg",
                 name ? "its ancestor '" : "the root", name ? name : "",
                 name ? "'" : "", wi_module_type(p));
        return;
    }
    snprintf(out, size, "no init_weights call reached %s (a module type's own "
             "init_weights may skip it)", wi_module_type(m));
}

static int check_cfgs_applied(wi_diagnostics_t *d, wi_module_t *m)
{
    if (wi_module_is_base_module(m) && has_cfg(m) && !wi_module_is_init(m)) {
        char path[WI_PATH_MAX], why[600];
        wi_priv_cfg_path(m, path, sizeof path);
        why_not_applied(m, why, sizeof why);
        if (wi_priv_diag_add(d, WI_DIAG_CFG_NOT_APPLIED, path, NULL,
                             "this init_cfg of %s is never applied: %s",
                             wi_module_type(m), why) < 0)
            return WI_ENOMEM;
    }
    for (size_t i = 0; i < wi_module_child_count(m); i++)
        if (check_cfgs_applied(d, wi_module_child(m, i)) < 0)
            return WI_ENOMEM;
    return 0;
}

static int check_written(const char *name, wi_module_t *owner, size_t i, void *ud)
{
    if (wi_priv_module_parameter_written(owner, i))
        return 0;
    return add_static(ud, WI_DIAG_CONSTRUCTION_ONLY, name,
                      "keeps its construction value (no init_cfg entry "
                      "or init_weights wrote it)");
}

int wi_diagnostics_check_tree(wi_diagnostics_t *d, wi_module_t *root,
                              wi_error_t *err)
{
    int rc = check_cfgs_applied(d, root);
    if (rc == 0)
        rc = wi_module_named_parameters(root, check_written, d);
    return rc < 0 ? wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory") : 0;
}
