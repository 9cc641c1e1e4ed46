/* The module tree (module.h): a module's parameters, buffers and
 * children by name, the tree's depth bound, and its walks in PyTorch's
 * named_parameters() and state_dict() order. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/module.h>

#include "base/map.h"
#include "model/module_internal.h"

struct slot {
    char *name;
    wi_tensor_t *tensor; /* NULL: registered as None */
    char *info;          /* provenance, parameters only */
    uint8_t tied;        /* tensor borrowed from another slot (a tie) */
    uint8_t written;     /* an initializer wrote it in the tracked run */
    uint8_t borrowed;    /* name is a static string, not a copy */
};

struct slots {
    struct slot *items;
    size_t size, cap;
};

struct child {
    char *name;
    wi_module_t *module;
};

struct wi_module {
    const char *type;
    const char **bases;
    uint32_t n_bases;
    uint8_t is_base_module;
    uint8_t is_init;
    /* Strings borrowed rather than copied (the layer table's, which live
     * as long as the process): bit 0 the type, bit 1 + i bases[i] (only
     * the first 7 can be).  A million Linear would otherwise hold a
     * million copies of "Linear" and "Module". */
    uint8_t borrowed;
    struct slots params, buffers;
    struct child *children;
    size_t n_children, cap_children;
    wi_module_t *parent;
    const char *name; /* in the parent (owned by its child slot); "" at the root */
    size_t height;    /* modules on the longest path down from here: 1 for a leaf */
    /* Every parameter, buffer and child name -> slot (see NAME_*), so
     * lookups stay constant-time in modules with many thousands; made
     * only past NAMES_SCANNED names (a million Linear would pay 100
     * bytes each for two names). */
    wi_priv_map_t names;
    json_t *init_cfg;
    json_t *args;
    wi_init_weights_fn init_weights;
    void *user_data;
    void (*free_user_data)(void *);
};

#define BORROWED_TYPE 1u
#define BORROWED_BASE(i) ((i) < 7 ? 2u << (i) : 0u)

static wi_module_t *module_new(const char *type, int borrow, int is_base_module)
{
    wi_module_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->type = borrow ? type : strdup(type);
    if (!m->type) {
        free(m);
        return NULL;
    }
    m->borrowed = borrow ? BORROWED_TYPE : 0;
    m->is_base_module = is_base_module != 0;
    m->name = "";
    m->height = 1;
    return m;
}

wi_module_t *wi_module_new(const char *type, int is_base_module)
{
    return module_new(type, 0, is_base_module);
}

wi_module_t *wi_priv_module_new_static(const char *type, int is_base_module)
{
    return module_new(type, 1, is_base_module);
}

static int add_base(wi_module_t *m, const char *name, int borrow, wi_error_t *err)
{
    uint32_t i = m->n_bases;
    const char **bases = realloc(m->bases, (i + 1) * sizeof *bases);
    if (!bases)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    m->bases = bases;
    borrow = borrow && BORROWED_BASE(i);
    if (!(bases[i] = borrow ? name : strdup(name)))
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    if (borrow)
        m->borrowed |= (uint8_t)BORROWED_BASE(i);
    m->n_bases++;
    return 0;
}

int wi_module_add_base(wi_module_t *m, const char *name, wi_error_t *err)
{
    return add_base(m, name, 0, err);
}

int wi_priv_module_add_base_static(wi_module_t *m, const char *name, wi_error_t *err)
{
    return add_base(m, name, 1, err);
}

wi_module_t *wi_priv_module_new_as(const wi_module_t *m, wi_error_t *err)
{
    wi_module_t *c = module_new(m->type, m->borrowed & BORROWED_TYPE, m->is_base_module);
    int rc = c ? 0 : wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    for (uint32_t i = 0; rc == 0 && i < m->n_bases; i++)
        rc = add_base(c, m->bases[i], (m->borrowed & BORROWED_BASE(i)) != 0, err);
    if (rc < 0) {
        wi_module_free(c);
        return NULL;
    }
    return c;
}

