/* MMEngine's ConstantInit(val, bias=0): constant_init on each module. */
#include "common.h"

typedef struct constant {
    wi_init_self_t base;
    double val;
} constant_t;

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"val", NULL};
    wi_args_t in = {host, args, "Constant", source, path, err};
    wi_num_t val;
    constant_t *self;

    if (wi_args_check_keys(&in, keys) < 0 ||
        wi_args_number(&in, "val", 0, NULL, &val) < 0)
        return NULL;
    self = wi_init_self_new(&in, base, sizeof *self,
                            "ConstantInit: val=%s, bias=%s", val.repr,
                            base->bias_repr);
    if (self)
        self->val = val.value;
    return self;
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const constant_t *self = self_;
    return host->constant_init(m, self->val, self->base.bias, err);
}

/* The tensor function for `names` entries. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    const constant_t *self = self_;
    (void)ctx;
    return host->constant_(t, self->val, err);
}

static const wi_initializer_type_t constant_type = {
    sizeof(wi_initializer_type_t), "Constant", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, wi_init_self_free,
    init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &constant_type, err);
}

WI_PLUGIN_DEFINE("constant", "0.1.0", register_types)
