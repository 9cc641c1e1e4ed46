/* The init_cfg engine.  This first version runs init_weights for models
 * without any init_cfg (construction defaults plus user-defined hooks);
 * configured initialisation arrives with the plugin registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/engine.h>

static int find_init_cfg(wi_module_t *m, void *ud)
{
    (void)ud;
    return wi_module_init_cfg(m) != NULL;
}

int wi_initialize(wi_module_t *m, const json_t *init_cfg, wi_context_t *ctx,
                  wi_error_t *err)
{
    (void)m;
    (void)init_cfg;
    (void)ctx;
    return wi_error_set(err, WI_EUNSUPPORTED, NULL, "init_cfg",
                        "init_cfg is not supported yet (configured "
                        "initialisation comes with the plugin registry)");
}

int wi_init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    if (wi_module_apply(m, find_init_cfg, NULL))
        return wi_initialize(m, NULL, ctx, err);
    wi_module_set_is_init(m, 1);
    return 0;
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
