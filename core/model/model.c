/* The model JSON loader (model-format.md): module nodes, built-in layers,
 * custom modules, the root's plugins; definitions and members are in
 * model_defs.c and model_members.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <weightinit/model.h>
#include <weightinit/registry.h>

#include "base/input.h"
#include "base/jsonutil.h"
#include "base/suggest.h"
#include "model/model_internal.h"
#include "model/module_internal.h"
#include "plugin/registry_internal.h"


int wi_priv_model_node_error(const struct wi_loader *l, const char *path,
                             const char *key, const json_t *v,
                             const char *expected)
{
    char full[WI_PATH_MAX], repr[80];
    wi_priv_path_key(full, sizeof full, path, key);
    return wi_error_set(l->err, WI_EINVAL, l->source, full,
                        "expected %s, got %s", expected,
                        wi_priv_json_repr(v, repr, sizeof repr));
}


static const char *const custom_keys[] = {"type", "children", "params",
                                          "init_cfg", "bases", "plain",
                                          "repeat", "child", "clone", "order",
                                          "init", "buffers", NULL};

static wi_priv_model_init_fn construct_init;

void wi_priv_model_install_init(wi_priv_model_init_fn fn) { construct_init = fn; }

/* The node's "init": run on m as soon as it is built, before any later
 * sibling (code at the end of a module's __init__). */
static int run_construct_init(const struct wi_loader *l, wi_module_t *m,
                              const json_t *node, const json_t *origin,
                              const char *path)
{
    const json_t *init = json_object_get(node, "init");
    if (!init)
        return 0;
    char at[WI_PATH_MAX];
    wi_priv_path_key(at, sizeof at, wi_priv_model_key_base(origin, path, "init"), "init");
    if (!construct_init)
        return wi_error_set(l->err, WI_EUNSUPPORTED, l->source, at,
                            "construction-time init is not available");
    int rc = construct_init(m, init, at, l->ctx, l->err);
    if (rc < 0 && l->err && !l->err->source[0] && l->source)
        snprintf(l->err->source, sizeof l->err->source, "%s", l->source);
    return rc;
}

/* The built-in layer type that `type` likely misspells: equal but for
 * case (Layernorm, BatchNorm2D), else close (suggest.h); NULL if none. */
static const char *builtin_like(const char *type, wi_priv_suggest_t *s)
{
    wi_priv_suggest_init(s, type);
    for (size_t i = 0; i < wi_layer_builtin_count(); i++) {
        const char *name = wi_layer_builtin_name(i);
        if (strcasecmp(name, type) == 0)
            return name;
        wi_priv_suggest_offer(s, name, NULL);
    }
    return wi_priv_suggest_best(s);
}

/* A custom module with nothing in it whose type is a built-in layer's
 * but for case (Prelu, Layernorm): most likely a misspelt layer that
 * would hold no weights.  Only case: a plain "ReLU" node is one letter
 * from "PReLU" and means what it says. */
static void warn_if_misspelt(const struct wi_loader *l, const json_t *node,
                             const char *type, const char *path)
{
    static const char *const members[] = {"children", "params", "buffers", "repeat", NULL};
    for (size_t i = 0; members[i]; i++)
        if (json_object_get(node, members[i]))
            return;
    wi_priv_suggest_t s;
    const char *like = builtin_like(type, &s);
    if (like && strcasecmp(like, type) == 0)
        wi_context_log(l->ctx, WI_LOG_WARNING,
                       "%s: %s: '%s' is not a built-in layer type, so it is an "
                       "empty custom module; did you mean '%s'?",
                       l->source ? l->source : "(model)", path[0] ? path : "(root)",
                       type, like);
}

