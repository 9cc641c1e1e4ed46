/* MMEngine's NormalInit(mean=0, std=1, bias=0): normal_init. */
#include "common.h"

typedef struct normal {
    wi_init_self_t base;
    double mean, std;
} normal_t;

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"mean", "std", NULL};
    wi_args_t in = {host, args, "Normal", source, path, err};
    wi_num_t mean, std;
    normal_t *self;

    if (wi_args_check_keys(&in, keys) < 0 ||
        wi_args_number(&in, "mean", 0, "0", &mean) < 0 ||
        wi_args_number(&in, "std", 1, "1", &std) < 0)
        return NULL;
    self = wi_init_self_new(&in, base, sizeof *self,
                            "NormalInit: mean=%s, std=%s, bias=%s", mean.repr,
                            std.repr, base->bias_repr);
    if (self) {
        self->mean = mean.value;
        self->std = std.value;
    }
    return self;
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const normal_t *self = self_;
    return host->normal_init(m, host->context_generator(ctx), self->mean,
                             self->std, self->base.bias, err);
}

/* The tensor function for `names` entries. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    const normal_t *self = self_;
    return host->normal_(t, host->context_generator(ctx), self->mean,
                         self->std, err);
}

static const wi_initializer_type_t normal_type = {
    sizeof(wi_initializer_type_t), "Normal", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, wi_init_self_free,
    init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &normal_type, err);
}

WI_PLUGIN_DEFINE("normal", "0.1.0", register_types)
