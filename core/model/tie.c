/* Tied parameters (model-format.md "tie"): Hugging Face's tie_weights,
 * `lm_head.weight = wte.weight`, applied after everything was built and
 * initialised as if untied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/model.h>
#include <weightinit/module.h>

#include "base/suggest.h"
#include "base/jsonutil.h"
#include "model/module_internal.h"

/* A parameter by dotted name: 1 with its module and index; 0 when there
 * is no such parameter, -1 when it is registered as None.  Each step is
 * a hash lookup, so checking and applying N ties costs O(N), however
 * many parameters one module has. */
static int resolve(wi_module_t *root, const char *name, wi_module_t **owner,
                   size_t *index)
{
    const char *leaf = name, *dot;
    wi_module_t *m = root;
    while (m && (dot = strchr(leaf, '.'))) {
        m = wi_priv_module_find_child_n(m, leaf, (size_t)(dot - leaf));
        leaf = dot + 1;
    }
    if (!m || !wi_priv_module_parameter_index(m, leaf, index))
        return 0;
    *owner = m;
    return wi_module_parameter(m, *index) ? 1 : -1;
}

struct hint {
    const char *want;
    char best[200];
    size_t dist;
};

static int closest(const char *name, wi_module_t *owner, size_t index, void *ud)
{
    struct hint *h = ud;
    size_t d = wi_priv_edit_distance(h->want, name);
    (void)owner;
    (void)index;
    if (d < h->dist) {
        h->dist = d;
        snprintf(h->best, sizeof h->best, "%s", name);
    }
    return 0;
}

static int unknown(wi_module_t *root, const char *name, const char *source,
                   const char *path, wi_error_t *err)
{
    /* A few edits away, at most a third of the name. */
    wi_module_t *m;
    size_t i;
    if (resolve(root, name, &m, &i) < 0)
        return wi_error_set(err, WI_EINVAL, source, path,
                            "tie: '%s' is None in this model (built without "
                            "it, e.g. bias=False)", name);
    struct hint h = {name, "", strlen(name) / 3 + 1};
    if (h.dist > 4)
        h.dist = 4;
    wi_module_named_parameters(root, closest, &h);
    return wi_error_set(err, WI_EINVAL, source, path,
                        "tie: '%s' is not a parameter of the model%s%s%s", name,
                        h.best[0] ? "; did you mean '" : "", h.best,
                        h.best[0] ? "'?" : "");
}

/* Checks one tie; owner and index get the slot of name, t the target. */
static int check_one(wi_module_t *root, const char *name, const char *target,
                     const json_t *ties, const char *source, const char *path,
                     wi_module_t **owner, size_t *index, wi_tensor_t **t,
                     wi_error_t *err)
{
    wi_module_t *tm;
    size_t ti;
    if (strcmp(name, target) == 0)
        return wi_error_set(err, WI_EINVAL, source, path,
                            "tie: '%s' is tied to itself", name);
    if (resolve(root, name, owner, index) <= 0)
        return unknown(root, name, source, path, err);
    if (resolve(root, target, &tm, &ti) <= 0)
        return unknown(root, target, source, path, err);
    const json_t *next = ties ? json_object_get(ties, target) : NULL;
    if (json_is_string(next) || wi_priv_module_parameter_tied(tm, ti))
        return wi_error_set(err, WI_EINVAL, source, path,
                            "tie: '%s' is tied to '%s', which is itself tied%s%s%s; "
                            "tie every name to the one that keeps its tensor",
                            name, target, next ? " to '" : "",
                            next ? json_string_value(next) : "", next ? "'" : "");
    if (wi_priv_module_parameter_tied(*owner, *index))
        return wi_error_set(err, WI_EINVAL, source, path,
                            "tie: '%s' is already tied", name);
    *t = wi_module_parameter(tm, ti);
    const wi_tensor_t *mine = wi_module_parameter(*owner, *index);
    if (!wi_tensor_same_shape(mine, *t)) {
        char a[128], b[128];
        wi_shape_format(wi_tensor_ndim(mine), wi_tensor_shape(mine), a, sizeof a);
        wi_shape_format(wi_tensor_ndim(*t), wi_tensor_shape(*t), b, sizeof b);
        return wi_error_set(err, WI_EINVAL, source, path,
                            "tie: '%s' has shape %s, '%s' has %s: tied "
                            "parameters must have the same shape",
                            name, a, target, b);
    }
    return 0;
}

int wi_module_tie(wi_module_t *root, const char *name, const char *target,
                  wi_error_t *err)
{
    wi_module_t *owner;
    size_t index;
    wi_tensor_t *t;
    if (!root || !name || !target)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "wi_module_tie: root, name and target are required");
    int rc = check_one(root, name, target, NULL, NULL, name, &owner, &index, &t, err);
    if (rc == 0)
        wi_priv_module_tie_parameter(owner, index, t);
    return rc;
}

/* Every tie of the root's "tie" is checked before any takes effect. */
static int ties_run(wi_module_t *root, const json_t *doc, const char *source,
                    int apply, wi_error_t *err)
{
    const json_t *ties = json_is_object(doc) ? json_object_get(doc, "tie") : NULL;
    if (!ties)
        return 0;
    char repr[80], path[WI_PATH_MAX];
    if (!json_is_object(ties))
        return wi_error_set(err, WI_EINVAL, source, "tie",
                            "expected an object of parameter name -> the name "
                            "whose tensor it shares, got %s",
                            wi_priv_json_repr(ties, repr, sizeof repr));
    for (int pass = 0; pass < 1 + apply; pass++) {
        const char *name;
        json_t *target;
        json_object_foreach((json_t *)ties, name, target) {
            wi_module_t *owner;
            size_t index;
            wi_tensor_t *t;
            wi_priv_path_key(path, sizeof path, "tie", name);
            if (!json_is_string(target))
                return wi_error_set(err, WI_EINVAL, source, path,
                                    "expected the name of the parameter '%s' "
                                    "shares, got %s", name,
                                    wi_priv_json_repr(target, repr, sizeof repr));
            int rc = check_one(root, name, json_string_value(target), ties,
                               source, path, &owner, &index, &t, err);
            if (rc < 0)
                return rc;
            if (pass == 1)
                wi_priv_module_tie_parameter(owner, index, t);
        }
    }
    return 0;
}

int wi_model_check_ties(wi_module_t *root, const wi_value_t *doc_v,
                        const char *source, wi_error_t *err)
{
    const json_t *doc = (const json_t *)doc_v;
    return ties_run(root, doc, source, 0, err);
}

int wi_model_apply_ties(wi_module_t *root, const wi_value_t *doc_v,
                        const char *source, wi_error_t *err)
{
    const json_t *doc = (const json_t *)doc_v;
    return ties_run(root, doc, source, 1, err);
}
