/* MMEngine's KaimingInit(a=0, mode='fan_out', nonlinearity='relu',
 * distribution='normal', bias=0): kaiming_init.  mode and nonlinearity are
 * checked by torch when a weight is initialised, so by the host. */
#include <stdlib.h>

#include "common.h"

typedef struct kaiming {
    wi_init_self_t base;
    double a;
    char *mode, *nonlinearity, *distribution;
} kaiming_t;

static void destroy(void *self_)
{
    kaiming_t *self = self_;
    if (self) {
        free(self->mode);
        free(self->nonlinearity);
        free(self->distribution);
    }
    wi_init_self_free(self);
}

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"a", "mode", "nonlinearity",
                                       "distribution", NULL};
    wi_args_t in = {host, args, "Kaiming", source, path, err};
    wi_num_t a;
    char *mode = NULL, *nonlinearity = NULL, *distribution = NULL;
    kaiming_t *self = NULL;

    if (wi_args_check_keys(&in, keys) == 0 &&
        wi_args_number(&in, "a", 0, "0", &a) == 0 &&
        wi_args_string(&in, "mode", "fan_out", &mode) == 0 &&
        wi_args_string(&in, "nonlinearity", "relu", &nonlinearity) == 0 &&
        wi_args_string(&in, "distribution", "normal", &distribution) == 0)
        self = wi_init_self_new(&in, base, sizeof *self,
                                "KaimingInit: a=%s, mode=%s, nonlinearity=%s, "
                                "distribution =%s, bias=%s",
                                a.repr, mode, nonlinearity, distribution,
                                base->bias_repr);
    if (!self) {
        free(mode);
        free(nonlinearity);
        free(distribution);
        return NULL;
    }
    self->a = a.value;
    self->mode = mode;
    self->nonlinearity = nonlinearity;
    self->distribution = distribution;
    return self;
}

/* kaiming_*_ names a negative slope whose square overflows "a". */
static const char *const slope[] = {"a", "a", NULL};

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const kaiming_t *self = self_;
    if (wi_init_check_distribution(&self->base, host, "Kaiming",
                                   self->distribution, err) < 0)
        return WI_EINVAL;
    int rc = host->kaiming_init(m, host->context_generator(ctx), self->a,
                                self->mode, self->nonlinearity,
                                self->base.bias, self->distribution, err);
    return wi_init_locate_arg(&self->base, rc, err, slope);
}

/* The tensor function for `names` entries: kaiming_init's weight call. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    const kaiming_t *self = self_;
    wi_generator_t *g = host->context_generator(ctx);
    if (wi_init_check_distribution(&self->base, host, "Kaiming",
                                   self->distribution, err) < 0)
        return WI_EINVAL;
    int rc = self->distribution[0] == 'u'
                 ? host->kaiming_uniform_(t, g, self->a, self->mode,
                                          self->nonlinearity, err)
                 : host->kaiming_normal_(t, g, self->a, self->mode,
                                         self->nonlinearity, err);
    return wi_init_locate_arg(&self->base, rc, err, slope);
}

static const wi_initializer_type_t kaiming_type = {
    sizeof(wi_initializer_type_t), "Kaiming", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, destroy, init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &kaiming_type, err);
}

WI_PLUGIN_DEFINE("kaiming", "0.1.0", register_types)
