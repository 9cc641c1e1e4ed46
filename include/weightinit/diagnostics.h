/* Diagnostics of an initialisation run: the init_cfg rules that matched
 * nothing or did nothing, the init_cfgs that were never applied, and the
 * parameters only construction wrote.  MMEngine runs all of these
 * silently (a `layer` typo, or an entry without `layer`,
 * mmdetection#5318); weightinit reports them so a caller can warn or
 * refuse (`weightinit init --strict`).
 *
 * Use: make a list, attach it to the context, run wi_init_weights or
 * wi_initialize (the engine appends what it sees while it runs), then
 * call wi_diagnostics_check_tree on the same root for the checks that
 * need the finished run.  The list is the caller's: attaching it lends
 * it to the context until it is detached (NULL) or the context is freed. */
#ifndef WEIGHTINIT_DIAGNOSTICS_H
#define WEIGHTINIT_DIAGNOSTICS_H

#include <stddef.h>

#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wi_diag_kind {
    /* A `layer` name that matches no module (type or base name) in the
     * subtree its init_cfg applies to.  path: init_cfg[1].layer[0]. */
    WI_DIAG_LAYER_UNMATCHED = 1,
    /* A `names` pattern that matches no parameter.  path: ...names[0]. */
    WI_DIAG_NAMES_UNMATCHED = 2,
    /* An init_cfg entry that wrote no parameter and is not explained by
     * one of the above (no `layer`, `override` or `names`, or only
     * modules without weight and bias matched).  path: init_cfg[0]. */
    WI_DIAG_NO_EFFECT = 3,
    /* The init_cfg of a module whose init_weights never ran (a BaseModule
     * under a plain nn.Module: MMEngine does not descend through it).
     * path: children.a.children.b.init_cfg. */
    WI_DIAG_CFG_NOT_APPLIED = 4,
    /* A parameter that nothing but its construction wrote: a note, not a
     * mistake (PyTorch's default initialisation is often what is meant).
     * path: the parameter's dotted name. */
    WI_DIAG_CONSTRUCTION_ONLY = 5
} wi_diag_kind_t;

/* One diagnostic.  Strings are owned by the list and live until it is
 * freed. */
typedef struct wi_diagnostic {
    wi_diag_kind_t kind;
    /* The JSON path in the model file (init_cfg paths of the root refer
     * to whatever init_cfg the root was given, e.g. --init-cfg's file),
     * or a parameter name for WI_DIAG_CONSTRUCTION_ONLY. */
    const char *path;
    const char *message;    /* one line, without the path */
    const char *suggestion; /* did-you-mean candidate, or NULL */
} wi_diagnostic_t;

typedef struct wi_diagnostics wi_diagnostics_t;

/* A new empty list (NULL when out of memory); free with
 * wi_diagnostics_free, which accepts NULL. */
wi_diagnostics_t *wi_diagnostics_new(void);
void wi_diagnostics_free(wi_diagnostics_t *d);

size_t wi_diagnostics_count(const wi_diagnostics_t *d);
/* Borrowed; NULL past the end.  In the order found: the engine's while
 * it runs (init_cfg order), then check_tree's. */
const wi_diagnostic_t *wi_diagnostics_get(const wi_diagnostics_t *d, size_t i);
/* The diagnostics that are mistakes (every kind but
 * WI_DIAG_CONSTRUCTION_ONLY): what --strict refuses. */
size_t wi_diagnostics_mistakes(const wi_diagnostics_t *d);
/* Keeps at most `max` WI_DIAG_CONSTRUCTION_ONLY notes (the first found,
 * in state_dict order) and only counts the others: a caller that shows
 * a few of a million-parameter model's notes need not hold one per
 * parameter.  The default keeps them all.  Mistakes are always kept. */
void wi_diagnostics_limit_notes(wi_diagnostics_t *d, size_t max);
/* Every WI_DIAG_CONSTRUCTION_ONLY note found, kept or only counted. */
size_t wi_diagnostics_notes(const wi_diagnostics_t *d);
/* "layer-unmatched", "names-unmatched", "no-effect", "cfg-not-applied",
 * "construction-only": stable names for JSON output (static strings). */
const char *wi_diag_kind_name(wi_diag_kind_t kind);

/* Lends d to ctx (NULL detaches); the engine appends to it during runs. */
void wi_context_set_diagnostics(wi_context_t *ctx, wi_diagnostics_t *d);

/* After a run on root: appends WI_DIAG_CFG_NOT_APPLIED for every
 * BaseModule with an init_cfg whose init_weights did not run, and
 * WI_DIAG_CONSTRUCTION_ONLY for every parameter no initializer or
 * init_weights wrote.  0, or WI_ENOMEM with err. */
int wi_diagnostics_check_tree(wi_diagnostics_t *d, wi_module_t *root,
                              wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