static void slots_free(struct slots *s)
{
    for (size_t i = 0; i < s->size; i++) {
        if (!s->items[i].borrowed)
            free(s->items[i].name);
        free(s->items[i].info);
        if (!s->items[i].tied)
            wi_tensor_free(s->items[i].tensor);
    }
    free(s->items);
}

void wi_module_free(wi_module_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_children; i++) {
        free(m->children[i].name);
        wi_module_free(m->children[i].module);
    }
    free(m->children);
    wi_priv_map_clear(&m->names);
    slots_free(&m->params);
    slots_free(&m->buffers);
    for (uint32_t i = 0; i < m->n_bases; i++)
        if (!(m->borrowed & BORROWED_BASE(i)))
            free((char *)m->bases[i]);
    free(m->bases);
    json_decref(m->init_cfg);
    json_decref(m->args);
    if (m->free_user_data)
        m->free_user_data(m->user_data);
    if (!(m->borrowed & BORROWED_TYPE))
        free((char *)m->type);
    free(m);
}

const char *wi_module_type(const wi_module_t *m) { return m->type; }
int wi_module_is_base_module(const wi_module_t *m) { return m->is_base_module; }

size_t wi_module_base_count(const wi_module_t *m) { return m->n_bases; }
const char *wi_module_base(const wi_module_t *m, size_t i) { return m->bases[i]; }

int wi_module_matches_layer(const wi_module_t *m, const char *name)
{
    if (strcmp(m->type, name) == 0)
        return 1;
    for (size_t i = 0; i < m->n_bases; i++)
        if (strcmp(m->bases[i], name) == 0)
            return 1;
    return 0;
}

/* A names value: index * 4 + what the name is. */
enum { NAME_PARAM, NAME_BUFFER, NAME_CHILD };

#define NAMES_SCANNED 8

static size_t name_count(const wi_module_t *m)
{
    return m->params.size + m->buffers.size + m->n_children;
}

/* The name at index i of kind, for the scan and for building the map. */
static const char *name_at(const wi_module_t *m, int kind, size_t i)
{
    return kind == NAME_PARAM    ? m->params.items[i].name
           : kind == NAME_BUFFER ? m->buffers.items[i].name
                                 : m->children[i].name;
}

static size_t kind_size(const wi_module_t *m, int kind)
{
    return kind == NAME_PARAM    ? m->params.size
           : kind == NAME_BUFFER ? m->buffers.size
                                 : m->n_children;
}

/* A small module's names, compared one by one; kind -1: any kind. */
static int scan_name(const wi_module_t *m, const char *name, size_t len, int kind,
                     size_t *index)
{
    for (int k = NAME_PARAM; k <= NAME_CHILD; k++) {
        if (kind >= 0 && k != kind)
            continue;
        for (size_t i = 0; i < kind_size(m, k); i++) {
            const char *n = name_at(m, k, i);
            if (strncmp(n, name, len) == 0 && n[len] == '\0') {
                *index = i;
                return 1;
            }
        }
    }
    return 0;
}

static int find_name(const wi_module_t *m, const char *name, size_t len,
                     int kind, size_t *index)
{
    size_t v;
    if (!m->names.cap)
        return scan_name(m, name, len, kind, index);
    if (!wi_priv_map_get_str(&m->names, name, len, &v) || (int)(v % 4) != kind)
        return 0;
    *index = v / 4;
    return 1;
}

/* The map of every name so far, once a module grows past the scan. */
static int map_names(wi_module_t *m)
{
    for (int k = NAME_PARAM; k <= NAME_CHILD; k++)
        for (size_t i = 0; i < kind_size(m, k); i++)
            if (wi_priv_map_put_str(&m->names, name_at(m, k, i), i * 4 + (size_t)k) < 0)
                return WI_ENOMEM;
    return 0;
}

