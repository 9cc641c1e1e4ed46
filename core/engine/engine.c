/* The init_cfg engine: MMEngine's BaseModule.init_weights and
 * initialize() (mmengine/model/base_module.py, weight_init.py), each
 * init_cfg entry run as a names entry (names.c) or an initializer with its
 * overrides (init_cfg.c, overrides.c), with exact provenance: parameter
 * writes are attributed (provenance.c) right after each initializer, each
 * user-defined init_weights, exactly where MMEngine calls update_init_info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>

#include "base/input.h"
#include "base/jsonutil.h"
#include "base/pyrepr.h"
#include "context/context_internal.h"
#include "engine/diagnostics_internal.h"
#include "engine/engine_internal.h"
#include "model/module_internal.h"

static int is_pretrained(const json_t *cfg)
{
    const char *t = json_string_value(json_object_get(cfg, "type"));
    return t && strcmp(t, "Pretrained") == 0;
}

/* An entry that wrote nothing and was not explained by an unmatched
 * layer or names pattern. */
static int report_no_effect(const wi_module_t *m, const json_t *cfg,
                            const char *path, struct wi_priv_entry_diag *de)
{
    const char *type = json_string_value(json_object_get(cfg, "type"));
    const json_t *layer = json_object_get(cfg, "layer");
    int selects = (layer && !json_is_null(layer)) || json_object_get(cfg, "override");
    if (!selects && !is_pretrained(cfg))
        return wi_priv_diag_add(de->list, WI_DIAG_NO_EFFECT, path, NULL,
                                "this %s entry has no `layer`, `override` or "
                                "`names`, so it initialises nothing (MMEngine "
                                "skips it silently, mmdetection#5318); add "
                                "\"layer\" with the module types to initialise",
                                type);
    if (is_pretrained(cfg))
        return wi_priv_diag_add(de->list, WI_DIAG_NO_EFFECT, path, NULL,
                                "this Pretrained entry loaded no parameter of %s",
                                wi_module_type(m));
    return wi_priv_diag_add(de->list, WI_DIAG_NO_EFFECT, path, NULL,
                            "this %s entry wrote no parameter of %s (the modules "
                            "it selects have no weight or bias it initialises)",
                            type, wi_module_type(m));
}

/* initialize(module, cfg) for one config object. */
static int run_cfg(wi_module_t *m, const json_t *cfg, const char *path,
                   wi_context_t *ctx, int collect, wi_error_t *err)
{
    struct wi_priv_entry_diag de = {ctx->diagnostics, 0, 0};
    struct wi_priv_entry_diag *dp =
        collect && ctx->diagnostics && ctx->tracker ? &de : NULL;
    json_t *cp = json_deep_copy(cfg);
    if (!cp)
        return wi_priv_cfg_error(path, "", err, WI_ENOMEM, "%s",
                                 "out of memory copying the init_cfg entry");
    json_t *names = json_incref(json_object_get(cp, "names"));
    json_t *override = json_incref(json_object_get(cp, "override"));
    int rc = 0;
    if (wi_priv_is_pass(cp)) {
        rc = wi_priv_run_pass(m, cp, path, ctx, dp, err);
        de.explained = 1; /* its rules report themselves */
    } else if (names) {
        rc = wi_priv_check_names(cp, names, path, err);
        json_object_del(cp, "names");
        if (rc == 0)
            rc = wi_priv_run_names(m, cp, names, path, ctx, dp, err);
    } else {
        json_object_del(cp, "override");
        rc = wi_priv_run_initializer(m, cp, 0, path, ctx, dp, err);
        if (rc == 0 && override) {
            json_object_del(cp, "layer");
            rc = wi_priv_run_overrides(m, override, cp, path, ctx, dp, err);
        }
    }
    if (rc == 0 && dp && de.writes == 0 && !de.explained &&
        report_no_effect(m, cfg, path, dp) < 0)
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    json_decref(override);
    json_decref(names);
    json_decref(cp);
    return rc;
}

/* Checks the shape of an init_cfg: an object or a list of objects, each
 * with a string type (MMEngine reads every type before running any). */
