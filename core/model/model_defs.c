/* Model format v2 "definitions" and "use" (model-format.md): named nodes
 * written once and used anywhere, each use replacing whole keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/suggest.h"
#include "base/jsonutil.h"
#include "model/model_internal.h"

const char *wi_priv_model_suggest(const char *name, const char *const *names,
                                  size_t count)
{
    const char *best = NULL;
    size_t best_d = strlen(name) < 4 ? 2 : 4;
    for (size_t i = 0; i < count; i++) {
        size_t d = wi_priv_edit_distance(name, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

/* "did you mean 'X'? defined: A, B, C" for an unknown definition name. */
static void describe_unknown(const json_t *defs, const char *name, char *out,
                             size_t size)
{
    size_t n = json_object_size(defs), used = 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    const char *key;
    json_t *v;
    size_t i = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)defs, key, v)
        if (names)
            names[i++] = key;
    const char *hint = names ? wi_priv_model_suggest(name, names, n) : NULL;
    if (hint)
        used += (size_t)snprintf(out, size, "did you mean '%s'? ", hint);
    if (used < size)
        used += (size_t)snprintf(out + used, size - used, "defined: ");
    for (i = 0; names && i < n && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                                 names[i]);
    free(names);
}

static int bad_use(const struct wi_loader *l, const char *path,
                   const json_t *use)
{
    char full[WI_PATH_MAX], list[300];
    wi_priv_path_key(full, sizeof full, path, "use");
    if (!json_is_string(use))
        return wi_priv_model_node_error(l, path, "use", use,
                                        "the name of a definition (a string)");
    if (!l->definitions)
        return wi_error_set(l->err, WI_EINVAL, l->source, full,
                            "unknown definition '%s': the file has no root "
                            "\"definitions\"", json_string_value(use));
    describe_unknown(l->definitions, json_string_value(use), list, sizeof list);
    return wi_error_set(l->err, WI_EINVAL, l->source, full,
                        "unknown definition '%s'; %s", json_string_value(use),
                        list);
}

/* ---- checking: every "use" names a definition, no definition contains
 * itself.  Each node is read once, in file order; the definitions form a
 * graph (an edge per "use" inside a definition) searched for a cycle with
 * a stack of its own, so neither the key order of "definitions" nor a
 * long chain of them changes the answer or the C stack. */

struct edge {
    size_t to;  /* the definition used */
    char *path; /* the using node */
};

struct def_node {
    const char *name;
    struct edge *edges;
    size_t n_edges, cap_edges;
    size_t next; /* the next edge to follow in the search */
    int color;   /* 0 not reached, 1 on the search's stack, 2 done */
};

struct def_check {
    const struct wi_loader *l;
    struct def_node *defs;
    size_t n;
    json_t *index; /* name -> position in defs */
};

static int oom_at(const struct wi_loader *l, const char *path)
{
    return wi_error_set(l->err, WI_ENOMEM, l->source, path, "out of memory");
}