static int add_name(wi_module_t *m, const char *name, int kind, size_t index,
                    wi_error_t *err)
{
    if (!m->names.cap && name_count(m) < NAMES_SCANNED)
        return 0;
    if ((!m->names.cap && map_names(m) < 0) ||
        wi_priv_map_put_str(&m->names, name, index * 4 + (size_t)kind) < 0)
        return wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
    return 0;
}

/* PyTorch forbids a name used as parameter, buffer and child at once. */
static int name_taken(const wi_module_t *m, const char *name)
{
    size_t v;
    if (!m->names.cap)
        return scan_name(m, name, strlen(name), -1, &v);
    return wi_priv_map_get_str(&m->names, name, strlen(name), &v);
}

static int check_name(const wi_module_t *m, const char *name, wi_error_t *err)
{
    if (!name[0] || strchr(name, '.'))
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "a name must be non-empty and contain no '.', "
                            "got '%s'", name);
    if (name_taken(m, name))
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "'%s' is already a parameter, buffer or child of "
                            "%s", name, m->type);
    return 0;
}

static int slots_add(wi_module_t *m, struct slots *s, int kind, const char *name,
                     int borrow, wi_tensor_t *t, wi_error_t *err)
{
    int rc = check_name(m, name, err);
    if (rc < 0)
        goto fail;
    if (s->size == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 2; /* Linear, Conv: 2 */
        struct slot *items = realloc(s->items, cap * sizeof *items);
        if (!items)
            goto oom;
        s->items = items;
        s->cap = cap;
    }
    char *copy = borrow ? (char *)name : strdup(name);
    if (!copy)
        goto oom;
    if ((rc = add_name(m, copy, kind, s->size, err)) < 0) {
        if (!borrow)
            free(copy);
        goto fail;
    }
    s->items[s->size++] = (struct slot){copy, t, NULL, 0, 0, borrow != 0};
    return 0;
oom:
    rc = wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
fail:
    wi_tensor_free(t);
    return rc;
}

int wi_priv_module_add_state(wi_module_t *m, int is_buffer, const char *name,
                             int borrow, wi_tensor_t *t, wi_error_t *err)
{
    if (is_buffer)
        return slots_add(m, &m->buffers, NAME_BUFFER, name, borrow, t, err);
    if (t && wi_tensor_dtype(t) != WI_DTYPE_F32) {
        wi_tensor_free(t);
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "parameters are float32 tensors");
    }
    return slots_add(m, &m->params, NAME_PARAM, name, borrow, t, err);
}

int wi_module_add_parameter_new(wi_module_t *m, const char *name,
                                wi_tensor_t *t, wi_error_t *err)
{
    return wi_priv_module_add_state(m, 0, name, 0, t, err);
}

int wi_module_add_buffer_new(wi_module_t *m, const char *name, wi_tensor_t *t,
                             wi_error_t *err)
{
    return wi_priv_module_add_state(m, 1, name, 0, t, err);
}

int wi_priv_module_state_borrowed(const wi_module_t *m, int is_buffer, size_t i)
{
    return (is_buffer ? m->buffers : m->params).items[i].borrowed;
}

size_t wi_module_parameter_count(const wi_module_t *m) { return m->params.size; }
const char *wi_module_parameter_name(const wi_module_t *m, size_t i) { return m->params.items[i].name; }
wi_tensor_t *wi_module_parameter(const wi_module_t *m, size_t i) { return m->params.items[i].tensor; }
size_t wi_module_buffer_count(const wi_module_t *m) { return m->buffers.size; }
const char *wi_module_buffer_name(const wi_module_t *m, size_t i) { return m->buffers.items[i].name; }
wi_tensor_t *wi_module_buffer(const wi_module_t *m, size_t i) { return m->buffers.items[i].tensor; }

wi_tensor_t *wi_module_find_parameter(const wi_module_t *m, const char *name)
{
    size_t i;
    return find_name(m, name, strlen(name), NAME_PARAM, &i)
               ? m->params.items[i].tensor
               : NULL;
}

