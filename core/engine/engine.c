/* The init_cfg engine: MMEngine's BaseModule.init_weights, initialize()
 * and override handling (mmengine/model/base_module.py, weight_init.py),
 * with exact provenance: parameter writes are seen through tensor version
 * counters and attributed right after each initializer, each user-defined
 * init_weights, exactly where MMEngine calls update_init_info. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>
#include <weightinit/functional.h>
#include <weightinit/registry.h>

#include "engine/context_internal.h"
#include "base/jsonutil.h"
#include "base/map.h"
#include "base/pyrepr.h"
#include "model/module_internal.h"
#include "plugin/registry_internal.h"
#include "tensor/tensor_internal.h"

struct tracked {
    wi_module_t *owner;
    size_t index;
    uint64_t version;
};

/* The parameters in named_parameters() order, so every subtree's are one
 * run [begin, end); `subtrees` maps a module to its run's index in runs. */
struct run {
    size_t begin, end;
};

struct wi_priv_tracker {
    struct tracked *items;
    size_t n, cap;
    struct run *runs;
    size_t n_runs, cap_runs;
    wi_priv_map_t subtrees;
    uint64_t writes; /* wi_priv_tensor_writes() when last attributed */
};

/* ---- provenance ------------------------------------------------------- */

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
        wi_module_set_parameter_info(m, i, NULL, NULL);
        t->items[t->n++] = (struct tracked){m, i, wi_tensor_version(p)};
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
static int64_t attribute_run(struct wi_priv_tracker *t, size_t begin,
                             size_t end, const char *info, wi_error_t *err)
{
    int64_t seen = 0;
    for (size_t k = begin; k < end; k++) {
        struct tracked *p = &t->items[k];
        uint64_t v = wi_tensor_version(wi_module_parameter(p->owner, p->index));
        if (v == p->version)
            continue;
        seen += (int64_t)(v - p->version);
        p->version = v;
        int rc = wi_module_set_parameter_info(p->owner, p->index, info, err);
        if (rc < 0)
            return rc;
    }
    return seen;
}

/* Attributes every parameter written since the last call to `info`.
 * Initializers and init_weights write inside the subtree of m they were
 * given, so only that run is compared; when the process-wide write count
 * says some write happened elsewhere (a plugin writing outside its
 * module, scratch tensors), the rest of the tree is compared too. */
static int attribute(wi_context_t *ctx, wi_module_t *m, const char *info,
                     wi_error_t *err)
{
    struct wi_priv_tracker *t = ctx->tracker;
    if (!t)
        return 0;
    uint64_t writes = wi_priv_tensor_writes();
    size_t r;
    struct run run = {0, t->n};
    if (wi_priv_map_get_ptr(&t->subtrees, m, &r))
        run = t->runs[r];
    int64_t seen = attribute_run(t, run.begin, run.end, info, err);
    if (seen >= 0 && (uint64_t)seen != writes - t->writes &&
        (seen = attribute_run(t, 0, run.begin, info, err)) >= 0)
        seen = attribute_run(t, run.end, t->n, info, err);
    t->writes = writes;
    return seen < 0 ? (int)seen : 0;
}

/* ---- one initializer config ------------------------------------------- */

static int cfg_error(const char *path, const char *key, wi_error_t *err,
                     int code, const char *fmt, const char *detail)
{
    char full[WI_PATH_MAX];
    wi_priv_path_key(full, sizeof full, path, key);
    return wi_error_set(err, code, NULL, full, fmt, detail);
}

/* BaseInit(bias=0, bias_prob=None, layer=None): checked as MMEngine does,
 * and removed from args. */
