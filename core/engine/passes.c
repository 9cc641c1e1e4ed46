/* The apply and modules() idioms and construction-time init (weightinit
 * extensions, docs/model-format.md): a pass walks a subtree once, in
 * post-order as nn.Module.apply or pre-order as `for m in
 * self.modules()`, and gives each module the first rule whose layer (its
 * type or a base, as isinstance) and name match; the rule's steps run on
 * that module alone, as the isinstance branches of Hugging Face's
 * _init_weights or torchvision's loops do. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>
#include <weightinit/registry.h>

#include "base/jsonutil.h"
#include "base/pyrepr.h"
#include "base/suggest.h"
#include "context/context_internal.h"
#include "engine/diagnostics_internal.h"
#include "engine/engine_internal.h"
#include "model/model_internal.h"
#include "model/module_internal.h"
#include "plugin/registry_internal.h"

/* One step of a rule, built once for the whole pass. */
struct step {
    struct wi_priv_instance in; /* without names */
    json_t *cfg, *names;        /* names: the step's patterns, or NULL */
    char path[WI_PATH_MAX];
};

struct rule {
    const json_t *layer, *name; /* NULL: any */
    struct step *steps;
    size_t n_steps;
    int64_t hits; /* modules given this rule */
    char path[WI_PATH_MAX];
};

struct pass {
    struct rule *rules;
    size_t n_rules;
    int post; /* apply (post-order) rather than modules() (pre-order) */
    wi_context_t *ctx;
    wi_error_t *err;
};

static int fail(const char *path, const char *key, wi_error_t *err, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/* err = WI_EINVAL at path.key. */
static int fail(const char *path, const char *key, wi_error_t *err, const char *fmt, ...)
{
    char full[WI_PATH_MAX];
    wi_priv_path_key(full, sizeof full, path, key);
    va_list ap;
    va_start(ap, fmt);
    wi_error_setv(err, WI_EINVAL, NULL, full, fmt, ap);
    va_end(ap);
    return WI_EINVAL;
}

int wi_priv_is_pass(const json_t *cfg)
{
    return json_object_get(cfg, "apply") || json_object_get(cfg, "modules");
}

static int is_str_or_strs(const json_t *v)
{
    if (json_is_string(v))
        return 1;
    int ok = json_is_array(v) && json_array_size(v) > 0;
    for (size_t i = 0; ok && i < json_array_size(v); i++)
        ok = json_is_string(json_array_get(v, i));
    return ok;
}

static int check_rule(const json_t *r, const char *path, wi_error_t *err)
{
    char repr[80];
    if (!json_is_object(r))
        return fail(path, "", err,
                    "expected a rule {\"layer\", \"name\", \"init\"}, got %s",
                    wi_priv_json_repr(r, repr, sizeof repr));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)r, key, v) {
        if (strcmp(key, "layer") && strcmp(key, "name") && strcmp(key, "init"))
            return fail(path, key, err,
                        "unknown key '%s' in a rule (accepted: layer, "
                        "name, init)", key);
        if (strcmp(key, "init") && !is_str_or_strs(v))
            return fail(path, key, err,
                        "expected a string or a list of strings, got %s",
                        wi_priv_json_repr(v, repr, sizeof repr));
    }
    const json_t *init = json_object_get(r, "init");
    if (!init)
        return fail(path, "init", err, "%s",
                    "a rule needs \"init\": the steps run on each "
                    "module it matches");
    return 0;
}

/* A step's entry: an initializer, optionally with names, but never
 * layer or override (the rule chose the module). */
static int check_step(const json_t *s, const char *path, wi_error_t *err)
{
    char repr[80];
    if (!json_is_object(s) || !json_is_string(json_object_get(s, "type")))
        return fail(path, "", err,
                    "expected a step {\"type\": INITIALIZER, ...}, got %s",
                    wi_priv_json_repr(s, repr, sizeof repr));
    static const char *const refused[] = {"layer", "override"};
    for (size_t i = 0; i < 2; i++)
        if (json_object_get(s, refused[i]))
            return fail(path, refused[i], err,
                        "a rule's step runs on the module the rule "
                        "matched and takes no `%s`; select modules "
                        "with the rule's \"layer\" and \"name\"",
                        refused[i]);
    const json_t *names = json_object_get(s, "names");
    return names ? wi_priv_check_names(s, names, path, err) : 0;
}

