/* A custom node's parameters and children (model-format.md): "params"
 * (zeros, or values drawn at construction), "children", "repeat" with
 * "child" and "clone", and "order".  Construction runs in one order over
 * parameters and children together, as the statements of an __init__ do;
 * each kind is registered in that order, so state_dict() is PyTorch's. */
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/init.h>

#include "base/jsonutil.h"
#include "model/model_internal.h"
#include "tensor/tensor_internal.h"
#include "model/module_internal.h"

/* No real model repeats a block this often; a larger count is a typo or
 * a unit mix-up, and would only run out of memory slowly. */
#define WI_MODEL_MAX_REPEAT 100000

enum member_kind { MEMBER_CHILD, MEMBER_PARAM, MEMBER_BUFFER };

struct member {
    const char *name;
    const json_t *spec; /* a parameter's or buffer's value, or a child node */
    enum member_kind kind;
};

struct repeat {
    int64_t n;
    const json_t *child;
    int clone;
    size_t size; /* modules in the clone's original */
};

struct members {
    struct member *items;
    size_t size;
    char (*index_names)[24]; /* "0" .. "N-1" for a repeat */
};

static int oom(const struct wi_loader *l, const char *path)
{
    return wi_error_set(l->err, WI_ENOMEM, l->source, path, "out of memory");
}

/* Names an error from the module API (no source, a bare name) at the
 * member's JSON path. */
static int locate(const struct wi_loader *l, int rc, const char *full)
{
    if (rc < 0) {
        snprintf(l->err->source, sizeof l->err->source, "%s",
                 l->source ? l->source : "");
        snprintf(l->err->path, sizeof l->err->path, "%s", full);
    }
    return rc;
}

/* ---- parameters -------------------------------------------------------- */

enum init_kind {
    INIT_ZEROS, INIT_ONES, INIT_FULL, INIT_RANDN, INIT_RAND,
    INIT_NORMAL, INIT_UNIFORM, INIT_TRUNC /* nn.init's, on the new tensor */
};

struct param_init {
    enum init_kind kind;
    float value; /* full's value, or the multiplier */
    int has_mul;
    double arg[4]; /* normal: mean, std; uniform: a, b; trunc_normal: mean, std, a, b */
};

/* The nn.init draws a parameter may be made with: their argument names
 * and torch's defaults, as Python floats. */
static const struct draw_spec {
    const char *name;
    enum init_kind kind;
    const char *args[4];
    double dflt[4];
} draws[] = {
    {"normal", INIT_NORMAL, {"mean", "std", NULL, NULL}, {0.0, 1.0, 0, 0}},
    {"uniform", INIT_UNIFORM, {"a", "b", NULL, NULL}, {0.0, 1.0, 0, 0}},
    {"trunc_normal", INIT_TRUNC, {"mean", "std", "a", "b"}, {0.0, 1.0, -2.0, 2.0}},
};

static int parse_shape(const struct wi_loader *l, const json_t *shape,
                       const char *path, int *ndim, int64_t *dims)
{
    size_t n = json_is_array(shape) ? json_array_size(shape) : 0;
    int ok = json_is_array(shape) && n <= WI_MAX_DIMS;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *d = json_array_get(shape, i);
        ok = json_is_integer(d) && json_integer_value(d) >= 0;
        dims[i] = ok ? json_integer_value(d) : 0;
    }
    *ndim = (int)n;
    return ok ? 0
              : wi_priv_model_node_error(l, path, "", shape,
                                         "a shape: a list of at most 8 "
                                         "non-negative ints");
}

/* A JSON number as PyTorch converts a Python scalar to float32: ints
 * directly, floats from their double; out of float range is refused. */
