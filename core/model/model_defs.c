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

/* The definitions being walked, innermost last: to spell a cycle out. */
struct def_walk {
    const struct wi_loader *l;
    const char *stack[64];
    size_t depth;
    json_t *state; /* name -> 1 (being walked) or 2 (done) */
};

static int walk_def(struct def_walk *w, const char *name);

static int cycle_error(struct def_walk *w, const char *path, const char *name)
{
    char chain[300], full[WI_PATH_MAX];
    size_t used = 0, from = 0;
    while (from < w->depth && strcmp(w->stack[from], name) != 0)
        from++;
    chain[0] = '\0';
    for (size_t i = from; i < w->depth && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s -> ",
                                 w->stack[i]);
    if (used < sizeof chain)
        snprintf(chain + used, sizeof chain - used, "%s", name);
    wi_priv_path_key(full, sizeof full, path, "use");
    return wi_error_set(w->l->err, WI_EINVAL, w->l->source, full,
                        "definition '%s' contains itself (%s): a definition "
                        "cannot use itself, directly or through others",
                        name, chain);
}

/* Every node under node (through "children" and "child"): its "use"
 * names a definition, which is walked in turn. */
static int walk_node(struct def_walk *w, const json_t *node, const char *path)
{
    char sub[WI_PATH_MAX], full[WI_PATH_MAX];
    if (!json_is_object(node))
        return 0; /* reported when the node is built */
    const json_t *use = json_object_get(node, "use");
    if (use) {
        if (!json_is_string(use) || !w->l->definitions ||
            !json_object_get(w->l->definitions, json_string_value(use)))
            return bad_use(w->l, path, use);
        const char *name = json_string_value(use);
        json_t *st = json_object_get(w->state, name);
        if (st && json_integer_value(st) == 1)
            return cycle_error(w, path, name);
        int rc = st ? 0 : walk_def(w, name);
        if (rc < 0)
            return rc;
    }
    const json_t *children = json_object_get(node, "children");
    if (json_is_object(children)) {
        const char *key;
        json_t *c;
        wi_priv_path_key(sub, sizeof sub, path, "children");
        json_object_foreach((json_t *)children, key, c) {
            wi_priv_path_key(full, sizeof full, sub, key);
            int rc = walk_node(w, c, full);
            if (rc < 0)
                return rc;
        }
    }
    const json_t *child = json_object_get(node, "child");
    wi_priv_path_key(sub, sizeof sub, path, "child");
    return child ? walk_node(w, child, sub) : 0;
}

static int walk_def(struct def_walk *w, const char *name)
{
    char path[WI_PATH_MAX];
    if (w->depth == sizeof w->stack / sizeof w->stack[0])
        return wi_error_set(w->l->err, WI_EINVAL, w->l->source, "definitions",
                            "definitions nest more than 64 deep (through "
                            "'%s')", name);
    if (json_object_set_new(w->state, name, json_integer(1)) < 0)
        return wi_error_set(w->l->err, WI_ENOMEM, w->l->source, NULL,
                            "out of memory");
    w->stack[w->depth++] = name;
    wi_priv_path_key(path, sizeof path, "definitions", name);
    int rc = walk_node(w, json_object_get(w->l->definitions, name), path);
    w->depth--;
    if (rc == 0 && json_object_set_new(w->state, name, json_integer(2)) < 0)
        rc = wi_error_set(w->l->err, WI_ENOMEM, w->l->source, NULL,
                          "out of memory");
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

int wi_priv_model_check_definitions(struct wi_loader *l, const json_t *root)
{
    const json_t *defs = json_is_object(root)
                             ? json_object_get(root, "definitions")
                             : NULL;
    int rc = defs ? check_definition_shapes(l, defs) : 0;
    if (rc < 0)
        return rc;
    l->definitions = defs;
    struct def_walk w = {l, {NULL}, 0, json_object()};
    if (!w.state)
        return wi_error_set(l->err, WI_ENOMEM, l->source, NULL, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)defs, key, v) {
        if (json_object_get(w.state, key))
            continue;
        if ((rc = walk_def(&w, key)) < 0)
            break;
    }
    if (rc == 0 && json_is_object(root))
        rc = walk_node(&w, root, "");
    json_decref(w.state);
    return rc;
}

static json_t *origin_of(const json_t *node, const char *path)
{
    json_t *origin = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
        if (origin && json_object_set_new(origin, key, json_string(path)) < 0) {
            json_decref(origin);
            return NULL;
        }
    return origin;
}

json_t *wi_priv_model_resolve_use(const struct wi_loader *l, const json_t *node,
                                  const char *path, json_t **origin)
{
    const json_t *use = json_object_get(node, "use");
    *origin = NULL;
    if (!use) {
        *origin = origin_of(node, path);
        if (!*origin)
            wi_error_set(l->err, WI_ENOMEM, l->source, path, "out of memory");
        return *origin ? json_incref((json_t *)node) : NULL;
    }
    const json_t *def = json_is_string(use) && l->definitions
                            ? json_object_get(l->definitions, json_string_value(use))
                            : NULL;
    if (!def) {
        bad_use(l, path, use);
        return NULL;
    }
    char dpath[WI_PATH_MAX];
    wi_priv_path_key(dpath, sizeof dpath, "definitions", json_string_value(use));
    json_t *base = wi_priv_model_resolve_use(l, def, dpath, origin);
    json_t *merged = base ? json_copy(base) : NULL;
    json_decref(base);
    const char *key;
    json_t *v;
    int rc = merged ? 0 : -1;
    json_object_foreach((json_t *)node, key, v) {
        if (rc < 0 || strcmp(key, "use") == 0)
            continue;
        rc = json_object_set(merged, key, v) < 0 ||
                     json_object_set_new(*origin, key, json_string(path)) < 0
                 ? -1
                 : 0;
    }
    if (rc < 0) {
        if (base || merged)
            wi_error_set(l->err, WI_ENOMEM, l->source, path, "out of memory");
        json_decref(merged);
        json_decref(*origin);
        *origin = NULL;
        return NULL;
    }
    return merged;
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