static int add_edge(struct def_check *c, struct def_node *from, size_t to,
                    const char *path)
{
    if (from->n_edges == from->cap_edges) {
        size_t cap = from->cap_edges ? 2 * from->cap_edges : 4;
        struct edge *e = realloc(from->edges, cap * sizeof *e);
        if (!e)
            return oom_at(c->l, path);
        from->edges = e;
        from->cap_edges = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return oom_at(c->l, path);
    from->edges[from->n_edges++] = (struct edge){to, copy};
    return 0;
}

/* Every node under node (through "children" and "child") whose "use"
 * names a definition, recorded as an edge of `from` (NULL for the tree
 * under the root).  Nothing below WI_MODULE_MAX_DEPTH can be built (the
 * builder refuses it first), so the walk stops there. */
static int collect_uses(struct def_check *c, struct def_node *from,
                        const json_t *node, const char *path, size_t depth)
{
    char sub[WI_PATH_MAX], full[WI_PATH_MAX];
    if (!json_is_object(node) || depth > WI_MODULE_MAX_DEPTH)
        return 0; /* a node that is not an object is reported when built */
    const json_t *use = json_object_get(node, "use");
    if (use) {
        const json_t *at = json_is_string(use)
                               ? json_object_get(c->index, json_string_value(use))
                               : NULL;
        if (!at)
            return bad_use(c->l, path, use);
        int rc = from ? add_edge(c, from, (size_t)json_integer_value(at), path) : 0;
        if (rc < 0)
            return rc;
    }
    const json_t *children = json_object_get(node, "children");
    if (json_is_object(children)) {
        const char *key;
        json_t *v;
        wi_priv_path_key(sub, sizeof sub, path, "children");
        json_object_foreach((json_t *)children, key, v) {
            wi_priv_path_key(full, sizeof full, sub, key);
            int rc = collect_uses(c, from, v, full, depth + 1);
            if (rc < 0)
                return rc;
        }
    }
    const json_t *child = json_object_get(node, "child");
    wi_priv_path_key(sub, sizeof sub, path, "child");
    return child ? collect_uses(c, from, child, sub, depth + 1) : 0;
}

/* "definitions.B.children.y.use: definition 'A' contains itself (A -> B ->
 * A)": stack[from..top) is the search's path, e closes the cycle. */
static int cycle_error(const struct def_check *c, const size_t *stack,
                       size_t top, const struct edge *e)
{
    char chain[300], full[WI_PATH_MAX];
    size_t used = 0, from = 0;
    const char *name = c->defs[e->to].name;
    while (from < top && stack[from] != e->to)
        from++;
    chain[0] = '\0';
    for (size_t i = from; i < top && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s -> ",
                                 c->defs[stack[i]].name);
    if (used < sizeof chain)
        snprintf(chain + used, sizeof chain - used, "%s", name);
    wi_priv_path_key(full, sizeof full, e->path, "use");
    return wi_error_set(c->l->err, WI_EINVAL, c->l->source, full,
                        "definition '%s' contains itself (%s): a definition "
                        "cannot use itself, directly or through others",
                        name, chain);
}

/* Depth-first from each definition in key order, as a recursive walk
 * would go, with the stack on the heap. */
static int find_cycle(struct def_check *c)
{
    size_t *stack = malloc((c->n ? c->n : 1) * sizeof *stack);
    if (!stack)
        return oom_at(c->l, "definitions");
    int rc = 0;
    for (size_t s = 0; rc == 0 && s < c->n; s++) {
        if (c->defs[s].color)
            continue;
        size_t top = 0;
        stack[top++] = s;
        c->defs[s].color = 1;
        while (rc == 0 && top) {
            struct def_node *v = &c->defs[stack[top - 1]];
            if (v->next == v->n_edges) {
                v->color = 2;
                top--;
                continue;
            }
            const struct edge *e = &v->edges[v->next++];
            if (c->defs[e->to].color == 1)
                rc = cycle_error(c, stack, top, e);
            else if (c->defs[e->to].color == 0) {
                c->defs[e->to].color = 1;
                stack[top++] = e->to;
            }
        }
    }
    free(stack);
    return rc;
}

static int check_definition_shapes(struct wi_loader *l, const json_t *defs)
{
    const char *key;
    json_t *v;
    if (!json_is_object(defs))
        return wi_priv_model_node_error(l, "", "definitions", defs,
                                        "an object of name -> module node");
    json_object_foreach((json_t *)defs, key, v) {
        char path[WI_PATH_MAX];
        wi_priv_path_key(path, sizeof path, "definitions", key);
        if (!key[0])
            return wi_error_set(l->err, WI_EINVAL, l->source, "definitions",
                                "a definition needs a non-empty name");
        if (!json_is_object(v))
            return wi_priv_model_node_error(l, path, "", v,
                                            "a module node (an object)");
    }
    return 0;
}

static int check_graph(struct def_check *c, const json_t *root)
{
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)c->l->definitions, key, v) {
        if (json_object_set_new(c->index, key, json_integer((json_int_t)c->n)) < 0)
            return oom_at(c->l, "definitions");
        c->defs[c->n++].name = key;
    }
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        char path[WI_PATH_MAX];
        wi_priv_path_key(path, sizeof path, "definitions", c->defs[i].name);
        rc = collect_uses(c, &c->defs[i], json_object_get(c->l->definitions,
                                                          c->defs[i].name),
                          path, 1);
    }
    if (rc == 0)
        rc = collect_uses(c, NULL, root, "", 1);
    return rc == 0 ? find_cycle(c) : rc;
}

int wi_priv_model_check_definitions(struct wi_loader *l, const json_t *root)
{
    const json_t *defs = json_is_object(root)
                             ? json_object_get(root, "definitions")
                             : NULL;
    int rc = defs ? check_definition_shapes(l, defs) : 0;
    if (rc < 0)
        return rc;
    l->definitions = defs;
    l->resolved = json_object();
    size_t n = defs ? json_object_size(defs) : 0;
    struct def_check c = {l, calloc(n ? n : 1, sizeof *c.defs), 0, json_object()};
    if (!l->resolved || !c.defs || !c.index)
        rc = oom_at(l, "definitions");
    else
        rc = check_graph(&c, root);
    for (size_t i = 0; c.defs && i < c.n; i++) {
        for (size_t k = 0; k < c.defs[i].n_edges; k++)
            free(c.defs[i].edges[k].path);
        free(c.defs[i].edges);
    }
    free(c.defs);
    json_decref(c.index);
    return rc;
}