static int parse_float(const struct wi_loader *l, const json_t *v,
                       const char *path, const char *what, float *out)
{
    if (json_is_integer(v)) {
        *out = (float)json_integer_value(v);
        return 0;
    }
    double d = json_is_real(v) ? json_real_value(v) : 0.0;
    if (!json_is_real(v) || d < -FLT_MAX || d > FLT_MAX)
        return wi_priv_model_node_error(l, path, "", v, what);
    *out = (float)d;
    return 0;
}

static const char *const init_names[] = {"zeros", "ones", "full", "randn", "rand",
                                         "normal", "uniform", "trunc_normal"};

static int unknown_init(const struct wi_loader *l, const char *name,
                        const char *path)
{
    const char *hint = wi_priv_model_suggest(name, init_names, 8);
    char dym[80] = "";
    if (hint)
        snprintf(dym, sizeof dym, "did you mean '%s'? ", hint);
    return wi_error_set(l->err, WI_EINVAL, l->source, path,
                        "unknown init '%s'; %saccepted: \"zeros\", \"ones\", "
                        "{\"full\": V}, {\"randn\": {\"mul\": S}}, "
                        "{\"rand\": {\"mul\": S}}, {\"normal\": {\"mean\", \"std\"}}, "
                        "{\"uniform\": {\"a\", \"b\"}}, {\"trunc_normal\": {\"mean\", "
                        "\"std\", \"a\", \"b\"}}", name, dym);
}

/* {"randn": {"mul": S}} or {"rand": {...}}: S optional. */
static int parse_random(const struct wi_loader *l, const json_t *args,
                        const char *path, struct param_init *pi)
{
    const char *key;
    json_t *v;
    if (!json_is_object(args))
        return wi_priv_model_node_error(l, path, "", args,
                                        "an object: {} or {\"mul\": S}");
    json_object_foreach((json_t *)args, key, v) {
        char full[WI_PATH_MAX];
        wi_priv_path_key(full, sizeof full, path, key);
        if (strcmp(key, "mul") != 0)
            return wi_error_set(l->err, WI_EINVAL, l->source, full,
                                "unknown key '%s' (accepted: mul)", key);
        pi->has_mul = 1;
        int rc = parse_float(l, v, full, "a number within float32's range "
                                         "(the factor S)", &pi->value);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* {"normal": {"mean": M, "std": S}} and the like: each argument a
 * number (a Python float to torch), the rest torch's defaults. */
static int parse_draw(const struct wi_loader *l, const struct draw_spec *d,
                      const json_t *args, const char *path, struct param_init *pi)
{
    char accepted[64] = "", full[WI_PATH_MAX], repr[80];
    for (int i = 0; i < 4 && d->args[i]; i++) {
        pi->arg[i] = d->dflt[i];
        snprintf(accepted + strlen(accepted), sizeof accepted - strlen(accepted), "%s%s",
                 i ? ", " : "", d->args[i]);
    }
    pi->kind = d->kind;
    if (!json_is_object(args))
        return wi_priv_model_node_error(l, path, "", args, "an object of arguments");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)args, key, v) {
        int i = 0;
        while (i < 4 && d->args[i] && strcmp(d->args[i], key) != 0)
            i++;
        wi_priv_path_key(full, sizeof full, path, key);
        if (i == 4 || !d->args[i])
            return wi_error_set(l->err, WI_EINVAL, l->source, full,
                                "unknown key '%s' (accepted: %s)", key, accepted);
        if (!json_is_number(v))
            return wi_error_set(l->err, WI_EINVAL, l->source, full, "expected a number, got %s",
                                wi_priv_json_repr(v, repr, sizeof repr));
        pi->arg[i] = json_number_value(v);
    }
    return 0;
}