int wi_module_set_parameter_info(wi_module_t *m, size_t i, const char *info,
                                 wi_error_t *err)
{
    char *copy = NULL;
    if (i >= m->params.size)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "%s has %zu parameters, no parameter %zu",
                            m->type, m->params.size, i);
    if (info && !(copy = strdup(info)))
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    free(m->params.items[i].info);
    m->params.items[i].info = copy;
    return 0;
}

const char *wi_module_parameter_info(const wi_module_t *m, size_t i)
{
    return m->params.items[i].info;
}

void wi_priv_module_set_written(wi_module_t *m, size_t i, int written)
{
    m->params.items[i].written = written != 0;
}

int wi_priv_module_parameter_written(const wi_module_t *m, size_t i)
{
    return m->params.items[i].written;
}

/* m's depth (the root is 1); 0 when `child` is m or one of its
 * ancestors.  Trees are built only through wi_module_add_child_new, so
 * the walk up is never longer than WI_MODULE_MAX_DEPTH. */
static size_t depth_below(const wi_module_t *m, const wi_module_t *child)
{
    size_t depth = 0;
    for (const wi_module_t *p = m; p; p = p->parent, depth++)
        if (p == child)
            return 0;
    return depth;
}

/* The tree stays at most WI_MODULE_MAX_DEPTH deep and acyclic: every
 * recursive walk of it then needs a bounded stack. */
static int check_child(const wi_module_t *m, const char *name,
                       const wi_module_t *child, wi_error_t *err)
{
    if (!child)
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "expected a module to add as child '%s', got NULL",
                            name);
    size_t depth = depth_below(m, child);
    if (child->parent || depth == 0)
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "expected a module without a parent as child "
                            "'%s', found %s", name,
                            depth ? "one that already is a child"
                                  : "the module itself or one of its "
                                    "ancestors (a cycle)");
    if (depth + child->height > WI_MODULE_MAX_DEPTH)
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "expected a model at most %d modules deep, found "
                            "%zu: child '%s' (%zu deep) under a module at "
                            "depth %zu", WI_MODULE_MAX_DEPTH,
                            depth + child->height, name, child->height, depth);
    return 0;
}

/* Heights up the chain of ancestors, as far as they grow. */
static void raise_heights(wi_module_t *m, size_t child_height)
{
    for (size_t h = child_height + 1; m && m->height < h; m = m->parent, h++)
        m->height = h;
}