/* ---- expanding "use" --------------------------------------------------- */

/* [node, origin]: base's node and origin (copies) with node's own keys
 * set on top, each located at path. */
static json_t *expand(const json_t *node, const char *path, const json_t *base)
{
    json_t *merged = base ? json_copy(json_array_get(base, 0)) : json_object();
    json_t *origin = base ? json_copy(json_array_get(base, 1)) : json_object();
    json_t *pair = merged && origin ? json_pack("[oo]", merged, origin) : NULL;
    if (!pair) {
        json_decref(merged);
        json_decref(origin);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v) {
        if (strcmp(key, "use") == 0)
            continue;
        if (json_object_set(merged, key, v) < 0 ||
            json_object_set_new(origin, key, json_string(path)) < 0) {
            json_decref(pair);
            return NULL;
        }
    }
    return pair;
}

/* Definition `name` expanded ([node, origin], borrowed from l->resolved):
 * the chain of definitions that each use the next is followed to one
 * already expanded or to one without "use", then expanded back. */
static const json_t *resolved_def(const struct wi_loader *l, const char *name)
{
    const json_t *base = json_object_get(l->resolved, name);
    if (base)
        return base;
    size_t cap = json_object_size(l->definitions) + 1, n = 0;
    const char **chain = malloc(cap * sizeof *chain);
    char dpath[WI_PATH_MAX];
    if (!chain) {
        oom_at(l, "definitions");
        return NULL;
    }
    for (const char *cur = name; cur && !(base = json_object_get(l->resolved, cur));) {
        const json_t *use = json_object_get(json_object_get(l->definitions, cur), "use");
        chain[n++] = cur;
        wi_priv_path_key(dpath, sizeof dpath, "definitions", cur);
        if (use && (!json_is_string(use) || n == cap ||
                    !json_object_get(l->definitions, json_string_value(use)))) {
            /* Refused by wi_priv_model_check_definitions already. */
            bad_use(l, dpath, use);
            free(chain);
            return NULL;
        }
        cur = json_string_value(use);
    }
    while (n > 0) {
        const char *dn = chain[--n];
        wi_priv_path_key(dpath, sizeof dpath, "definitions", dn);
        json_t *entry = expand(json_object_get(l->definitions, dn), dpath, base);
        if (!entry || json_object_set_new(l->resolved, dn, entry) < 0) {
            oom_at(l, dpath);
            base = NULL;
            break;
        }
        base = entry;
    }
    free(chain);
    return base;
}

json_t *wi_priv_model_resolve_use(const struct wi_loader *l, const json_t *node,
                                  const char *path, json_t **origin)
{
    const json_t *use = json_object_get(node, "use");
    *origin = NULL;
    if (!use)
        return json_incref((json_t *)node);
    if (!json_is_string(use) || !l->definitions || !l->resolved ||
        !json_object_get(l->definitions, json_string_value(use))) {
        bad_use(l, path, use);
        return NULL;
    }
    const json_t *base = resolved_def(l, json_string_value(use));
    json_t *pair = base ? expand(node, path, base) : NULL;
    if (base && !pair)
        oom_at(l, path);
    json_t *merged = pair ? json_incref(json_array_get(pair, 0)) : NULL;
    *origin = pair ? json_incref(json_array_get(pair, 1)) : NULL;
    json_decref(pair);
    return merged;
}

const char *wi_priv_model_key_base(const json_t *origin, const char *path,
                                   const char *key)
{
    const char *from = json_string_value(json_object_get(origin, key));
    return from ? from : path;
}

void wi_priv_model_blame_origin(const struct wi_loader *l, const char *path,
                                const json_t *origin)
{
    char *at = l->err->path, moved[WI_ERROR_PATH_LENGTH];
    size_t plen = strlen(path);
    if (strncmp(at, path, plen) != 0)
        return;
    const char *rest = at + plen;
    if (plen) {
        if (*rest != '.')
            return;
        rest++;
    }
    size_t klen = strcspn(rest, ".[");
    char key[WI_ERROR_PATH_LENGTH];
    snprintf(key, sizeof key, "%.*s", (int)klen, rest);
    const char *from = json_string_value(json_object_get(origin, key));
    if (!from || strcmp(from, path) == 0)
        return;
    wi_priv_path_key(moved, sizeof moved, from, rest);
    snprintf(l->err->path, sizeof l->err->path, "%s", moved);
}