static int parse_init(const struct wi_loader *l, const json_t *init,
                      const char *path, struct param_init *pi)
{
    memset(pi, 0, sizeof *pi);
    if (json_is_string(init)) {
        const char *s = json_string_value(init);
        pi->kind = strcmp(s, "ones") == 0 ? INIT_ONES : INIT_ZEROS;
        if (strcmp(s, "zeros") == 0 || strcmp(s, "ones") == 0)
            return 0;
        if (strcmp(s, "full") == 0 || strcmp(s, "randn") == 0 ||
            strcmp(s, "rand") == 0)
            return wi_error_set(l->err, WI_EINVAL, l->source, path,
                                "'%s' is written as an object: {\"%s\": %s}",
                                s, s, s[1] == 'u' ? "V" : "{} or {\"mul\": S}");
        return unknown_init(l, s, path);
    }
    if (!json_is_object(init) || json_object_size(init) != 1)
        return wi_priv_model_node_error(l, path, "", init,
                                        "\"zeros\", \"ones\", {\"full\": V}, "
                                        "{\"randn\": {...}} or {\"rand\": {...}}");
    const char *key = json_object_iter_key(json_object_iter((json_t *)init));
    const json_t *args = json_object_get(init, key);
    char full[WI_PATH_MAX];
    wi_priv_path_key(full, sizeof full, path, key);
    if (strcmp(key, "full") == 0) {
        pi->kind = INIT_FULL;
        return parse_float(l, args, full, "a number within float32's range",
                           &pi->value);
    }
    if (strcmp(key, "randn") == 0 || strcmp(key, "rand") == 0) {
        pi->kind = key[4] == 'n' ? INIT_RANDN : INIT_RAND;
        return parse_random(l, args, full, pi);
    }
    for (size_t i = 0; i < sizeof draws / sizeof draws[0]; i++)
        if (strcmp(key, draws[i].name) == 0)
            return parse_draw(l, &draws[i], args, full, pi);
    return unknown_init(l, key, path);
}

/* torch.randn(shape) * S: normal_(0, 1) on the fresh tensor, then a
 * float32 multiply by S converted to float (tensor * Python float). */
static int apply_init(const struct wi_loader *l, wi_tensor_t *t,
                      const struct param_init *pi)
{
    wi_generator_t *g = wi_context_generator(l->ctx);
    int rc = 0;
    switch (pi->kind) {
    case INIT_ZEROS: return 0; /* a new tensor is zeros */
    case INIT_ONES: return wi_constant_(t, 1.0, l->err);
    case INIT_FULL: return wi_constant_(t, (double)pi->value, l->err);
    case INIT_RANDN: rc = wi_normal_(t, g, 0.0, 1.0, l->err); break;
    case INIT_RAND: rc = wi_uniform_(t, g, 0.0, 1.0, l->err); break;
    case INIT_NORMAL: return wi_normal_(t, g, pi->arg[0], pi->arg[1], l->err);
    case INIT_UNIFORM: return wi_uniform_(t, g, pi->arg[0], pi->arg[1], l->err);
    case INIT_TRUNC:
        return wi_trunc_normal_(t, g, pi->arg[0], pi->arg[1], pi->arg[2], pi->arg[3], l->err);
    }
    if (rc < 0 || !pi->has_mul)
        return rc;
    rc = wi_priv_tensor_scale(t, pi->value, l->err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

/* SHAPE (zeros, v1) or {"shape": SHAPE, "init": INIT}. */
static int parse_param(const struct wi_loader *l, const json_t *spec,
                       const char *path, int *ndim, int64_t *dims,
                       struct param_init *pi)
{
    char sub[WI_PATH_MAX];
    memset(pi, 0, sizeof *pi);
    if (json_is_array(spec))
        return parse_shape(l, spec, path, ndim, dims);
    if (!json_is_object(spec))
        return wi_priv_model_node_error(l, path, "", spec,
                                        "a shape (a list of ints) or "
                                        "{\"shape\": [...], \"init\": ...}");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)spec, key, v)
        if (strcmp(key, "shape") && strcmp(key, "init")) {
            wi_priv_path_key(sub, sizeof sub, path, key);
            return wi_error_set(l->err, WI_EINVAL, l->source, sub,
                                "unknown key '%s' in a parameter (accepted: "
                                "shape, init)", key);
        }
    const json_t *shape = json_object_get(spec, "shape");
    wi_priv_path_key(sub, sizeof sub, path, "shape");
    if (!shape)
        return wi_error_set(l->err, WI_EINVAL, l->source, sub,
                            "a parameter object needs a \"shape\"");
    int rc = parse_shape(l, shape, sub, ndim, dims);
    const json_t *init = json_object_get(spec, "init");
    wi_priv_path_key(sub, sizeof sub, path, "init");
    return rc == 0 && init ? parse_init(l, init, sub, pi) : rc;
}

