/* MMEngine's UniformInit(a=0, b=1, bias=0): uniform_init. */
#include "common.h"

typedef struct uniform {
    wi_init_self_t base;
    double a, b;
} uniform_t;

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"a", "b", NULL};
    wi_args_t in = {host, args, "Uniform", source, path, err};
    wi_num_t a, b;
    uniform_t *self;

    if (wi_args_check_keys(&in, keys) < 0 ||
        wi_args_number(&in, "a", 0, "0", &a) < 0 ||
        wi_args_number(&in, "b", 1, "1", &b) < 0)
        return NULL;
    self = wi_init_self_new(&in, base, sizeof *self,
                            "UniformInit: a=%s, b=%s, bias=%s", a.repr,
                            b.repr, base->bias_repr);
    if (self) {
        self->a = a.value;
        self->b = b.value;
    }
    return self;
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const uniform_t *self = self_;
    return host->uniform_init(m, host->context_generator(ctx), self->a,
                              self->b, self->base.bias, err);
}

/* The tensor function for `names` entries. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    const uniform_t *self = self_;
    return host->uniform_(t, host->context_generator(ctx), self->a,
                          self->b, err);
}

static const wi_initializer_type_t uniform_type = {
    sizeof(wi_initializer_type_t), "Uniform", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, wi_init_self_free,
    init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &uniform_type, err);
}

WI_PLUGIN_DEFINE("uniform", "0.1.0", register_types)