static int check_custom_keys(const struct wi_loader *l, const json_t *node,
                             const json_t *origin, const char *path,
                             int is_root)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v) {
        int ok = is_root && (strcmp(key, "plugins") == 0 ||
                             strcmp(key, "tie") == 0 || /* model/tie.c */
                             strcmp(key, "definitions") == 0);
        for (size_t i = 0; custom_keys[i] && !ok; i++)
            ok = strcmp(custom_keys[i], key) == 0;
        if (!ok) {
            char full[WI_PATH_MAX], mean[160] = "";
            const char *type = json_string_value(json_object_get(node, "type"));
            wi_priv_suggest_t s;
            const char *like = builtin_like(type, &s);
            if (like)
                snprintf(mean, sizeof mean, "; did you mean '%s'?", like);
            wi_priv_path_key(full, sizeof full,
                             wi_priv_model_key_base(origin, path, key), key);
            return wi_error_set(l->err, WI_EINVAL, l->source, full,
                                "unknown key '%s' in custom module '%s' "
                                "(accepted: type, children, params, init_cfg, "
                                "bases, plain, repeat, child, clone, order, init, "
                                "buffers; "
                                "'%s' is not a built-in layer type%s)", key, type,
                                type, mean);
        }
    }
    return 0;
}

static int add_bases(const struct wi_loader *l, wi_module_t *m,
                     const json_t *bases, const char *path)
{
    if (!bases)
        return wi_priv_module_add_base_static(
            m, wi_module_is_base_module(m) ? "BaseModule" : "Module", l->err);
    if (!json_is_array(bases))
        return wi_priv_model_node_error(l, path, "bases", bases, "a list of class names");
    for (size_t i = 0; i < json_array_size(bases); i++) {
        json_t *b = json_array_get(bases, i);
        if (!json_is_string(b))
            return wi_priv_model_node_error(l, path, "bases", bases, "a list of class names");
        int rc = wi_module_add_base(m, json_string_value(b), l->err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int check_init_cfg(const struct wi_loader *l, const json_t *cfg,
                          const char *path, int is_base)
{
    if (!is_base)
        return wi_priv_model_node_error(l, path, "init_cfg", cfg,
                          "no init_cfg on a plain module (\"plain\": true)");
    if (json_is_object(cfg))
        return 0;
    if (json_is_array(cfg)) {
        char apath[WI_PATH_MAX];
        wi_priv_path_key(apath, sizeof apath, path, "init_cfg");
        for (size_t i = 0; i < json_array_size(cfg); i++) {
            char ipath[WI_PATH_MAX];
            wi_priv_path_index(ipath, sizeof ipath, apath, i);
            if (!json_is_object(json_array_get(cfg, i)))
                return wi_priv_model_node_error(l, ipath, "", json_array_get(cfg, i),
                                  "an initializer config object with a 'type'");
        }
        return 0;
    }
    return wi_priv_model_node_error(l, path, "init_cfg", cfg,
                      "an object or a list of objects");
}

/* A module type from a plugin adds its own parameters and init_weights. */
static int apply_module_type(const struct wi_loader *l, wi_module_t *m,
                             const wi_module_type_t *mt, const json_t *node,
                             const char *path)
{
    int rc = 0;
    if (mt->construct) {
        rc = mt->construct(wi_priv_host(), m, (const wi_value_t *)node, l->ctx,
                           l->source, path, l->err);
        if (rc < 0 && l->err && !l->err->source[0])
            snprintf(l->err->source, sizeof l->err->source, "%s",
                     l->source ? l->source : "");
    }
    if (rc == 0)
        wi_module_set_init_weights(m, mt->init_weights);
    return rc;
}

static wi_module_t *build_custom(const struct wi_loader *l, const json_t *node,
                                 const json_t *origin, const char *type,
                                 const char *path)
{
    const wi_module_type_t *mt =
        wi_registry_find_module_type(wi_context_registry(l->ctx), type);
    json_t *plain = json_object_get(node, "plain");
    if (plain && !json_is_boolean(plain)) {
        wi_priv_model_node_error(l, wi_priv_model_key_base(origin, path, "plain"),
                                 "plain", plain, "true or false");
        return NULL;
    }
    int is_base = plain ? !json_is_true(plain) : mt ? mt->is_base_module : 1;
    wi_module_t *m = wi_module_new(type, is_base);
    if (!m) {
        wi_error_set(l->err, WI_ENOMEM, l->source, path, "out of memory");
        return NULL;
    }
    json_t *v;
    /* A plugin's module type validates its own extra keys in construct. */
    int rc = mt ? 0 : check_custom_keys(l, node, origin, path, path[0] == '\0');
    if (rc == 0 && !mt)
        warn_if_misspelt(l, node, type, path);
    if (rc == 0)
        rc = add_bases(l, m, json_object_get(node, "bases"),
                       wi_priv_model_key_base(origin, path, "bases"));
    const char *cfg_at = wi_priv_model_key_base(origin, path, "init_cfg");
    if (rc == 0 && (v = json_object_get(node, "init_cfg")) &&
        (rc = check_init_cfg(l, v, cfg_at, is_base)) == 0) {
        json_t *cfg = json_deep_copy(v);
        if (!cfg) /* a lost init_cfg would initialise nothing, silently */
            rc = wi_error_set(l->err, WI_ENOMEM, l->source, cfg_at,
                              "out of memory copying init_cfg");
        wi_module_set_init_cfg_new(m, (wi_value_t *)cfg);
    }
    if (rc == 0)
        rc = wi_priv_model_build_members(l, m, node, origin, path);
    if (rc == 0 && mt)
        rc = apply_module_type(l, m, mt, node, path);
    if (rc == 0)
        rc = run_construct_init(l, m, node, origin, path);
    if (rc < 0) {
        wi_module_free(m);
        return NULL;
    }
    return m;
}

int wi_priv_model_count_modules(const struct wi_loader *l, size_t n,
                                const char *path)
{
    *l->modules += n;
    if (*l->modules <= WI_MODEL_MAX_MODULES)
        return 0;
    return wi_error_set(l->err, WI_EINVAL, l->source, path,
                        "the model has more than %d modules (through repeat "
                        "and use); that is more than any real model, and "
                        "would not fit in memory", WI_MODEL_MAX_MODULES);
}

static wi_module_t *build_resolved(const struct wi_loader *l, const json_t *node,
                                   const json_t *origin, const char *path)
{
    if (wi_priv_model_count_modules(l, 1, path) < 0)
        return NULL;
    if (!json_is_object(node)) {
        wi_priv_model_node_error(l, path, "", node, "a module object with a \"type\"");
        return NULL;
    }
    json_t *type = json_object_get(node, "type");
    if (!json_is_string(type)) {
        wi_priv_model_node_error(l, path, "type", type ? type : json_null(),
                   "a string naming the module's class");
        return NULL;
    }
    const char *t = json_string_value(type);
    if (wi_layer_is_builtin(t))
        return wi_layer_new(t, (const wi_value_t *)node, l->ctx, l->source, path, l->err);
    return build_custom(l, node, origin, t, path);
}

static wi_module_t *build_at_depth(const struct wi_loader *l,
                                   const json_t *node, const char *path)
{
    if (!json_is_object(node) || !json_object_get(node, "use"))
        return build_resolved(l, node, NULL, path);
    json_t *origin, *merged = wi_priv_model_resolve_use(l, node, path, &origin);
    wi_module_t *m = merged ? build_resolved(l, merged, origin, path) : NULL;
    if (merged && !m)
        wi_priv_model_blame_origin(l, path, origin);
    json_decref(merged);
    json_decref(origin);
    return m;
}

/* Depth counts the modules from the root, however they nest (children,
 * repeat, definitions that use definitions), so it is the same whatever
 * order the file lists its definitions in. */
wi_module_t *wi_priv_model_build_node(const struct wi_loader *l,
                                      const json_t *node, const char *path)
{
    if (*l->depth >= WI_MODULE_MAX_DEPTH) {
        wi_error_set(l->err, WI_EINVAL, l->source, path,
                     "expected a model at most %d modules deep (the root "
                     "is 1; children, repeat and use all nest), found a "
                     "module at depth %zu here", WI_MODULE_MAX_DEPTH,
                     *l->depth + 1);
        return NULL;
    }
    ++*l->depth;
    wi_module_t *m = build_at_depth(l, node, path);
    --*l->depth;
    return m;
}

/* The root's "plugins": native code the model file asks for, loaded
 * before anything is built, relative to the model file's folder; each
 * file loaded now is logged so that a user sees what a model runs. */
static int load_model_plugins(const struct wi_loader *l, const json_t *list)
{
    if (!json_is_array(list))
        return wi_priv_model_node_error(l, "", "plugins", list, "a list of plugin file paths");
    const char *slash = l->source ? strrchr(l->source, '/') : NULL;
    int dirlen = slash ? (int)(slash - l->source) : 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *p = json_array_get(list, i);
        char ipath[WI_PATH_MAX], file[4096];
        wi_priv_path_index(ipath, sizeof ipath, "plugins", i);
        if (!json_is_string(p) || !json_string_value(p)[0])
            return wi_priv_model_node_error(l, ipath, "", p, "a plugin file path");
        const char *name = json_string_value(p);
        if (name[0] == '/' || !slash)
            snprintf(file, sizeof file, "%s", name);
        else
            snprintf(file, sizeof file, "%.*s/%s", dirlen, l->source, name);
        wi_error_t perr;
        int loaded = 0;
        if (wi_priv_registry_load_plugin(wi_context_registry(l->ctx), file,
                                         &loaded, &perr) < 0) {
            char line[WI_ERROR_TEXT_LENGTH];
            return wi_error_set(l->err, perr.code, l->source, ipath, "%s",
                                wi_error_format(&perr, line, sizeof line));
        }
        if (loaded)
            wi_context_log(l->ctx, WI_LOG_WARNING,
                           "loading plugin %s (native code) from model %s",
                           file, l->source ? l->source : "(no file)");
    }
    return 0;
}

int wi_model_load_plugins(const wi_value_t *root_v, wi_context_t *ctx,
                          const char *source, wi_error_t *err)
{
    const json_t *root = (const json_t *)root_v;
    size_t modules = 0, depth = 0;
    struct wi_loader l = {ctx, source, err, NULL, &modules, &depth, NULL};
    const json_t *plugins = json_is_object(root) ? json_object_get(root, "plugins")
                                                  : NULL;
    return plugins ? load_model_plugins(&l, plugins) : 0;
}

wi_module_t *wi_model_build(const wi_value_t *node_v, wi_context_t *ctx,
                            const char *source, const char *path,
                            wi_error_t *err)
{
    const json_t *node = (const json_t *)node_v;
    wi_error_t local;
    if (!err) /* the loader reads back codes it set */
        err = &local;
    wi_error_clear(&local);
    size_t modules = 0, depth = 0;
    struct wi_loader l = {ctx, source, err, NULL, &modules, &depth, NULL};
    int is_root = !path || !path[0];
    json_t *plugins = json_object_get(node, "plugins");
    wi_module_t *m = NULL;
    if ((!plugins || !is_root || load_model_plugins(&l, plugins) == 0) &&
        (!is_root || wi_priv_model_check_definitions(&l, node) == 0))
        m = wi_priv_model_build_node(&l, node, path ? path : "");
    json_decref(l.resolved);
    return m;
}

wi_value_t *wi_model_read_file(const char *path, wi_error_t *err)
{
    if (!path) {
        wi_error_set(err, WI_EINVAL, NULL, NULL, "no model file given");
        return NULL;
    }
    return (wi_value_t *)wi_priv_load_json_input(path, "a model file", JSON_REJECT_DUPLICATES,
                                   err);
}

wi_module_t *wi_model_load_file(const char *path, wi_context_t *ctx,
                                wi_error_t *err)
{
    json_t *root = (json_t *)wi_model_read_file(path, err);
    wi_module_t *m = root ? wi_model_build((const wi_value_t *)root, ctx, path, "", err) : NULL;
    json_decref(root);
    return m;
}