static int build_param(const struct wi_loader *l, wi_module_t *m,
                       const struct member *mb, const char *path)
{
    char full[WI_PATH_MAX], ppath[WI_PATH_MAX];
    int64_t dims[WI_MAX_DIMS];
    int ndim;
    struct param_init pi;
    wi_priv_path_key(ppath, sizeof ppath, path, "params");
    wi_priv_path_key(full, sizeof full, ppath, mb->name);
    int rc = parse_param(l, mb->spec, full, &ndim, dims, &pi);
    if (rc < 0)
        return rc;
    wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, ndim, dims, l->err);
    if (!t)
        return locate(l, l->err->code ? l->err->code : WI_ENOMEM, full);
    if ((rc = apply_init(l, t, &pi)) < 0) {
        wi_tensor_free(t);
        return locate(l, rc, full);
    }
    return locate(l, wi_module_add_parameter_new(m, mb->name, t, l->err), full);
}

/* A buffer's {"shape", "dtype", "init", "persistent"}, or a bare shape
 * (float32 zeros, persistent). */
struct buffer_spec {
    int ndim;
    int64_t dims[WI_MAX_DIMS];
    wi_dtype_t dtype;
    int persistent;
    int arange; /* torch.arange(numel) (reshaped): int64 i, or float32 (float)i */
    int64_t full; /* an int64 buffer's {"full": V}, exact */
    struct param_init pi;
};

static int parse_buffer(const struct wi_loader *l, const json_t *spec, const char *path,
                        struct buffer_spec *b)
{
    char sub[WI_PATH_MAX];
    memset(b, 0, sizeof *b);
    b->dtype = WI_DTYPE_F32;
    b->persistent = 1;
    if (json_is_array(spec))
        return parse_shape(l, spec, path, &b->ndim, b->dims);
    static const char *const keys[] = {"shape", "dtype", "init", "persistent", NULL};
    const char *key;
    json_t *v;
    if (!json_is_object(spec))
        return wi_priv_model_node_error(l, path, "", spec,
                                        "a shape or {\"shape\", \"dtype\", \"init\", "
                                        "\"persistent\"}");
    json_object_foreach((json_t *)spec, key, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0)
            i++;
        wi_priv_path_key(sub, sizeof sub, path, key);
        if (!keys[i])
            return wi_error_set(l->err, WI_EINVAL, l->source, sub,
                                "unknown key '%s' in a buffer (accepted: shape, dtype, "
                                "init, persistent)", key);
    }
    wi_priv_path_key(sub, sizeof sub, path, "shape");
    const json_t *shape = json_object_get(spec, "shape"), *dtype = json_object_get(spec, "dtype"),
                 *init = json_object_get(spec, "init"), *pers = json_object_get(spec, "persistent");
    if (!shape)
        return wi_error_set(l->err, WI_EINVAL, l->source, sub, "a buffer object needs a \"shape\"");
    int rc = parse_shape(l, shape, sub, &b->ndim, b->dims);
    wi_priv_path_key(sub, sizeof sub, path, "dtype");
    const char *ds = json_string_value(dtype);
    if (rc == 0 && dtype && !(ds && (!strcmp(ds, "float32") || !strcmp(ds, "int64"))))
        return wi_priv_model_node_error(l, sub, "", dtype, "\"float32\" or \"int64\"");
    b->dtype = ds && !strcmp(ds, "int64") ? WI_DTYPE_I64 : WI_DTYPE_F32;
    wi_priv_path_key(sub, sizeof sub, path, "persistent");
    if (rc == 0 && pers && !json_is_boolean(pers))
        return wi_priv_model_node_error(l, sub, "", pers, "true or false");
    b->persistent = !pers || json_is_true(pers);
    wi_priv_path_key(sub, sizeof sub, path, "init");
    if (rc < 0 || !init)
        return rc;
    if (json_is_string(init) && !strcmp(json_string_value(init), "arange"))
        return b->arange = 1, 0;
    rc = parse_init(l, init, sub, &b->pi);
    if (rc == 0 && b->dtype == WI_DTYPE_I64 && b->pi.kind != INIT_ZEROS &&
        b->pi.kind != INIT_ONES && b->pi.kind != INIT_FULL)
        return wi_error_set(l->err, WI_EINVAL, l->source, sub,
                            "an int64 buffer takes \"zeros\", \"ones\", {\"full\": V} "
                            "or \"arange\", not a draw");
    /* torch.full(shape, V, dtype=torch.long) keeps every bit of an int. */
    const json_t *fv = rc == 0 && b->pi.kind == INIT_FULL ? json_object_get(init, "full") : NULL;
    if (fv && b->dtype == WI_DTYPE_I64 && !json_is_integer(fv)) {
        char fpath[WI_PATH_MAX];
        wi_priv_path_key(fpath, sizeof fpath, sub, "full");
        return wi_priv_model_node_error(l, fpath, "", fv, "an int (the buffer is int64)");
    }
    b->full = fv && json_is_integer(fv) ? json_integer_value(fv) : 0;
    return rc;
}

