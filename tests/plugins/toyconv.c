/* ToyConv, the MMEngine tutorial's plain module with a user-defined
 * init_weights: parameters custom_weight (1,1,1,1) and custom_bias (1),
 * created as zeros, filled with 1 and 0 by init_weights. */
#include <weightinit/plugin.h>

/* init_weights is not handed the host table; keep it from registration. */
static const wi_host_t *host_;

static int add_zeros(const wi_host_t *host, wi_module_t *m, const char *name,
                     int ndim, const int64_t *shape, wi_error_t *err)
{
    wi_tensor_t *t = host->tensor_new(WI_DTYPE_F32, ndim, shape, err);
    return t ? host->module_add_parameter_new(m, name, t, err) : WI_ENOMEM;
}

static int construct(const wi_host_t *host, wi_module_t *m,
                     const wi_value_t *node, wi_context_t *ctx,
                     const char *source, const char *path, wi_error_t *err)
{
    static const int64_t weight_shape[] = {1, 1, 1, 1}, bias_shape[] = {1};
    int rc = add_zeros(host, m, "custom_weight", 4, weight_shape, err);
    return rc < 0 ? rc : add_zeros(host, m, "custom_bias", 1, bias_shape, err);
}

static int fill(wi_module_t *m, const char *name, double val, wi_error_t *err)
{
    wi_tensor_t *t = host_->module_find_parameter(m, name);
    if (!t)
        return host_->error_set(err, WI_ENOTFOUND, NULL, name,
                                "ToyConv has no parameter '%s'", name);
    return host_->constant_(t, val, err);
}

static int init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    int rc = fill(m, "custom_weight", 1.0, err);
    return rc < 0 ? rc : fill(m, "custom_bias", 0.0, err);
}

static const wi_module_type_t toyconv_type = {
    sizeof(wi_module_type_t), "ToyConv", 0, construct, init_weights};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    host_ = host;
    return host->register_module_type(plugin, &toyconv_type, err);
}

WI_PLUGIN_DEFINE("toyconv", "0.1.0", register_types)
