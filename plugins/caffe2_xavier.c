/* MMEngine's Caffe2XavierInit(bias=0): KaimingInit with a=1,
 * mode='fan_in', nonlinearity='leaky_relu', distribution='uniform'.  It
 * takes no arguments of its own. */
#include "common.h"

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {NULL};
    wi_args_t in = {host, args, "Caffe2Xavier", source, path, err};

    if (wi_args_check_keys(&in, keys) < 0)
        return NULL;
    return wi_init_self_new(&in, base, sizeof(wi_init_self_t),
                            "Caffe2XavierInit: a=1, mode=fan_in, "
                            "nonlinearity=leaky_relu, distribution =uniform, "
                            "bias=%s",
                            base->bias_repr);
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const wi_init_self_t *self = self_;
    return host->kaiming_init(m, host->context_generator(ctx), 1.0, "fan_in",
                              "leaky_relu", self->bias, "uniform", err);
}

/* The tensor function for `names` entries. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    (void)self_;
    return host->kaiming_uniform_(t, host->context_generator(ctx), 1.0,
                                  "fan_in", "leaky_relu", err);
}

static const wi_initializer_type_t caffe2_xavier_type = {
    sizeof(wi_initializer_type_t), "Caffe2Xavier", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, wi_init_self_free,
    init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &caffe2_xavier_type, err);
}

WI_PLUGIN_DEFINE("caffe2_xavier", "0.1.0", register_types)