/* An int64 buffer's values: arange, or a constant. */
static void fill_int64(wi_tensor_t *t, const struct buffer_spec *b)
{
    int64_t *a = wi_tensor_data(t), n = wi_tensor_numel(t);
    int64_t v = b->pi.kind == INIT_ONES ? 1 : b->pi.kind == INIT_FULL ? b->full : 0;
    for (int64_t i = 0; a && i < n; i++)
        a[i] = b->arange ? i : v;
}

/* register_buffer(name, tensor, persistent): made (and drawn) at its
 * place in the construction order; a non-persistent one draws as torch
 * does but is not in the state dict, so it is not kept. */
static int build_buffer(const struct wi_loader *l, wi_module_t *m,
                        const struct member *mb, const char *path)
{
    char bpath[WI_PATH_MAX], full[WI_PATH_MAX];
    struct buffer_spec b;
    wi_priv_path_key(bpath, sizeof bpath, path, "buffers");
    wi_priv_path_key(full, sizeof full, bpath, mb->name);
    int rc = parse_buffer(l, mb->spec, full, &b);
    if (rc < 0)
        return rc;
    wi_tensor_t *t = wi_tensor_new(b.dtype, b.ndim, b.dims, l->err);
    if (!t)
        return locate(l, l->err->code ? l->err->code : WI_ENOMEM, full);
    if (b.dtype == WI_DTYPE_I64)
        fill_int64(t, &b);
    else if (b.arange) {
        float *a = wi_tensor_data(t);
        for (int64_t i = 0; a && i < wi_tensor_numel(t); i++)
            a[i] = (float)i;
    } else if ((rc = apply_init(l, t, &b.pi)) < 0) {
        wi_tensor_free(t);
        return locate(l, rc, full);
    }
    if (!b.persistent) {
        wi_tensor_free(t);
        return 0;
    }
    return locate(l, wi_module_add_buffer_new(m, mb->name, t, l->err), full);
}

/* ---- repeat ------------------------------------------------------------ */

