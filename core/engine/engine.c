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

#include "base/input.h"
#include "base/jsonutil.h"
#include "base/map.h"
#include "base/pyrepr.h"
#include "base/suggest.h"
#include "context/context_internal.h"
#include "engine/diagnostics_internal.h"
#include "engine/engine_internal.h"
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
        wi_priv_module_set_written(m, i, 0);
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
static int64_t attribute_run(const wi_context_t *ctx, size_t begin,
                             size_t end, const char *info, const char *source,
                             wi_error_t *err)
{
    struct wi_priv_tracker *t = ctx->tracker;
    int64_t seen = 0;
    for (size_t k = begin; k < end; k++) {
        struct tracked *p = &t->items[k];
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

/* Attributes every parameter written since the last call to `info`,
 * adding the number of writes seen to *count (when not NULL).
 * Initializers and init_weights write inside the subtree of m they were
 * given, so only that run is compared; when the process-wide write count
 * says some write happened elsewhere (a plugin writing outside its
 * module, scratch tensors), the rest of the tree is compared too. */
static int attribute(wi_context_t *ctx, wi_module_t *m, const char *info,
                     const char *source, int64_t *count, wi_error_t *err)
{
    struct wi_priv_tracker *t = ctx->tracker;
    if (!t)
        return 0;
    uint64_t writes = wi_priv_tensor_writes();
    size_t r;
    struct run run = {0, t->n};
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

static int is_pretrained(const json_t *cfg)
{
    const char *t = json_string_value(json_object_get(cfg, "type"));
    return t && strcmp(t, "Pretrained") == 0;
}

/* What one init_cfg entry did, for the diagnostics.  NULL when they are
 * not collected: no list on the context, or an initialize() nested in a
 * user's init_weights, whose JSON paths are not the model file's. */
struct entry_diag {
    wi_diagnostics_t *list;
    int64_t writes; /* parameter writes the entry made */
    int explained;  /* a more specific diagnostic was added */
};

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

/* An initializer built from one config (which has no override). */
struct instance {
    const wi_initializer_type_t *type;
    void *self;
    json_t *args, *layer;
};

static void instance_free(struct instance *in)
{
    if (in->self)
        in->type->destroy(in->self);
    json_decref(in->layer);
    json_decref(in->args);
    memset(in, 0, sizeof *in);
}

static int instance_new(const json_t *cfg, const char *path, wi_context_t *ctx,
                        struct instance *in, wi_error_t *err)
{
    memset(in, 0, sizeof *in);
    json_t *type_v = json_object_get(cfg, "type");
    if (!json_is_string(type_v))
        return cfg_error(path, "type", err, WI_EINVAL, "%s",
                         "every init_cfg needs a string 'type' naming an "
                         "initializer");
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
        return cfg_error(path, "", err, WI_ENOMEM, "%s",
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
        instance_free(in);
    return rc;
}

/* did-you-mean candidates for a layer name: every type and base in m. */
static int offer_types(wi_module_t *m, void *ud)
{
    wi_priv_suggest_t *s = ud;
    wi_priv_suggest_offer(s, wi_module_type(m), NULL);
    for (size_t i = 0; i < wi_module_base_count(m); i++)
        wi_priv_suggest_offer(s, wi_module_base(m, i), NULL);
    return 0;
}

static void element_path(char *out, size_t size, const char *path,
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
                         struct entry_diag *de)
{
    for (size_t i = 0; i < layer_count(layer); i++) {
        if (matched[i])
            continue;
        char full[WI_PATH_MAX];
        const char *name = layer_at(layer, i);
        element_path(full, sizeof full, path, "layer", layer, i);
        wi_priv_suggest_t s;
        wi_priv_suggest_init(&s, name);
        wi_module_apply(m, offer_types, &s);
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

/* _initialize(module, cfg, wholemodule): builds the initializer from cfg
 * (which has no override) and runs it on m. */
static int run_initializer(wi_module_t *m, const json_t *cfg, int wholemodule,
                           const char *path, wi_context_t *ctx,
                           struct entry_diag *de, wi_error_t *err)
{
    struct instance in;
    int rc = instance_new(cfg, path, ctx, &in, err);
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
            rc = attribute(ctx, m, in.type->info(in.self), path,
                           de ? &de->writes : NULL, err);
    }
    if (rc == 0 && de && !wholemodule && !in.type->apply)
        rc = report_layers(m, in.layer, matched, path, de);
    free(matched);
    instance_free(&in);
    return rc < 0 ? rc : 0;
}

/* ---- names: parameters selected by dotted-name patterns ---------------- */

/* One name component against one pattern component: '*' matches any run
 * of characters (never a '.', components were split before). */
static int glob_component(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = (size_t)-1, back = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            back = si;
        } else if (pi < pn && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++back;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

struct comp {
    const char *s;
    size_t n;
};

/* The dotted components of s into out (NULL: only counted). */
static size_t split_dots(const char *s, struct comp *out)
{
    for (size_t k = 0;; k++) {
        const char *e = strchr(s, '.');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (out)
            out[k] = (struct comp){s, n};
        if (!e)
            return k + 1;
        s = e + 1;
    }
}

/* A dotted pattern against a dotted name: a component "**" matches any
 * number of whole components (zero or more; at the end, one or more).
 * 1, 0, or WI_ENOMEM.  Dynamic programming over the components (row i:
 * does pattern[i..] match name[j..]), so many '**' cost O(P * N) and can
 * never take exponential time as backtracking would. */
static int glob_match(const char *pattern, const char *name)
{
    size_t pc = split_dots(pattern, NULL), nc = split_dots(name, NULL);
    struct comp *p = malloc((pc + nc) * sizeof *p);
    unsigned char *rows = malloc(2 * (nc + 1)), *next = rows, *cur = rows + nc + 1;
    int rc = WI_ENOMEM;
    if (p && rows) {
        struct comp *n = p + pc;
        split_dots(pattern, p);
        split_dots(name, n);
        for (size_t j = 0; j <= nc; j++)
            next[j] = j == nc;
        for (size_t i = pc; i-- > 0;) {
            int any = p[i].n == 2 && p[i].s[0] == '*' && p[i].s[1] == '*';
            for (size_t j = nc + 1; j-- > 0;)
                cur[j] = any && i == pc - 1 ? j < nc
                         : any ? next[j] || (j < nc && cur[j + 1])
                               : j < nc && next[j + 1] &&
                                     glob_component(p[i].s, p[i].n, n[j].s, n[j].n);
            unsigned char *t = next;
            next = cur;
            cur = t;
        }
        rc = next[0];
    }
    free(p);
    free(rows);
    return rc;
}

struct names_walk {
    struct instance *in;
    const json_t *names;
    unsigned char *matched;
    const char *path;
    wi_context_t *ctx;
    wi_error_t *err;
    int rc;
};

static int names_visit(const char *name, wi_module_t *owner, size_t i, void *ud)
{
    struct names_walk *w = ud;
    int any = 0;
    for (size_t k = 0; k < json_array_size(w->names); k++) {
        int m = glob_match(json_string_value(json_array_get(w->names, k)), name);
        if (m < 0) {
            w->rc = wi_error_set(w->err, WI_ENOMEM, NULL, NULL, "out of memory");
            return 1;
        }
        if (m) {
            any = 1;
            w->matched[k] = 1;
        }
    }
    if (!any)
        return 0;
    w->rc = w->in->type->init_tensor(w->in->self, wi_priv_host(),
                                     wi_module_parameter(owner, i), w->ctx, w->err);
    if (w->rc < 0 && w->err && !strpbrk(w->err->path, ".[")) {
        /* As locate(): a bare name is a refused argument. */
        char arg[64] = "";
        if (w->err->path[0])
            snprintf(arg, sizeof arg, ", argument '%.40s'", w->err->path);
        size_t len = strlen(w->err->text);
        snprintf(w->err->text + len, sizeof w->err->text - len,
                 " (in %s, parameter '%s'%s)", w->in->type->name, name, arg);
        wi_priv_path_key(w->err->path, sizeof w->err->path, w->path, "names");
    }
    return w->rc < 0;
}

/* Compares a pattern with a name as the name would be spelt if each of
 * the pattern's wildcard components were the name's: "h.*.atn" vs
 * "h.0.attn" is one letter off, not three. */
static void offer_param(wi_priv_suggest_t *s, const char *name)
{
    char filled[256] = "";
    const char *p = s->want, *n = name;
    size_t len = 0;
    while (*p && *n && len + 1 < sizeof filled) {
        const char *pe = strchr(p, '.'), *ne = strchr(n, '.');
        size_t pn = pe ? (size_t)(pe - p) : strlen(p);
        size_t nn = ne ? (size_t)(ne - n) : strlen(n);
        int wild = memchr(p, '*', pn) != NULL;
        len += (size_t)snprintf(filled + len, sizeof filled - len, "%s%.*s",
                                len ? "." : "", (int)(wild ? nn : pn),
                                wild ? n : p);
        p = pe ? pe + 1 : p + pn;
        n = ne ? ne + 1 : n + nn;
    }
    wi_priv_suggest_offer(s, name, !*p && !*n && len < sizeof filled ? filled : NULL);
}

struct offer_names {
    wi_priv_suggest_t *s;
};

static int offer_names_visit(const char *name, wi_module_t *owner, size_t i,
                             void *ud)
{
    (void)owner;
    (void)i;
    offer_param(((struct offer_names *)ud)->s, name);
    return 0;
}

static int report_names(wi_module_t *m, const json_t *names,
                        const unsigned char *matched, const char *path,
                        struct entry_diag *de)
{
    for (size_t k = 0; k < json_array_size(names); k++) {
        if (matched[k])
            continue;
        char full[WI_PATH_MAX];
        const char *pattern = json_string_value(json_array_get(names, k));
        element_path(full, sizeof full, path, "names", names, k);
        wi_priv_suggest_t s;
        wi_priv_suggest_init(&s, pattern);
        struct offer_names o = {&s};
        wi_module_named_parameters(m, offer_names_visit, &o);
        const char *best = wi_priv_suggest_best(&s);
        de->explained = 1;
        if (wi_priv_diag_add(de->list, WI_DIAG_NAMES_UNMATCHED, full, best,
                             "names pattern '%s' matches no parameter of %s%s%s%s",
                             pattern, wi_module_type(m),
                             best ? "; did you mean '" : "", best ? best : "",
                             best ? "'?" : "") < 0)
            return WI_ENOMEM;
    }
    return 0;
}

/* `names` is weightinit's own key: a list of patterns, alone in its entry
 * beside the initializer's arguments (what layer, override or a bias
 * would mean next to it is ambiguous, so they are refused). */
static int check_names(const json_t *cfg, const json_t *names, const char *path,
                       wi_error_t *err)
{
    char full[WI_PATH_MAX], repr[80];
    int ok = json_is_array(names) && json_array_size(names) > 0;
    for (size_t i = 0; ok && i < json_array_size(names); i++) {
        const char *s = json_string_value(json_array_get(names, i));
        ok = s && *s;
    }
    if (!ok)
        return cfg_error(path, "names", err, WI_EINVAL,
                         "names must be a non-empty list of parameter name "
                         "patterns (strings; '*' within a name component, "
                         "'**' across components), got %s",
                         wi_priv_json_repr(names, repr, sizeof repr));
    static const char *const refused[] = {"layer", "override", "bias", "bias_prob"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (!json_object_get(cfg, refused[i]))
            continue;
        wi_priv_path_key(full, sizeof full, path, refused[i]);
        return wi_error_set(err, WI_EINVAL, NULL, full,
                            "an entry with `names` applies its initializer to "
                            "the named parameters only and takes no `%s`; put "
                            "the %s rule in an entry of its own",
                            refused[i], i < 2 ? "module-wide" : "bias");
    }
    return 0;
}

/* The names entry: the initializer's tensor function on every parameter
 * of m whose dotted name (relative to m) a pattern matches, in
 * state_dict order. */
static int run_names(wi_module_t *m, const json_t *cfg, const json_t *names,
                     const char *path, wi_context_t *ctx, struct entry_diag *de,
                     wi_error_t *err)
{
    struct instance in;
    int rc = instance_new(cfg, path, ctx, &in, err);
    if (rc < 0)
        return rc;
    if (!WI_INITIALIZER_HAS(in.type, init_tensor) || !in.type->init_tensor) {
        rc = cfg_error(path, "names", err, WI_EINVAL,
                       "%s cannot take `names`: it has no tensor function "
                       "(it initialises whole modules only)", in.type->name);
        instance_free(&in);
        return rc;
    }
    unsigned char *matched = calloc(json_array_size(names), 1);
    struct names_walk w = {&in, names, matched, path, ctx, err, 0};
    if (!matched)
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    else if (wi_module_named_parameters(m, names_visit, &w) != 0)
        rc = w.rc;
    if (rc == 0)
        rc = attribute(ctx, m, in.type->info(in.self), path,
                       de ? &de->writes : NULL, err);
    if (rc == 0 && de)
        rc = report_names(m, names, matched, path, de);
    free(matched);
    instance_free(&in);
    return rc;
}

/* ---- overrides ----------------------------------------------------------- */

static int no_child(const wi_module_t *m, const char *name, const char *path,
                    wi_error_t *err)
{
    char full[WI_PATH_MAX], names[300] = "", hint[200] = "";
    size_t len = 0;
    wi_priv_suggest_t s;
    wi_priv_suggest_init(&s, name);
    for (size_t i = 0; i < wi_module_child_count(m); i++) {
        wi_priv_suggest_offer(&s, wi_module_child_name(m, i), NULL);
        if (len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                    i ? ", " : "", wi_module_child_name(m, i));
    }
    if (wi_priv_suggest_best(&s))
        snprintf(hint, sizeof hint, "; did you mean '%s'?", wi_priv_suggest_best(&s));
    wi_priv_path_key(full, sizeof full, path, "name");
    if (wi_module_find_parameter(m, name))
        return wi_error_set(err, WI_EINVAL, NULL, full,
                            "'%s' is a parameter of %s, not a child module; "
                            "override needs a child's name (children: %s); "
                            "to pick parameters by name use `names`",
                            name, wi_module_type(m), len ? names : "none");
    return wi_error_set(err, WI_ENOTFOUND, NULL, full,
                        "%s has no child '%s'%s (children: %s)",
                        wi_module_type(m), name, hint, len ? names : "none");
}

/* _initialize_override(module, override, cfg). */
static int run_override_one(wi_module_t *m, const json_t *ov, const json_t *cfg,
                            const char *path, wi_context_t *ctx,
                            struct entry_diag *de, wi_error_t *err)
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
    int rc = cp ? 0 : cfg_error(path, "", err, WI_ENOMEM, "%s",
                                "out of memory copying the override");
    json_object_del(cp, "name");
    if (rc == 0 && json_object_size(cp) == 0) {
        /* name only: reuse the parent's */
        if (json_object_update(cp, (json_t *)cfg) < 0)
            rc = cfg_error(path, "", err, WI_ENOMEM, "%s",
                           "out of memory copying the override");
    } else if (rc == 0 && !json_object_get(cp, "type"))
        rc = cfg_error(path, "type", err, WI_EINVAL, "%s",
                       "`override` with arguments needs a \"type\"");
    const char *child_name = json_string_value(name);
    wi_module_t *child = wi_module_find_child(m, child_name);
    if (rc == 0 && !child)
        rc = no_child(m, child_name, path, err);
    if (rc == 0)
        rc = run_initializer(child, cp, 1, path, ctx, de, err);
    json_decref(cp);
    return rc;
}

static int run_overrides(wi_module_t *m, const json_t *override,
                         const json_t *cfg, const char *path, wi_context_t *ctx,
                         struct entry_diag *de, wi_error_t *err)
{
    char opath[WI_PATH_MAX], ipath[WI_PATH_MAX];
    wi_priv_path_key(opath, sizeof opath, path, "override");
    if (!json_is_array(override))
        return run_override_one(m, override, cfg, opath, ctx, de, err);
    for (size_t i = 0; i < json_array_size(override); i++) {
        wi_priv_path_index(ipath, sizeof ipath, opath, i);
        int rc = run_override_one(m, json_array_get(override, i), cfg, ipath,
                                  ctx, de, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* An entry that wrote nothing and was not explained by an unmatched
 * layer or names pattern. */
static int report_no_effect(const wi_module_t *m, const json_t *cfg,
                            const char *path, struct entry_diag *de)
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
    struct entry_diag de = {ctx->diagnostics, 0, 0};
    struct entry_diag *dp = collect && ctx->diagnostics && ctx->tracker ? &de : NULL;
    json_t *cp = json_deep_copy(cfg);
    if (!cp)
        return cfg_error(path, "", err, WI_ENOMEM, "%s",
                         "out of memory copying the init_cfg entry");
    json_t *names = json_incref(json_object_get(cp, "names"));
    json_t *override = json_incref(json_object_get(cp, "override"));
    int rc = 0;
    if (names) {
        rc = check_names(cp, names, path, err);
        json_object_del(cp, "names");
        if (rc == 0)
            rc = run_names(m, cp, names, path, ctx, dp, err);
    } else {
        json_object_del(cp, "override");
        rc = run_initializer(m, cp, 0, path, ctx, dp, err);
        if (rc == 0 && override) {
            json_object_del(cp, "layer");
            rc = run_overrides(m, override, cp, path, ctx, dp, err);
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

/* Records every parameter's version; the caller points ctx->tracker at
 * t for the run and clears it (stop_tracking) before t goes away. */
static int start_tracking(wi_module_t *m, struct wi_priv_tracker *t,
                          wi_error_t *err)
{
    memset(t, 0, sizeof *t);
    t->writes = wi_priv_tensor_writes();
    if (track_module(t, m) < 0) {
        tracker_free(t);
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    }
    return 0;
}

static void stop_tracking(wi_context_t *ctx, struct wi_priv_tracker *t)
{
    ctx->tracker = NULL;
    tracker_free(t);
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
    if ((rc = start_tracking(m, &t, err)) < 0)
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
    stop_tracking(ctx, &t);
    return rc;
}

/* ---- init_weights ------------------------------------------------------ */

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
        if ((rc = attribute(ctx, c, info, "init_weights", NULL, err)) < 0)
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
    int rc = start_tracking(m, &t, err);
    if (rc < 0)
        return rc;
    ctx->tracker = &t;
    rc = call_init_weights(m, ctx, err);
    if (rc == 0 && wi_module_init_weights_fn(m)) {
        char info[300];
        snprintf(info, sizeof info,
                 "Initialized by user-defined `init_weights` in %s",
                 wi_module_type(m));
        rc = attribute(ctx, m, info, "init_weights", NULL, err);
    }
    stop_tracking(ctx, &t);
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
