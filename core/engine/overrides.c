/* The `override` key: MMEngine's _initialize_override, an initializer
 * run on whole child modules named in the entry. */
#include <stdio.h>

#include <weightinit/engine.h>

#include "base/jsonutil.h"
#include "base/suggest.h"
#include "engine/engine_internal.h"

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
                            struct wi_priv_entry_diag *de, wi_error_t *err)
{
    char repr[80];
    if (!json_is_object(ov))
        return wi_priv_cfg_error(path, "", err, WI_EINVAL,
                                 "override must be a dict or a list of dicts, "
                                 "got %s",
                                 wi_priv_json_repr(ov, repr, sizeof repr));
    json_t *name = json_object_get(ov, "name");
    if (!json_is_string(name))
        return wi_priv_cfg_error(path, "name", err, WI_EINVAL,
                                 "`override` must contain the key \"name\" "
                                 "(a direct child's name), got %s",
                                 wi_priv_json_repr(ov, repr, sizeof repr));
    json_t *cp = json_deep_copy(ov);
    int rc = cp ? 0 : wi_priv_cfg_error(path, "", err, WI_ENOMEM, "%s",
                                        "out of memory copying the override");
    json_object_del(cp, "name");
    if (rc == 0 && json_object_size(cp) == 0) {
        /* name only: reuse the parent's */
        if (json_object_update(cp, (json_t *)cfg) < 0)
            rc = wi_priv_cfg_error(path, "", err, WI_ENOMEM, "%s",
                                   "out of memory copying the override");
    } else if (rc == 0 && !json_object_get(cp, "type"))
        rc = wi_priv_cfg_error(path, "type", err, WI_EINVAL, "%s",
                               "`override` with arguments needs a \"type\"");
    const char *child_name = json_string_value(name);
    wi_module_t *child = wi_module_find_child(m, child_name);
    if (rc == 0 && !child)
        rc = no_child(m, child_name, path, err);
    if (rc == 0)
        rc = wi_priv_run_initializer(child, cp, 1, path, ctx, de, err);
    json_decref(cp);
    return rc;
}

int wi_priv_run_overrides(wi_module_t *m, const json_t *override,
                          const json_t *cfg, const char *path,
                          wi_context_t *ctx, struct wi_priv_entry_diag *de,
                          wi_error_t *err)
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