static int parse_base(json_t *args, const char *path, wi_init_base_t *base,
                      json_t **layer, wi_error_t *err)
{
    char repr[80];
    json_t *bias = json_object_get(args, "bias");
    json_t *prob = json_object_get(args, "bias_prob");
    json_t *l = json_object_get(args, "layer");
    if (bias && !json_is_number(bias))
        return cfg_error(path, "bias", err, WI_EINVAL,
                         "bias must be a number, got %s",
                         wi_priv_json_repr(bias, repr, sizeof repr));
    if (prob && !json_is_null(prob) && !json_is_real(prob))
        return cfg_error(path, "bias_prob", err, WI_EINVAL,
                         "bias_prob must be a float, got %s",
                         wi_priv_json_repr(prob, repr, sizeof repr));
    int layer_ok = !l || json_is_null(l) || json_is_string(l) || json_is_array(l);
    for (size_t i = 0; layer_ok && json_is_array(l) && i < json_array_size(l); i++)
        layer_ok = json_is_string(json_array_get(l, i));
    if (!layer_ok)
        return cfg_error(path, "layer", err, WI_EINVAL,
                         "layer must be a str or a list of str, got %s",
                         wi_priv_json_repr(l, repr, sizeof repr));
    if (prob && json_is_real(prob)) {
        double p = json_real_value(prob);
        /* bias_init_with_prob's (1 - p) / p is a Python float division,
         * raised in BaseInit.__init__, before any module is matched. */
        if (p == 0.0)
            return cfg_error(path, "bias_prob", err, WI_EINVAL,
                             "bias_prob=%s: bias_init_with_prob computes "
                             "-log((1 - p) / p): ZeroDivisionError: float "
                             "division by zero; expected a probability in "
                             "(0, 1)",
                             signbit(p) ? "-0.0" : "0.0");
        base->bias = wi_bias_init_with_prob(p);
        wi_priv_format_double(base->bias, base->bias_repr, sizeof base->bias_repr);
    } else {
        base->bias = bias ? json_number_value(bias) : 0.0;
        if (bias)
            wi_priv_value_repr(bias, base->bias_repr, sizeof base->bias_repr);
        else
            snprintf(base->bias_repr, sizeof base->bias_repr, "0");
    }
    *layer = l && !json_is_null(l) ? json_incref(l) : NULL;
    json_object_del(args, "bias");
    json_object_del(args, "bias_prob");
    json_object_del(args, "layer");
    return 0;
}

struct walk {
    const wi_initializer_type_t *type;
    void *self;
    const json_t *layer; /* string or list; NULL matches nothing */
    int wholemodule;
    wi_context_t *ctx;
    wi_error_t *err;
};

static int layer_matches(const wi_module_t *m, const json_t *layer)
{
    if (json_is_string(layer))
        return wi_module_matches_layer(m, json_string_value(layer));
    for (size_t i = 0; i < json_array_size(layer); i++)
        if (wi_module_matches_layer(m, json_string_value(json_array_get(layer, i))))
            return 1;
    return 0;
}

/* MMEngine's inner init(m), applied children-first by module.apply. */
static int visit(wi_module_t *m, void *ud)
{
    struct walk *w = ud;
    if (!w->wholemodule && !layer_matches(m, w->layer))
        return 0;
    int rc = w->type->init_module(w->self, wi_host(), m, w->ctx, w->err);
    return rc < 0 ? rc : 0;
}

/* Names the module in an error raised while initialising it. */
static void locate(wi_error_t *err, const char *path, const char *type)
{
    if (!err || err->path[0])
        return;
    size_t len = strlen(err->text);
    if (len + strlen(type) + 16 < sizeof err->text)
        snprintf(err->text + len, sizeof err->text - len, " (in %s)", type);
    snprintf(err->path, sizeof err->path, "%s", path);
}

/* _initialize(module, cfg, wholemodule): builds the initializer from cfg
 * (which has no override) and runs it on m. */
static int run_initializer(wi_module_t *m, const json_t *cfg, int wholemodule,
                           const char *path, wi_context_t *ctx, wi_error_t *err)
{
    json_t *type_v = json_object_get(cfg, "type");
    if (!json_is_string(type_v))
        return cfg_error(path, "type", err, WI_EINVAL, "%s",
                         "every init_cfg needs a string 'type' naming an "
                         "initializer");
    const char *name = json_string_value(type_v);
    const wi_initializer_type_t *type =
        wi_registry_find_initializer(wi_context_registry(ctx), name, err);
    if (!type) {
        char full[WI_PATH_MAX];
        wi_priv_path_key(full, sizeof full, path, "type");
        snprintf(err->path, sizeof err->path, "%s", full);
        return WI_ENOTFOUND;
    }
    json_t *args = json_deep_copy(cfg), *layer = NULL;
    json_object_del(args, "type");
    wi_init_base_t base = {0.0, "0"};
    int rc = 0;
    if (type->flags & WI_INIT_BASE_ARGS)
        rc = parse_base(args, path, &base, &layer, err);
    void *self = rc == 0 ? type->create(wi_host(), (const wi_value_t *)args,
                                        &base, NULL, path, err)
                         : NULL;
    if (rc == 0 && !self)
        rc = err && err->code ? err->code : WI_EINVAL;
    if (rc == 0) {
        struct walk w = {type, self, layer, wholemodule, ctx, err};
        rc = type->apply ? type->apply(self, wi_host(), m, ctx, err)
                         : wi_module_apply(m, visit, &w);
        if (rc < 0)
            locate(err, path, name);
        else
            rc = attribute(ctx, m, type->info(self), err);
    }
    if (self)
        type->destroy(self);
    json_decref(layer);
    json_decref(args);
    return rc < 0 ? rc : 0;
}

