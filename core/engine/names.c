/* The `names` entries: an initializer's tensor function on the
 * parameters whose dotted names match glob patterns ('*', '**'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>

#include "base/jsonutil.h"
#include "base/suggest.h"
#include "engine/diagnostics_internal.h"
#include "engine/engine_internal.h"
#include "plugin/registry_internal.h"

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
int wi_priv_glob_match(const char *pattern, const char *name)
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
    struct wi_priv_instance *in;
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
        int m = wi_priv_glob_match(json_string_value(json_array_get(w->names, k)), name);
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
        /* As locate() in init_cfg.c: a bare name is a refused
         * argument. */
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
                        struct wi_priv_entry_diag *de)
{
    for (size_t k = 0; k < json_array_size(names); k++) {
        if (matched[k])
            continue;
        char full[WI_PATH_MAX];
        const char *pattern = json_string_value(json_array_get(names, k));
        wi_priv_element_path(full, sizeof full, path, "names", names, k);
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

int wi_priv_check_names(const json_t *cfg, const json_t *names,
                        const char *path, wi_error_t *err)
{
    char full[WI_PATH_MAX], repr[80];
    int ok = json_is_array(names) && json_array_size(names) > 0;
    for (size_t i = 0; ok && i < json_array_size(names); i++) {
        const char *s = json_string_value(json_array_get(names, i));
        ok = s && *s;
    }
    if (!ok)
        return wi_priv_cfg_error(path, "names", err, WI_EINVAL,
                                 "names must be a non-empty list of parameter "
                                 "name patterns (strings; '*' within a name "
                                 "component, '**' across components), got %s",
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

int wi_priv_run_names_with(wi_module_t *m, struct wi_priv_instance *in,
                           const json_t *names, const char *path, wi_context_t *ctx,
                           struct wi_priv_entry_diag *de, wi_error_t *err)
{
    if (!WI_INITIALIZER_HAS(in->type, init_tensor) || !in->type->init_tensor)
        return wi_priv_cfg_error(path, "names", err, WI_EINVAL,
                                 "%s cannot take `names`: it has no tensor "
                                 "function (it initialises whole modules only)",
                                 in->type->name);
    int rc = 0;
    unsigned char *matched = calloc(json_array_size(names), 1);
    struct names_walk w = {in, names, matched, path, ctx, err, 0};
    if (!matched)
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    else if (wi_module_named_parameters(m, names_visit, &w) != 0)
        rc = w.rc;
    if (rc == 0)
        rc = wi_priv_attribute(ctx, m, in->type->info(in->self), path,
                               de ? &de->writes : NULL, err);
    if (rc == 0 && de)
        rc = report_names(m, names, matched, path, de);
    free(matched);
    return rc;
}

int wi_priv_run_names(wi_module_t *m, const json_t *cfg, const json_t *names,
                      const char *path, wi_context_t *ctx,
                      struct wi_priv_entry_diag *de, wi_error_t *err)
{
    struct wi_priv_instance in;
    int rc = wi_priv_instance_new(cfg, path, ctx, &in, err);
    if (rc < 0)
        return rc;
    rc = wi_priv_run_names_with(m, &in, names, path, ctx, de, err);
    wi_priv_instance_free(&in);
    return rc;
}
