/* One initializer config: MMEngine's _initialize, the initializer built
 * from the entry's type and arguments and run on the modules its layer
 * selects (mmengine/model/weight_init.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>
#include <weightinit/functional.h>
#include <weightinit/registry.h>

#include "base/jsonutil.h"
#include "base/pyrepr.h"
#include "base/suggest.h"
#include "engine/diagnostics_internal.h"
#include "engine/engine_internal.h"
#include "plugin/registry_internal.h"

int wi_priv_cfg_error(const char *path, const char *key, wi_error_t *err,
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
        return wi_priv_cfg_error(path, "bias", err, WI_EINVAL,
                                 "bias must be a number, got %s",
                                 wi_priv_json_repr(bias, repr, sizeof repr));
    if (prob && !json_is_null(prob) && !json_is_real(prob))
        return wi_priv_cfg_error(path, "bias_prob", err, WI_EINVAL,
                                 "bias_prob must be a float, got %s",
                                 wi_priv_json_repr(prob, repr, sizeof repr));
    int layer_ok = !l || json_is_null(l) || json_is_string(l) || json_is_array(l);
    for (size_t i = 0; layer_ok && json_is_array(l) && i < json_array_size(l); i++)
        layer_ok = json_is_string(json_array_get(l, i));
    if (!layer_ok)
        return wi_priv_cfg_error(path, "layer", err, WI_EINVAL,
                                 "layer must be a str or a list of str, got %s",
                                 wi_priv_json_repr(l, repr, sizeof repr));
    if (prob && json_is_real(prob)) {
        double p = json_real_value(prob);
        /* bias_init_with_prob's (1 - p) / p is a Python float division,
         * raised in BaseInit.__init__, before any module is matched. */
        if (p == 0.0)
            return wi_priv_cfg_error(path, "bias_prob", err, WI_EINVAL,
                                     "bias_prob=%s: bias_init_with_prob "
                                     "computes -log((1 - p) / p): "
                                     "ZeroDivisionError: float division by "
                                     "zero; expected a probability in (0, 1)",
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
    const json_t *layer;    /* string or list; NULL matches nothing */
    unsigned char *matched; /* per layer name: matched some module */
    int wholemodule;
    wi_context_t *ctx;
    wi_error_t *err;
};

static size_t layer_count(const json_t *layer)
{
    return json_is_string(layer) ? 1 : json_array_size(layer);
}

static const char *layer_at(const json_t *layer, size_t i)
{
    return json_string_value(json_is_string(layer) ? layer
                                                   : json_array_get(layer, i));
}

/* Every name is tried (not just up to the first match) so that the
 * diagnostics know which names matched. */
static int layer_matches(const wi_module_t *m, const json_t *layer,
                         unsigned char *matched)
{
    int any = 0;
    for (size_t i = 0; i < layer_count(layer); i++)
        if (wi_module_matches_layer(m, layer_at(layer, i))) {
            any = 1;
            if (matched)
                matched[i] = 1;
        }
    return any;
}

/* MMEngine's inner init(m), applied children-first by module.apply. */
static int visit(wi_module_t *m, void *ud)
{
    struct walk *w = ud;
    if (!w->wholemodule && !layer_matches(m, w->layer, w->matched))
        return 0;
    int rc = w->type->init_module(w->self, wi_priv_host(), m, w->ctx, w->err);
    return rc < 0 ? rc : 0;
}

/* Names the initializer and its init_cfg entry in an error raised while
 * it ran.  An error that names another file (Pretrained's checkpoint or
 * URL) keeps its own place in that file: the init_cfg path belongs to the
 * model file, which the caller fills in.  But a message that already
 * names its file ("x.pth can not be found.", MMEngine's words for a
 * missing checkpoint) is the entry's fault and takes the entry's place.
 * A bare name as the path is the argument an init.h function refused
 * ("a"), which a plugin did not turn into its config key: the entry's
 * path it is, the argument said in words. */
static void locate(wi_error_t *err, const char *path, const char *type)
{
    if (!err)
        return;
    size_t n = strlen(err->source);
    if (n && !err->path[0] && strncmp(err->text, err->source, n) == 0 &&
        err->text[n] == ' ')
        err->source[0] = '\0';
    int here = !err->source[0]; /* the error is in the model file */
    if (here && strpbrk(err->path, ".["))
        return; /* already at its place */
    char arg[64] = "";
    if (here && err->path[0])
        snprintf(arg, sizeof arg, ", argument '%.40s'", err->path);
    size_t len = strlen(err->text);
    if (len + strlen(type) + strlen(arg) + 8 < sizeof err->text)
        snprintf(err->text + len, sizeof err->text - len, " (in %s%s)", type,
                 arg);
    if (here)
        snprintf(err->path, sizeof err->path, "%s", path);
}