static int no_child(const wi_module_t *m, const char *name, const char *path,
                    wi_error_t *err)
{
    char full[WI_PATH_MAX], names[300] = "";
    size_t len = 0;
    for (size_t i = 0; i < wi_module_child_count(m) && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                i ? ", " : "", wi_module_child_name(m, i));
    wi_priv_path_key(full, sizeof full, path, "name");
    if (wi_module_find_parameter(m, name))
        return wi_error_set(err, WI_EINVAL, NULL, full,
                            "'%s' is a parameter of %s, not a child module; "
                            "override needs a child's name (children: %s)",
                            name, wi_module_type(m), len ? names : "none");
    return wi_error_set(err, WI_ENOTFOUND, NULL, full,
                        "%s has no child '%s' (children: %s)",
                        wi_module_type(m), name, len ? names : "none");
}

/* _initialize_override(module, override, cfg). */
static int run_override_one(wi_module_t *m, const json_t *ov, const json_t *cfg,
                            const char *path, wi_context_t *ctx, wi_error_t *err)
{
    char repr[80];
    if (!json_is_object(ov))
        return cfg_error(path, "", err, WI_EINVAL,
                         "override must be a dict or a list of dicts, got %s",
                         wi_priv_json_repr(ov, repr, sizeof repr));
    json_t *name = json_object_get(ov, "name");
    if (!json_is_string(name))
        return cfg_error(path, "name", err, WI_EINVAL,
                         "`override` must contain the key \"name\" (a direct "
                         "child's name), got %s",
                         wi_priv_json_repr(ov, repr, sizeof repr));
    json_t *cp = json_deep_copy(ov);
    json_object_del(cp, "name");
    int rc = 0;
    if (json_object_size(cp) == 0)
        json_object_update(cp, (json_t *)cfg); /* name only: reuse the parent's */
    else if (!json_object_get(cp, "type"))
        rc = cfg_error(path, "type", err, WI_EINVAL, "%s",
                       "`override` with arguments needs a \"type\"");
    const char *child_name = json_string_value(name);
    wi_module_t *child = wi_module_find_child(m, child_name);
    if (rc == 0 && !child)
        rc = no_child(m, child_name, path, err);
    if (rc == 0)
        rc = run_initializer(child, cp, 1, path, ctx, err);
    json_decref(cp);
    return rc;
}

