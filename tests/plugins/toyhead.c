/* ToyHead, the MMEngine tutorial's BaseModule whose init_weights extends
 * BaseModule's: super().init_weights(), then
 * normal_init(self.cls, mean=0, std=0.01, bias=bias_init_with_prob(0.01)). */
#include <weightinit/plugin.h>

/* init_weights is not handed the host table; keep it from registration. */
static const wi_host_t *host_;

static int construct(const wi_host_t *host, wi_module_t *m,
                     const wi_value_t *node, wi_context_t *ctx,
                     const char *source, const char *path, wi_error_t *err)
{
    if (!host->module_find_child(m, "cls"))
        return host->error_set(err, WI_EINVAL, source, path,
                               "ToyHead needs a child 'cls'");
    return 0;
}

static int init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    int rc = host_->base_init_weights(m, ctx, err);
    if (rc < 0)
        return rc;
    return host_->normal_init(host_->module_find_child(m, "cls"),
                              host_->context_generator(ctx), 0.0, 0.01,
                              host_->bias_init_with_prob(0.01), err);
}

static const wi_module_type_t toyhead_type = {
    sizeof(wi_module_type_t), "ToyHead", 1, construct, init_weights};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    host_ = host;
    return host->register_module_type(plugin, &toyhead_type, err);
}

WI_PLUGIN_DEFINE("toyhead", "0.1.0", register_types)