void wi_priv_instance_free(struct wi_priv_instance *in)
{
    if (in->self)
        in->type->destroy(in->self);
    json_decref(in->layer);
    json_decref(in->args);
    memset(in, 0, sizeof *in);
}

int wi_priv_instance_new(const json_t *cfg, const char *path,
                         wi_context_t *ctx, struct wi_priv_instance *in,
                         wi_error_t *err)
{
    memset(in, 0, sizeof *in);
    json_t *type_v = json_object_get(cfg, "type");
    if (!json_is_string(type_v))
        return wi_priv_cfg_error(path, "type", err, WI_EINVAL, "%s",
                                 "every init_cfg needs a string 'type' naming "
                                 "an initializer");
    in->type = wi_registry_find_initializer(wi_context_registry(ctx),
                                            json_string_value(type_v), err);
    if (!in->type) {
        char full[WI_PATH_MAX];
        wi_priv_path_key(full, sizeof full, path, "type");
        if (err)
            snprintf(err->path, sizeof err->path, "%s", full);
        return WI_ENOTFOUND;
    }
    /* A failed copy would run the initializer with its defaults. */
    if (!(in->args = json_deep_copy(cfg)))
        return wi_priv_cfg_error(path, "", err, WI_ENOMEM, "%s",
                                 "out of memory copying the init_cfg entry");
    json_object_del(in->args, "type");
    wi_init_base_t base = {0.0, "0"};
    int rc = 0;
    if (in->type->flags & WI_INIT_BASE_ARGS)
        rc = parse_base(in->args, path, &base, &in->layer, err);
    if (rc == 0 && !(in->self = in->type->create(wi_priv_host(), (const wi_value_t *)in->args,
                                                 &base, NULL, path, err)))
        rc = err && err->code ? err->code : WI_EINVAL;
    if (rc < 0)
        wi_priv_instance_free(in);
    return rc;
}

/* did-you-mean candidates for a layer name: every type and base in m. */
int wi_priv_offer_types(wi_module_t *m, void *ud)
{
    wi_priv_suggest_t *s = ud;
    wi_priv_suggest_offer(s, wi_module_type(m), NULL);
    for (size_t i = 0; i < wi_module_base_count(m); i++)
        wi_priv_suggest_offer(s, wi_module_base(m, i), NULL);
    return 0;
}

void wi_priv_element_path(char *out, size_t size, const char *path,
                          const char *key, const json_t *v, size_t i)
{
    char kpath[WI_PATH_MAX];
    wi_priv_path_key(kpath, sizeof kpath, path, key);
    if (json_is_array(v))
        wi_priv_path_index(out, size, kpath, i);
    else
        snprintf(out, size, "%s", kpath);
}

static int report_layers(wi_module_t *m, const json_t *layer,
                         const unsigned char *matched, const char *path,
                         struct wi_priv_entry_diag *de)
{
    for (size_t i = 0; i < layer_count(layer); i++) {
        if (matched[i])
            continue;
        char full[WI_PATH_MAX];
        const char *name = layer_at(layer, i);
        wi_priv_element_path(full, sizeof full, path, "layer", layer, i);
        wi_priv_suggest_t s;
        wi_priv_suggest_init(&s, name);
        wi_module_apply(m, wi_priv_offer_types, &s);
        const char *best = wi_priv_suggest_best(&s);
        de->explained = 1;
        if (wi_priv_diag_add(de->list, WI_DIAG_LAYER_UNMATCHED, full, best,
                             "layer '%s' matches no module type or base class "
                             "in %s%s%s%s", name, wi_module_type(m),
                             best ? "; did you mean '" : "", best ? best : "",
                             best ? "'?" : "") < 0)
            return WI_ENOMEM;
    }
    return 0;
}

int wi_priv_run_initializer(wi_module_t *m, const json_t *cfg,
                            int wholemodule, const char *path,
                            wi_context_t *ctx, struct wi_priv_entry_diag *de,
                            wi_error_t *err)
{
    struct wi_priv_instance in;
    int rc = wi_priv_instance_new(cfg, path, ctx, &in, err);
    if (rc < 0)
        return rc;
    size_t n = layer_count(in.layer);
    unsigned char *matched = n ? calloc(n, 1) : NULL;
    if (n && !matched)
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    if (rc == 0) {
        struct walk w = {in.type, in.self, in.layer, matched, wholemodule, ctx, err};
        rc = in.type->apply ? in.type->apply(in.self, wi_priv_host(), m, ctx, err)
                            : wi_module_apply(m, visit, &w);
        if (rc < 0)
            locate(err, path, in.type->name);
        else
            rc = wi_priv_attribute(ctx, m, in.type->info(in.self), path,
                                   de ? &de->writes : NULL, err);
    }
    if (rc == 0 && de && !wholemodule && !in.type->apply)
        rc = report_layers(m, in.layer, matched, path, de);
    free(matched);
    wi_priv_instance_free(&in);
    return rc < 0 ? rc : 0;
}