static int parse_repeat(const struct wi_loader *l, const json_t *node,
                        const json_t *origin, const char *path,
                        struct repeat *r)
{
    const json_t *n = json_object_get(node, "repeat"),
                 *child = json_object_get(node, "child"),
                 *clone = json_object_get(node, "clone");
    char full[WI_PATH_MAX];
    memset(r, 0, sizeof *r);
    r->n = -1;
    if (!n) {
        const char *stray = child ? "child" : clone ? "clone" : NULL;
        wi_priv_path_key(full, sizeof full,
                         wi_priv_model_key_base(origin, path, stray), stray);
        return stray ? wi_error_set(l->err, WI_EINVAL, l->source, full,
                                    "'%s' without \"repeat\": write "
                                    "\"repeat\": N to build N children from "
                                    "\"child\"", stray)
                     : 0;
    }
    if (!json_is_integer(n) || json_integer_value(n) < 0 ||
        json_integer_value(n) > WI_MODEL_MAX_REPEAT)
        return wi_priv_model_node_error(l, wi_priv_model_key_base(origin, path, "repeat"),
                                        "repeat", n,
                                        "an int from 0 to 100000 (how many "
                                        "children to build from \"child\")");
    wi_priv_path_key(full, sizeof full,
                     wi_priv_model_key_base(origin, path, "children"), "children");
    if (json_object_get(node, "children"))
        return wi_error_set(l->err, WI_EINVAL, l->source, full,
                            "a repeat node's children are \"0\" .. \"N-1\", "
                            "built from \"child\": it cannot also have "
                            "\"children\"");
    wi_priv_path_key(full, sizeof full,
                     wi_priv_model_key_base(origin, path, "repeat"), "child");
    if (!child)
        return wi_error_set(l->err, WI_EINVAL, l->source, full,
                            "\"repeat\" needs a \"child\": the module node "
                            "each of the N children is built from");
    if (clone && !json_is_boolean(clone))
        return wi_priv_model_node_error(l, wi_priv_model_key_base(origin, path, "clone"),
                                        "clone", clone, "true or false");
    r->n = json_integer_value(n);
    r->child = child;
    r->clone = clone && json_is_true(clone);
    return 0;
}

/* ---- construction order ------------------------------------------------ */

static int add_kind(const struct wi_loader *l, struct members *ms,
                    const json_t *node, const char *path, const char *key,
                    const struct repeat *r)
{
    if (r->n >= 0) {
        for (int64_t i = 0; i < r->n; i++) {
            snprintf(ms->index_names[i], sizeof ms->index_names[i], "%" PRId64, i);
            ms->items[ms->size++] = (struct member){ms->index_names[i], r->child, MEMBER_CHILD};
        }
        return 0;
    }
    const json_t *obj = json_object_get(node, key);
    enum member_kind kind = strcmp(key, "params") == 0    ? MEMBER_PARAM
                            : strcmp(key, "buffers") == 0 ? MEMBER_BUFFER
                                                          : MEMBER_CHILD;
    if (!json_is_object(obj))
        return wi_priv_model_node_error(l, path, key, obj,
                                        kind != MEMBER_CHILD ? "an object of name -> shape"
                                                             : "an object of name -> module");
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)obj, name, v)
        ms->items[ms->size++] = (struct member){name, v, kind};
    return 0;
}

/* The members in the order of the node's "params", "buffers" and
 * "children" (or "repeat") keys, each in key order. */