static int check_cfgs(const json_t *cfgs, const char *base, wi_error_t *err)
{
    char path[WI_PATH_MAX], repr[80];
    size_t n = strlen(base);
    /* A node's construction-time "init" or an "init_cfg". */
    const char *key = n >= 4 && strcmp(base + n - 4, "init") == 0 ? "init" : "init_cfg";
    if (!json_is_object(cfgs) && !json_is_array(cfgs)) {
        char text[160];
        snprintf(text, sizeof text, "%s must be a dict or a list of dicts, got %s", key,
                 wi_priv_json_repr(cfgs, repr, sizeof repr));
        return wi_priv_cfg_error(base, "", err, WI_EINVAL, "%s", text);
    }
    n = json_is_array(cfgs) ? json_array_size(cfgs) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(cfgs) ? json_array_get(cfgs, i) : cfgs;
        if (json_is_array(cfgs))
            wi_priv_path_index(path, sizeof path, base, i);
        else
            snprintf(path, sizeof path, "%s", base);
        if (!json_is_object(c))
            return wi_priv_cfg_error(path, "", err, WI_EINVAL,
                                     "expected an initializer config object, "
                                     "got %s",
                                     wi_priv_json_repr(c, repr, sizeof repr));
        if (wi_priv_is_pass(c)) {
            int rc = wi_priv_check_pass(c, path, err);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!json_is_string(json_object_get(c, "type")))
            return wi_priv_cfg_error(path, "type", err, WI_EINVAL, "%s",
                                     "every init_cfg needs a string 'type' "
                                     "naming an initializer (or \"apply\" or "
                                     "\"modules\" rules)");
    }
    return 0;
}

/* Runs the configs of one phase: want_pretrained selects MMEngine's split
 * (Pretrained last so loaded weights win). */
static int run_cfgs(wi_module_t *m, const json_t *cfgs, const char *base,
                    int want_pretrained, int collect, wi_context_t *ctx,
                    wi_error_t *err)
{
    char path[WI_PATH_MAX];
    size_t n = json_is_array(cfgs) ? json_array_size(cfgs) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(cfgs) ? json_array_get(cfgs, i) : cfgs;
        if (want_pretrained >= 0 && is_pretrained(c) != want_pretrained)
            continue;
        if (json_is_array(cfgs))
            wi_priv_path_index(path, sizeof path, base, i);
        else
            snprintf(path, sizeof path, "%s", base);
        int rc = run_cfg(m, c, path, ctx, collect, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int wi_initialize(wi_module_t *m, const wi_value_t *init_cfg_v, wi_context_t *ctx,
                  wi_error_t *err)
{
    const json_t *init_cfg = (const json_t *)init_cfg_v;
    wi_error_t local; /* plugins' codes are read back from err */
    if (!err)
        err = &local;
    wi_error_clear(&local);
    int rc = check_cfgs(init_cfg, "init_cfg", err);
    if (rc < 0 || ctx->tracker) /* nested: the caller attributes */
        return rc < 0 ? rc : run_cfgs(m, init_cfg, "init_cfg", -1, 0, ctx, err);
    /* MMEngine's initialize() reports nothing; we attribute its writes as
     * init_weights' are, and say which call left a parameter unwritten. */
    struct wi_priv_tracker t;
    if ((rc = wi_priv_start_tracking(m, 0, &t, err)) < 0)
        return rc;
    ctx->tracker = &t;
    char same[300];
    snprintf(same, sizeof same, "The value is the same before and after "
             "calling `initialize` on %s", wi_module_type(m));
    for (size_t k = 0; rc == 0 && k < t.n; k++)
        rc = wi_module_set_parameter_info(t.items[k].owner, t.items[k].index,
                                          same, err);
    if (rc == 0)
        rc = run_cfgs(m, init_cfg, "init_cfg", -1, 1, ctx, err);
    wi_priv_stop_tracking(ctx, &t);
    return rc;
}

int wi_priv_initialize_at(wi_module_t *m, const json_t *cfgs, const char *base,
                          wi_context_t *ctx, wi_error_t *err)
{
    int rc = check_cfgs(cfgs, base, err);
    if (rc < 0 || ctx->tracker) /* nested: the caller attributes */
        return rc < 0 ? rc : run_cfgs(m, cfgs, base, -1, 0, ctx, err);
    struct wi_priv_tracker t;
    if ((rc = wi_priv_start_tracking(m, 1, &t, err)) < 0)
        return rc;
    ctx->tracker = &t;
    rc = run_cfgs(m, cfgs, base, -1, 1, ctx, err);
    wi_priv_stop_tracking(ctx, &t);
    return rc;
}

void wi_priv_cfg_path(const wi_module_t *m, char *out, size_t size)
{
    /* A tree is at most WI_MODULE_MAX_DEPTH deep (module.h). */
    const wi_module_t *chain[WI_MODULE_MAX_DEPTH];
    size_t depth = 0;
    for (const wi_module_t *p = m;
         wi_module_parent(p) && depth < WI_MODULE_MAX_DEPTH;
         p = wi_module_parent(p))
        chain[depth++] = p;
    char a[WI_PATH_MAX] = "", b[WI_PATH_MAX];
    while (depth-- > 0) {
        wi_priv_path_key(b, sizeof b, a, "children");
        wi_priv_path_key(a, sizeof a, b, wi_priv_module_name(chain[depth]));
    }
    wi_priv_path_key(out, size, a, "init_cfg");
}

static int call_init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    wi_init_weights_fn fn = wi_module_init_weights_fn(m);
    if (fn)
        return fn(m, ctx, err);
    return wi_module_is_base_module(m) ? wi_priv_base_init_weights(m, ctx, err) : 0;
}

static int init_children(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    for (size_t i = 0; i < wi_module_child_count(m); i++) {
        wi_module_t *c = wi_module_child(m, i);
        int has = wi_module_is_base_module(c) || wi_module_init_weights_fn(c);
        if (!has || (wi_module_is_base_module(c) && wi_module_is_init(c)))
            continue;
        int rc = call_init_weights(c, ctx, err);
        if (rc < 0)
            return rc;
        char info[300];
        snprintf(info, sizeof info,
                 "Initialized by user-defined `init_weights` in %s",
                 wi_module_type(c));
        if ((rc = wi_priv_attribute(ctx, c, info, "init_weights", NULL, err)) < 0)
            return rc;
    }
    return 0;
}

int wi_priv_base_init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    if (wi_module_is_init(m)) {
        wi_context_log(ctx, WI_LOG_WARNING,
                       "init_weights of %s has been called more than once.",
                       wi_module_type(m));
        return 0;
    }
    const json_t *cfgs = (const json_t *)wi_module_init_cfg(m);
    /* None or empty means none; anything else that is not a dict or a list of
     * dicts is refused by check_cfgs, never ignored. */
    int has_cfg = cfgs && !json_is_null(cfgs) &&
                  !(json_is_object(cfgs) && json_object_size(cfgs) == 0) &&
                  !(json_is_array(cfgs) && json_array_size(cfgs) == 0);
    char base[WI_PATH_MAX];
    wi_priv_cfg_path(m, base, sizeof base);
    int rc = 0;
    if (has_cfg) {
        char *repr = wi_priv_python_repr(cfgs);
        wi_context_log(ctx, WI_LOG_DEBUG, "initialize %s with init_cfg %s",
                       wi_module_type(m), repr ? repr : "?");
        free(repr);
        rc = check_cfgs(cfgs, base, err);
        if (rc == 0)
            rc = run_cfgs(m, cfgs, base, 0, 1, ctx, err);
    }
    if (rc == 0)
        rc = init_children(m, ctx, err);
    if (rc == 0 && has_cfg)
        rc = run_cfgs(m, cfgs, base, 1, 1, ctx, err);
    if (rc == 0)
        wi_module_set_is_init(m, 1);
    return rc;
}

