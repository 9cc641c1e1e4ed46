/* MMEngine's XavierInit(gain=1, distribution='normal', bias=0):
 * xavier_init. */
#include <stdlib.h>

#include "common.h"

typedef struct xavier {
    wi_init_self_t base;
    double gain;
    char *distribution;
} xavier_t;

static void destroy(void *self_)
{
    xavier_t *self = self_;
    if (self)
        free(self->distribution);
    wi_init_self_free(self);
}

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"gain", "distribution", NULL};
    wi_args_t in = {host, args, "Xavier", source, path, err};
    wi_num_t gain;
    char *distribution;
    xavier_t *self;

    if (wi_args_check_keys(&in, keys) < 0 ||
        wi_args_number(&in, "gain", 1, "1", &gain) < 0 ||
        wi_args_string(&in, "distribution", "normal", &distribution) < 0)
        return NULL;
    self = wi_init_self_new(&in, base, sizeof *self,
                            "XavierInit: gain=%s, distribution=%s, bias=%s",
                            gain.repr, distribution, base->bias_repr);
    if (!self) {
        free(distribution);
        return NULL;
    }
    self->gain = gain.value;
    self->distribution = distribution;
    return self;
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const xavier_t *self = self_;
    if (wi_init_check_distribution(&self->base, host, "Xavier",
                                   self->distribution, err) < 0)
        return WI_EINVAL;
    return host->xavier_init(m, host->context_generator(ctx), self->gain,
                             self->base.bias, self->distribution, err);
}

/* The tensor function for `names` entries: xavier_init's weight call. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    const xavier_t *self = self_;
    wi_generator_t *g = host->context_generator(ctx);
    if (wi_init_check_distribution(&self->base, host, "Xavier",
                                   self->distribution, err) < 0)
        return WI_EINVAL;
    return self->distribution[0] == 'u'
               ? host->xavier_uniform_(t, g, self->gain, err)
               : host->xavier_normal_(t, g, self->gain, err);
}

static const wi_initializer_type_t xavier_type = {
    sizeof(wi_initializer_type_t), "Xavier", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, destroy, init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &xavier_type, err);
}

WI_PLUGIN_DEFINE("xavier", "0.1.0", register_types)