static int collect(const struct wi_loader *l, const json_t *node,
                   const json_t *origin, const char *path,
                   const struct repeat *r, struct members *ms)
{
    const json_t *p = json_object_get(node, "params"), *b = json_object_get(node, "buffers"),
                 *c = json_object_get(node, "children");
    size_t n = (json_is_object(p) ? json_object_size(p) : 0) +
               (json_is_object(b) ? json_object_size(b) : 0) +
               (r->n >= 0 ? (size_t)r->n : json_is_object(c) ? json_object_size(c) : 0);
    ms->items = calloc(n ? n : 1, sizeof *ms->items);
    ms->index_names = r->n > 0 ? calloc((size_t)r->n, sizeof *ms->index_names) : NULL;
    if (!ms->items || (r->n > 0 && !ms->index_names))
        return oom(l, path);
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)node, key, v) {
        if (rc == 0 && (strcmp(key, "params") == 0 || strcmp(key, "buffers") == 0 ||
                        (r->n < 0 && strcmp(key, "children") == 0)))
            rc = add_kind(l, ms, node, wi_priv_model_key_base(origin, path, key),
                          key, &(struct repeat){-1, NULL, 0, 0});
        else if (rc == 0 && r->n >= 0 && strcmp(key, "repeat") == 0)
            rc = add_kind(l, ms, node, path, key, r);
    }
    return rc;
}

static int order_error(const struct wi_loader *l, const char *path,
                       const char *what, const char *name,
                       const struct members *ms)
{
    const char **names = malloc((ms->size ? ms->size : 1) * sizeof *names);
    const char *hint = NULL;
    for (size_t i = 0; names && i < ms->size; i++)
        names[i] = ms->items[i].name;
    if (names)
        hint = wi_priv_model_suggest(name, names, ms->size);
    free(names);
    char dym[120] = "";
    if (hint)
        snprintf(dym, sizeof dym, "; did you mean '%s'?", hint);
    return wi_error_set(l->err, WI_EINVAL, l->source, path, "'%s' %s%s", name,
                        what, dym);
}

/* "order": every parameter and child named exactly once. */
static int apply_order(const struct wi_loader *l, const json_t *order,
                       const char *path, struct members *ms)
{
    char opath[WI_PATH_MAX], ipath[WI_PATH_MAX];
    wi_priv_path_key(opath, sizeof opath, path, "order");
    if (!json_is_array(order))
        return wi_priv_model_node_error(l, path, "order", order,
                                        "a list of the node's parameter, buffer "
                                        "and child names");
    json_t *index = json_object();
    struct member *sorted = calloc(ms->size ? ms->size : 1, sizeof *sorted);
    int rc = index && sorted ? 0 : oom(l, opath);
    for (size_t i = 0; rc == 0 && i < ms->size; i++) {
        if (json_object_get(index, ms->items[i].name))
            rc = wi_error_set(l->err, WI_EINVAL, l->source, opath,
                              "'%s' names two members (a parameter, buffer or child)",
                              ms->items[i].name);
        else if (json_object_set_new(index, ms->items[i].name,
                                     json_integer((json_int_t)i)) < 0)
            rc = oom(l, opath);
    }
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(order); i++) {
        const json_t *e = json_array_get(order, i);
        wi_priv_path_index(ipath, sizeof ipath, opath, i);
        json_t *at = json_is_string(e) ? json_object_get(index, json_string_value(e)) : NULL;
        if (!json_is_string(e))
            rc = wi_priv_model_node_error(l, ipath, "", e, "a parameter, buffer or child name");
        else if (!at)
            rc = order_error(l, ipath, "is not a parameter, buffer or child of this node",
                             json_string_value(e), ms);
        else if (json_is_null(at))
            rc = wi_error_set(l->err, WI_EINVAL, l->source, ipath,
                              "'%s' is listed twice", json_string_value(e));
        else {
            sorted[n++] = ms->items[json_integer_value(at)];
            if (json_object_set_new(index, json_string_value(e), json_null()) < 0)
                rc = oom(l, opath);
        }
    }
    for (size_t i = 0; rc == 0 && i < ms->size; i++)
        if (!json_is_null(json_object_get(index, ms->items[i].name)))
            rc = wi_error_set(l->err, WI_EINVAL, l->source, opath,
                              "\"order\" must name every parameter, buffer and "
                              "child once; '%s' is missing", ms->items[i].name);
    if (rc == 0)
        memcpy(ms->items, sorted, ms->size * sizeof *sorted);
    free(sorted);
    json_decref(index);
    return rc;
}