int wi_module_add_child_new(wi_module_t *m, const char *name,
                            wi_module_t *child, wi_error_t *err)
{
    int rc = check_child(m, name, child, err);
    if (rc < 0) {
        if (child && !child->parent && depth_below(m, child))
            wi_module_free(child); /* stolen, as documented */
        return rc;
    }
    if ((rc = check_name(m, name, err)) < 0)
        goto fail;
    if (m->n_children == m->cap_children) {
        size_t cap = m->cap_children ? 2 * m->cap_children : 4;
        struct child *c = realloc(m->children, cap * sizeof *c);
        if (!c)
            goto oom;
        m->children = c;
        m->cap_children = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        goto oom;
    if ((rc = add_name(m, copy, NAME_CHILD, m->n_children, err)) < 0) {
        free(copy);
        goto fail;
    }
    m->children[m->n_children++] = (struct child){copy, child};
    child->parent = m;
    child->name = copy;
    raise_heights(m, child->height);
    return 0;
oom:
    rc = wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
fail:
    wi_module_free(child);
    return rc;
}

size_t wi_module_child_count(const wi_module_t *m) { return m->n_children; }
wi_module_t *wi_module_child(const wi_module_t *m, size_t i) { return m->children[i].module; }
const char *wi_module_child_name(const wi_module_t *m, size_t i) { return m->children[i].name; }
wi_module_t *wi_module_parent(const wi_module_t *m) { return m->parent; }

wi_module_t *wi_module_find_child(const wi_module_t *m, const char *name)
{
    size_t i;
    return find_name(m, name, strlen(name), NAME_CHILD, &i)
               ? m->children[i].module
               : NULL;
}

const char *wi_priv_module_name(const wi_module_t *m) { return m->name; }

void wi_priv_module_tie_parameter(wi_module_t *m, size_t i, wi_tensor_t *t)
{
    struct slot *s = &m->params.items[i];
    if (!s->tied)
        wi_tensor_free(s->tensor);
    s->tensor = t;
    s->tied = 1;
}

int wi_priv_module_parameter_tied(const wi_module_t *m, size_t i)
{
    return m->params.items[i].tied;
}

int wi_priv_module_parameter_index(const wi_module_t *m, const char *name,
                                   size_t *index)
{
    return find_name(m, name, strlen(name), NAME_PARAM, index);
}

int wi_priv_module_has_state(const wi_module_t *m, const char *name, size_t len)
{
    size_t i;
    return (find_name(m, name, len, NAME_PARAM, &i) && m->params.items[i].tensor) ||
           (find_name(m, name, len, NAME_BUFFER, &i) && m->buffers.items[i].tensor);
}

wi_module_t *wi_priv_module_find_child_n(const wi_module_t *m, const char *name,
                                         size_t len)
{
    size_t i;
    return find_name(m, name, len, NAME_CHILD, &i) ? m->children[i].module : NULL;
}

wi_module_t *wi_module_get_submodule(wi_module_t *m, const char *path)
{
    while (m && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        m = wi_priv_module_find_child_n(m, path, len);
        path += len + (dot ? 1 : 0);
    }
    return m;
}

void wi_module_set_init_cfg_new(wi_module_t *m, wi_value_t *cfg_v)
{
    json_t *cfg = (json_t *)cfg_v;
    json_decref(m->init_cfg);
    m->init_cfg = cfg;
}

wi_value_t *wi_module_init_cfg(const wi_module_t *m) { return (wi_value_t *)m->init_cfg; }

void wi_module_set_args_new(wi_module_t *m, wi_value_t *args_v)
{
    json_t *args = (json_t *)args_v;
    json_decref(m->args);
    m->args = args;
}

wi_value_t *wi_module_args(const wi_module_t *m) { return (wi_value_t *)m->args; }

void wi_module_set_init_weights(wi_module_t *m, wi_init_weights_fn fn) { m->init_weights = fn; }
wi_init_weights_fn wi_module_init_weights_fn(const wi_module_t *m) { return m->init_weights; }
int wi_module_is_init(const wi_module_t *m) { return m->is_init; }
void wi_module_set_is_init(wi_module_t *m, int is_init) { m->is_init = is_init != 0; }

void wi_module_set_user_data(wi_module_t *m, void *data, void (*free_fn)(void *))
{
    if (m->free_user_data)
        m->free_user_data(m->user_data);
    m->user_data = data;
    m->free_user_data = free_fn;
}

void *wi_module_user_data(const wi_module_t *m) { return m->user_data; }

int wi_module_apply(wi_module_t *m, wi_module_visit_fn fn, void *ud)
{
    for (size_t i = 0; i < m->n_children; i++) {
        int rc = wi_module_apply(m->children[i].module, fn, ud);
        if (rc)
            return rc;
    }
    return fn(m, ud);
}

/* Dotted names are built in one growing buffer while walking the tree. */
struct walk {
    char *name;
    size_t len, cap;
    wi_priv_map_t *seen; /* tensors listed so far, when ties exist */
};

static int walk_push(struct walk *w, const char *part, size_t *saved)
{
    size_t plen = strlen(part), need = w->len + plen + 2;
    *saved = w->len;
    if (need > w->cap) {
        size_t cap = need * 2;
        char *n = realloc(w->name, cap);
        if (!n)
            return WI_ENOMEM;
        w->name = n;
        w->cap = cap;
    }
    if (w->len)
        w->name[w->len++] = '.';
    memcpy(w->name + w->len, part, plen + 1);
    w->len += plen;
    return 0;
}

typedef int (*slot_visit_fn)(const char *name, wi_module_t *owner,
                             size_t index, int is_buffer, void *ud);

static int walk_module(wi_module_t *m, struct walk *w, int with_buffers,
                       slot_visit_fn fn, void *ud)
{
    size_t saved;
    int rc;
    for (int b = 0; b <= with_buffers; b++) {
        const struct slots *s = b ? &m->buffers : &m->params;
        for (size_t i = 0; i < s->size; i++) {
            if (!s->items[i].tensor)
                continue;
            /* named_parameters() lists a tied tensor once, under its
             * first name; state_dict() lists every name. */
            size_t dummy;
            if (!with_buffers && w->seen) {
                if (wi_priv_map_get_ptr(w->seen, s->items[i].tensor, &dummy))
                    continue;
                if (wi_priv_map_put_ptr(w->seen, s->items[i].tensor, 0) < 0)
                    return WI_ENOMEM;
            }
            if ((rc = walk_push(w, s->items[i].name, &saved)) != 0)
                return rc;
            rc = fn(w->name, m, i, b, ud);
            w->len = saved;
            w->name[saved] = '\0';
            if (rc)
                return rc;
        }
    }
    for (size_t i = 0; i < m->n_children; i++) {
        if ((rc = walk_push(w, m->children[i].name, &saved)) != 0)
            return rc;
        rc = walk_module(m->children[i].module, w, with_buffers, fn, ud);
        w->len = saved;
        w->name[saved] = '\0';
        if (rc)
            return rc;
    }
    return 0;
}

/* Only trees with ties pay for the de-duplication. */
static int has_ties(const wi_module_t *m)
{
    for (size_t i = 0; i < m->params.size; i++)
        if (m->params.items[i].tied)
            return 1;
    for (size_t i = 0; i < m->n_children; i++)
        if (has_ties(m->children[i].module))
            return 1;
    return 0;
}

static int walk_tree(wi_module_t *m, int with_buffers, slot_visit_fn fn,
                     void *ud)
{
    wi_priv_map_t seen = {0};
    struct walk w = {NULL, 0, 0, !with_buffers && has_ties(m) ? &seen : NULL};
    int rc = walk_module(m, &w, with_buffers, fn, ud);
    free(w.name);
    wi_priv_map_clear(&seen);
    return rc;
}

struct param_visit {
    wi_parameter_visit_fn fn;
    void *ud;
};

static int visit_param(const char *name, wi_module_t *owner, size_t index,
                       int is_buffer, void *ud)
{
    struct param_visit *pv = ud;
    (void)is_buffer;
    return pv->fn(name, owner, index, pv->ud);
}

int wi_module_named_parameters(wi_module_t *m, wi_parameter_visit_fn fn,
                               void *ud)
{
    struct param_visit pv = {fn, ud};
    return walk_tree(m, 0, visit_param, &pv);
}

struct sd_build {
    wi_state_dict_t *sd;
    wi_error_t *err;
};

static int visit_state(const char *name, wi_module_t *owner, size_t index,
                       int is_buffer, void *ud)
{
    struct sd_build *b = ud;
    wi_tensor_t *t = is_buffer ? owner->buffers.items[index].tensor
                               : owner->params.items[index].tensor;
    return wi_state_dict_append(b->sd, name, t, b->err) < 0 ? 1 : 0;
}

wi_state_dict_t *wi_module_state_dict(wi_module_t *m, wi_error_t *err)
{
    struct sd_build b = {wi_state_dict_new(), err};
    if (!b.sd) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    int rc = walk_tree(m, 1, visit_state, &b);
    if (rc) {
        if (rc == WI_ENOMEM)
            wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        wi_state_dict_free(b.sd);
        return NULL;
    }
    return b.sd;
}
