/* MMEngine's TruncNormalInit(mean=0, std=1, a=-2, b=2, bias=0):
 * trunc_normal_init. */
#include "common.h"

typedef struct trunc_normal {
    wi_init_self_t base;
    double mean, std, a, b;
} trunc_normal_t;

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"mean", "std", "a", "b", NULL};
    wi_args_t in = {host, args, "TruncNormal", source, path, err};
    wi_num_t mean, std, a, b;
    trunc_normal_t *self;

    if (wi_args_check_keys(&in, keys) < 0 ||
        wi_args_number(&in, "mean", 0, "0", &mean) < 0 ||
        wi_args_number(&in, "std", 1, "1", &std) < 0 ||
        wi_args_number(&in, "a", -2, "-2", &a) < 0 ||
        wi_args_number(&in, "b", 2, "2", &b) < 0)
        return NULL;
    self = wi_init_self_new(&in, base, sizeof *self,
                            "TruncNormalInit: a=%s, b=%s, mean=%s, std=%s, "
                            "bias=%s",
                            a.repr, b.repr, mean.repr, std.repr,
                            base->bias_repr);
    if (self) {
        self->mean = mean.value;
        self->std = std.value;
        self->a = a.value;
        self->b = b.value;
    }
    return self;
}

/* trunc_normal_ names a bad bound "a" or "b": make it the config key. */
static int locate_bound(const trunc_normal_t *self, int rc, wi_error_t *err)
{
    static const char *const bounds[] = {"a", "a", "b", "b", NULL};
    return wi_init_locate_arg(&self->base, rc, err, bounds);
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const trunc_normal_t *self = self_;
    int rc = host->trunc_normal_init(m, host->context_generator(ctx),
                                     self->mean, self->std, self->a, self->b,
                                     self->base.bias, err);
    return locate_bound(self, rc, err);
}

/* The tensor function for `names` entries. */
static int init_tensor(void *self_, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err)
{
    const trunc_normal_t *self = self_;
    int rc = host->trunc_normal_(t, host->context_generator(ctx), self->mean,
                                 self->std, self->a, self->b, err);
    return locate_bound(self, rc, err);
}

static const wi_initializer_type_t trunc_normal_type = {
    sizeof(wi_initializer_type_t), "TruncNormal", WI_INIT_BASE_ARGS, create,
    init_module, NULL, wi_init_self_info, wi_init_self_free,
    init_tensor};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &trunc_normal_type, err);
}

WI_PLUGIN_DEFINE("trunc_normal", "0.1.0", register_types)