/* ---- building ---------------------------------------------------------- */

static int add_child(const struct wi_loader *l, wi_module_t *m,
                     const char *name, wi_module_t *c, const char *full)
{
    return locate(l, wi_module_add_child_new(m, name, c, l->err), full);
}

/* A child is located where it is written: a repeat's children all at its
 * "child". */
static int build_child(const struct wi_loader *l, wi_module_t *m,
                       const struct member *mb, const struct repeat *r,
                       wi_module_t **original, int64_t *clones_left,
                       const json_t *origin, const char *path)
{
    char full[WI_PATH_MAX], cpath[WI_PATH_MAX];
    wi_priv_path_key(cpath, sizeof cpath,
                     wi_priv_model_key_base(origin, path, "children"), "children");
    wi_priv_path_key(full, sizeof full, cpath, mb->name);
    if (r->n >= 0)
        wi_priv_path_key(full, sizeof full,
                         wi_priv_model_key_base(origin, path, "child"), "child");
    wi_module_t *c;
    if (r->clone) {
        /* The last copy takes the original itself: same values. */
        c = --*clones_left == 0 ? *original
                                : wi_priv_module_clone(*original, l->err);
        if (c == *original)
            *original = NULL;
        if (!c)
            return locate(l, l->err->code, full);
    } else if (!(c = wi_priv_model_build_node(l, mb->spec, full))) {
        return l->err->code ? l->err->code : WI_EINVAL;
    }
    return add_child(l, m, mb->name, c, full);
}

static int count_one(wi_module_t *m, void *ud)
{
    (void)m;
    ++*(size_t *)ud;
    return 0;
}

int wi_priv_model_build_members(const struct wi_loader *l, wi_module_t *m,
                                const json_t *node, const json_t *origin,
                                const char *path)
{
    struct repeat r;
    struct members ms = {NULL, 0, NULL};
    wi_module_t *original = NULL;
    int rc = parse_repeat(l, node, origin, path, &r);
    if (rc == 0)
        rc = collect(l, node, origin, path, &r, &ms);
    const json_t *order = json_object_get(node, "order");
    if (rc == 0 && order)
        rc = apply_order(l, order, wi_priv_model_key_base(origin, path, "order"), &ms);
    char cpath[WI_PATH_MAX];
    wi_priv_path_key(cpath, sizeof cpath,
                     wi_priv_model_key_base(origin, path, "child"), "child");
    /* _get_clones: the layer is built once, before the container, and
     * deep-copied N times (even N = 0 constructs it). */
    if (rc == 0 && r.clone &&
        !(original = wi_priv_model_build_node(l, r.child, cpath)))
        rc = l->err->code ? l->err->code : WI_EINVAL;
    /* The copies (all but the last, which is the original) all at once:
     * a count too large fails before any copy is made. */
    if (original) {
        wi_module_apply(original, count_one, &r.size);
        if (r.n > 1 && r.size > WI_MODEL_MAX_MODULES / (size_t)(r.n - 1))
            r.size = WI_MODEL_MAX_MODULES;
        rc = wi_priv_model_count_modules(l, r.size * (size_t)(r.n > 1 ? r.n - 1 : 0),
                                         cpath);
    }
    int64_t clones_left = r.n;
    for (size_t i = 0; rc == 0 && i < ms.size; i++)
        rc = ms.items[i].kind == MEMBER_PARAM
                 ? build_param(l, m, &ms.items[i],
                               wi_priv_model_key_base(origin, path, "params"))
             : ms.items[i].kind == MEMBER_BUFFER
                 ? build_buffer(l, m, &ms.items[i],
                                wi_priv_model_key_base(origin, path, "buffers"))
                 : build_child(l, m, &ms.items[i], &r, &original, &clones_left,
                               origin, path);
    wi_module_free(original);
    free(ms.items);
    free(ms.index_names);
    return rc;
}