int wi_priv_check_pass(const json_t *cfg, const char *path, wi_error_t *err)
{
    char repr[80];
    const char *kind = json_object_get(cfg, "apply") ? "apply" : "modules";
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)cfg, key, v)
        if (strcmp(key, kind) != 0)
            return fail(path, key, err,
                        "a pass entry holds only its \"%s\" rules, "
                        "not '%s'", kind, key);
    const json_t *rules = json_object_get(cfg, kind);
    char at[WI_PATH_MAX], rpath[WI_PATH_MAX], spath[WI_PATH_MAX];
    wi_priv_path_key(at, sizeof at, path, kind);
    if (!json_is_array(rules) || json_array_size(rules) == 0)
        return fail(at, "", err,
                    "expected a non-empty list of rules, got %s",
                    wi_priv_json_repr(rules, repr, sizeof repr));
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        wi_priv_path_index(rpath, sizeof rpath, at, i);
        int rc = check_rule(r, rpath, err);
        const json_t *steps = json_object_get(r, "init");
        size_t n = json_is_array(steps) ? json_array_size(steps) : 1;
        if (rc == 0 && json_is_array(steps) && n == 0)
            rc = fail(rpath, "init", err, "%s",
                      "expected at least one step");
        for (size_t k = 0; rc == 0 && k < n; k++) {
            wi_priv_element_path(spath, sizeof spath, rpath, "init", steps, k);
            rc = check_step(json_is_array(steps) ? json_array_get(steps, k) : steps,
                            spath, err);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void free_rules(struct pass *p)
{
    for (size_t i = 0; i < p->n_rules; i++) {
        for (size_t k = 0; k < p->rules[i].n_steps; k++) {
            struct step *s = &p->rules[i].steps[k];
            if (s->in.type)
                wi_priv_instance_free(&s->in);
            json_decref(s->cfg);
            json_decref(s->names);
        }
        free(p->rules[i].steps);
    }
    free(p->rules);
}

/* Builds the step's initializer once.  One that initialises whole
 * trees by itself (Pretrained) has no per-module function to run. */
static int build_step(struct step *s, const json_t *cfg, wi_context_t *ctx,
                      wi_error_t *err)
{
    if (!(s->cfg = json_deep_copy(cfg)))
        return wi_error_set(err, WI_ENOMEM, NULL, s->path, "out of memory");
    s->names = json_incref(json_object_get(s->cfg, "names"));
    json_object_del(s->cfg, "names");
    int rc = wi_priv_instance_new(s->cfg, s->path, ctx, &s->in, err);
    if (rc == 0 && s->in.type->apply)
        rc = fail(s->path, "type", err,
                  "%s loads or initialises whole trees and cannot "
                  "be a rule's step", s->in.type->name);
    return rc;
}

static int build_rules(struct pass *p, const json_t *rules, const char *at)
{
    p->n_rules = json_array_size(rules);
    if (!(p->rules = calloc(p->n_rules, sizeof *p->rules)))
        return wi_error_set(p->err, WI_ENOMEM, NULL, at, "out of memory");
    for (size_t i = 0; i < p->n_rules; i++) {
        struct rule *r = &p->rules[i];
        const json_t *src = json_array_get(rules, i), *steps = json_object_get(src, "init");
        wi_priv_path_index(r->path, sizeof r->path, at, i);
        r->layer = json_object_get(src, "layer");
        r->name = json_object_get(src, "name");
        r->n_steps = json_is_array(steps) ? json_array_size(steps) : 1;
        if (!(r->steps = calloc(r->n_steps, sizeof *r->steps)))
            return wi_error_set(p->err, WI_ENOMEM, NULL, at, "out of memory");
        for (size_t k = 0; k < r->n_steps; k++) {
            struct step *s = &r->steps[k];
            wi_priv_element_path(s->path, sizeof s->path, r->path, "init", steps, k);
            int rc = build_step(s, json_is_array(steps) ? json_array_get(steps, k) : steps,
                                p->ctx, p->err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static size_t count(const json_t *v) { return json_is_string(v) ? 1 : json_array_size(v); }

static const char *at(const json_t *v, size_t i)
{
    return json_string_value(json_is_string(v) ? v : json_array_get(v, i));
}

/* isinstance: the module's type or one of its bases is named. */
static int layer_ok(const wi_module_t *m, const json_t *layer)
{
    for (size_t i = 0; layer && i < count(layer); i++)
        if (wi_module_matches_layer(m, at(layer, i)))
            return 1;
    return !layer;
}

/* The module's dotted name from the pass root ("" for the root), matched
 * with names' patterns. */
static int name_ok(const char *name, const json_t *pattern)
{
    for (size_t i = 0; pattern && i < count(pattern); i++)
        if (wi_priv_glob_match(at(pattern, i), name) == 1)
            return 1;
    return !pattern;
}

static int run_step(struct pass *p, struct step *s, wi_module_t *m)
{
    if (s->names)
        return wi_priv_run_names_with(m, &s->in, s->names, s->path, p->ctx, NULL, p->err);
    int rc = s->in.type->init_module(s->in.self, wi_priv_host(), m, p->ctx, p->err);
    if (rc < 0 && p->err && !p->err->path[0]) /* an init.h refusal: the step's fault */
        snprintf(p->err->path, sizeof p->err->path, "%s", s->path);
    return rc < 0 ? rc
                  : wi_priv_attribute(p->ctx, m, s->in.type->info(s->in.self), s->path,
                                      NULL, p->err);
}

/* The first rule that matches m, its steps in order. */
static int visit_one(struct pass *p, wi_module_t *m, const char *name)
{
    for (size_t i = 0; i < p->n_rules; i++) {
        struct rule *r = &p->rules[i];
        if (!layer_ok(m, r->layer) || !name_ok(name, r->name))
            continue;
        r->hits++;
        for (size_t k = 0; k < r->n_steps; k++) {
            int rc = run_step(p, &r->steps[k], m);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    return 0;
}

static int walk(struct pass *p, wi_module_t *m, const char *name)
{
    int rc = p->post ? 0 : visit_one(p, m, name);
    for (size_t i = 0; rc == 0 && i < wi_module_child_count(m); i++) {
        wi_module_t *c = wi_module_child(m, i);
        char sub[WI_PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", name, name[0] ? "." : "",
                 wi_priv_module_name(c));
        rc = walk(p, c, sub);
    }
    return rc == 0 && p->post ? visit_one(p, m, name) : rc;
}

/* --strict's view: a rule no module matched, with the type or base it
 * likely meant. */
static int report_unmatched(const struct pass *p, wi_module_t *m,
                            struct wi_priv_entry_diag *de)
{
    for (size_t i = 0; de && i < p->n_rules; i++) {
        const struct rule *r = &p->rules[i];
        if (r->hits)
            continue;
        const char *best = NULL;
        wi_priv_suggest_t s;
        for (size_t k = 0; r->layer && k < count(r->layer) && !best; k++) {
            wi_priv_suggest_init(&s, at(r->layer, k));
            wi_module_apply(m, wi_priv_offer_types, &s);
            best = wi_priv_suggest_best(&s);
        }
        de->explained = 1;
        if (wi_priv_diag_add(de->list, WI_DIAG_LAYER_UNMATCHED, r->path, best,
                             "this rule matches no module in %s (none of its "
                             "layer and name)%s%s%s", wi_module_type(m),
                             best ? "; did you mean '" : "", best ? best : "",
                             best ? "'?" : "") < 0)
            return WI_ENOMEM;
    }
    return 0;
}

int wi_priv_run_pass(wi_module_t *m, const json_t *cfg, const char *path,
                     wi_context_t *ctx, struct wi_priv_entry_diag *de, wi_error_t *err)
{
    int rc = wi_priv_check_pass(cfg, path, err);
    if (rc < 0)
        return rc;
    const char *kind = json_object_get(cfg, "apply") ? "apply" : "modules";
    char where[WI_PATH_MAX];
    wi_priv_path_key(where, sizeof where, path, kind);
    struct pass p = {NULL, 0, kind[0] == 'a', ctx, err};
    rc = build_rules(&p, json_object_get(cfg, kind), where);
    if (rc == 0)
        rc = walk(&p, m, "");
    if (rc == 0)
        rc = report_unmatched(&p, m, de);
    free_rules(&p);
    return rc;
}

/* A node's construction-time "init": its entries run on the module just
 * built, with their writes attributed to their JSON paths. */
static int construct_init(wi_module_t *m, const json_t *init, const char *path,
                          wi_context_t *ctx, wi_error_t *err)
{
    return wi_priv_initialize_at(m, init, path, ctx, err);
}

__attribute__((constructor)) static void install(void)
{
    wi_priv_model_install_init(construct_init);
}