int wi_init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    wi_error_t local; /* plugins' codes are read back from err */
    if (!err)
        err = &local;
    wi_error_clear(&local);
    if (ctx->tracker) /* nested: a module type's own init_weights */
        return call_init_weights(m, ctx, err);
    struct wi_priv_tracker t;
    int rc = wi_priv_start_tracking(m, 0, &t, err);
    if (rc < 0)
        return rc;
    ctx->tracker = &t;
    rc = call_init_weights(m, ctx, err);
    if (rc == 0 && wi_module_init_weights_fn(m)) {
        char info[300];
        snprintf(info, sizeof info,
                 "Initialized by user-defined `init_weights` in %s",
                 wi_module_type(m));
        rc = wi_priv_attribute(ctx, m, info, "init_weights", NULL, err);
    }
    wi_priv_stop_tracking(ctx, &t);
    return rc;
}

struct report {
    wi_report_fn fn;
    void *ud;
    char *unwritten;
};

static int report_one(const char *name, wi_module_t *owner, size_t i, void *ud)
{
    struct report *r = ud;
    const char *info = wi_module_parameter_info(owner, i);
    return r->fn(name, wi_module_parameter(owner, i),
                 info ? info : r->unwritten, r->ud);
}

int wi_init_report(wi_module_t *root, wi_report_fn fn, void *ud)
{
    const char *fmt = "The value is the same before and after calling "
                      "`init_weights` of %s";
    size_t n = strlen(fmt) + strlen(wi_module_type(root));
    struct report r = {fn, ud, malloc(n)};
    if (!r.unwritten)
        return WI_ENOMEM;
    snprintf(r.unwritten, n, fmt, wi_module_type(root));
    int rc = wi_module_named_parameters(root, report_one, &r);
    free(r.unwritten);
    return rc;
}

wi_value_t *wi_init_cfg_load_file(const char *path, wi_error_t *err)
{
    json_t *cfg = wi_priv_load_json_input(path, "an init_cfg file",
                                          JSON_REJECT_DUPLICATES, err);
    if (cfg && !json_is_object(cfg) && !json_is_array(cfg)) {
        json_decref(cfg);
        wi_error_set(err, WI_EINVAL, path, NULL,
                     "expected an init_cfg object or a list of them");
        return NULL;
    }
    return (wi_value_t *)cfg;
}