static int run_overrides(wi_module_t *m, const json_t *override,
                         const json_t *cfg, const char *path, wi_context_t *ctx,
                         wi_error_t *err)
{
    char opath[WI_PATH_MAX], ipath[WI_PATH_MAX];
    wi_priv_path_key(opath, sizeof opath, path, "override");
    if (!json_is_array(override))
        return run_override_one(m, override, cfg, opath, ctx, err);
    for (size_t i = 0; i < json_array_size(override); i++) {
        wi_priv_path_index(ipath, sizeof ipath, opath, i);
        int rc = run_override_one(m, json_array_get(override, i), cfg, ipath, ctx, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* initialize(module, cfg) for one config object. */
static int run_cfg(wi_module_t *m, const json_t *cfg, const char *path,
                   wi_context_t *ctx, wi_error_t *err)
{
    json_t *cp = json_deep_copy(cfg);
    json_t *override = json_incref(json_object_get(cp, "override"));
    json_object_del(cp, "override");
    int rc = run_initializer(m, cp, 0, path, ctx, err);
    if (rc == 0 && override) {
        json_object_del(cp, "layer");
        rc = run_overrides(m, override, cp, path, ctx, err);
    }
    json_decref(override);
    json_decref(cp);
    return rc;
}

/* Checks the shape of an init_cfg: an object or a list of objects, each
 * with a string type (MMEngine reads every type before running any). */
static int check_cfgs(const json_t *cfgs, const char *base, wi_error_t *err)
{
    char path[WI_PATH_MAX], repr[80];
    if (!json_is_object(cfgs) && !json_is_array(cfgs))
        return cfg_error(base, "", err, WI_EINVAL,
                         "init_cfg must be a dict or a list of dicts, got %s",
                         wi_priv_json_repr(cfgs, repr, sizeof repr));
    size_t n = json_is_array(cfgs) ? json_array_size(cfgs) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(cfgs) ? json_array_get(cfgs, i) : cfgs;
        if (json_is_array(cfgs))
            wi_priv_path_index(path, sizeof path, base, i);
        else
            snprintf(path, sizeof path, "%s", base);
        if (!json_is_object(c))
            return cfg_error(path, "", err, WI_EINVAL,
                             "expected an initializer config object, got %s",
                             wi_priv_json_repr(c, repr, sizeof repr));
        if (!json_is_string(json_object_get(c, "type")))
            return cfg_error(path, "type", err, WI_EINVAL, "%s",
                             "every init_cfg needs a string 'type' naming an "
                             "initializer");
    }
    return 0;
}

static int is_pretrained(const json_t *cfg)
{
    const char *t = json_string_value(json_object_get(cfg, "type"));
    return t && strcmp(t, "Pretrained") == 0;
}

/* Runs the configs of one phase: want_pretrained selects MMEngine's split
 * (Pretrained last so loaded weights win). */
static int run_cfgs(wi_module_t *m, const json_t *cfgs, const char *base,
                    int want_pretrained, wi_context_t *ctx, wi_error_t *err)
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
        int rc = run_cfg(m, c, path, ctx, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int wi_initialize(wi_module_t *m, const json_t *init_cfg, wi_context_t *ctx,
                  wi_error_t *err)
{
    int rc = check_cfgs(init_cfg, "init_cfg", err);
    return rc < 0 ? rc : run_cfgs(m, init_cfg, "init_cfg", -1, ctx, err);
}

/* ---- init_weights ------------------------------------------------------ */

/* The JSON path of m's init_cfg in the model file: children.a.children.b. */
static void cfg_path(const wi_module_t *m, char *out, size_t size)
{
    const wi_module_t *chain[64] = {NULL};
    size_t depth = 0;
    for (const wi_module_t *p = m; wi_module_parent(p) && depth < 64;
         p = wi_module_parent(p))
        chain[depth++] = p;
    size_t len = 0;
    out[0] = '\0';
    while (depth-- > 0 && len < size)
        len += (size_t)snprintf(out + len, size - len, "children.%s.",
                                wi_priv_module_name(chain[depth]));
    if (len < size)
        snprintf(out + len, size - len, "init_cfg");
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
        if ((rc = attribute(ctx, c, info, err)) < 0)
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
    const json_t *cfgs = wi_module_init_cfg(m);
    int has_cfg = cfgs && (json_is_object(cfgs) ? json_object_size(cfgs)
                                                : json_array_size(cfgs)) > 0;
    char base[WI_PATH_MAX];
    cfg_path(m, base, sizeof base);
    int rc = 0;
    if (has_cfg) {
        char *repr = wi_priv_python_repr(cfgs);
        wi_context_log(ctx, WI_LOG_DEBUG, "initialize %s with init_cfg %s",
                       wi_module_type(m), repr ? repr : "?");
        free(repr);
        rc = check_cfgs(cfgs, base, err);
        if (rc == 0)
            rc = run_cfgs(m, cfgs, base, 0, ctx, err);
    }
    if (rc == 0)
        rc = init_children(m, ctx, err);
    if (rc == 0 && has_cfg)
        rc = run_cfgs(m, cfgs, base, 1, ctx, err);
    if (rc == 0)
        wi_module_set_is_init(m, 1);
    return rc;
}

int wi_init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    if (ctx->tracker) /* nested: a module type's own init_weights */
        return call_init_weights(m, ctx, err);
    struct wi_priv_tracker t;
    memset(&t, 0, sizeof t);
    t.writes = wi_priv_tensor_writes();
    if (track_module(&t, m) < 0) {
        tracker_free(&t);
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    }
    ctx->tracker = &t;
    int rc = call_init_weights(m, ctx, err);
    if (rc == 0 && wi_module_init_weights_fn(m)) {
        char info[300];
        snprintf(info, sizeof info,
                 "Initialized by user-defined `init_weights` in %s",
                 wi_module_type(m));
        rc = attribute(ctx, m, info, err);
    }
    ctx->tracker = NULL;
    tracker_free(&t);
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
