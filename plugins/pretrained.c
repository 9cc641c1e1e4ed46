/* MMEngine's PretrainedInit(checkpoint, prefix=None, map_location='cpu'):
 * loads a checkpoint (path or http(s) URL) into the module, not strictly.
 * Not a BaseInit: it takes no bias, bias_prob or layer. */
#include <stdlib.h>

#include "common.h"

typedef struct pretrained {
    wi_init_self_t base;
    char *checkpoint;
    char *prefix; /* NULL: the whole checkpoint */
} pretrained_t;

static void destroy(void *self_)
{
    pretrained_t *self = self_;
    free(self->checkpoint);
    free(self->prefix);
    wi_init_self_free(self);
}

/* prefix: a string, or null / absent for None. */
static int read_prefix(const wi_args_t *in, char **prefix)
{
    const wi_value_t *v = in->host->value_get(in->args, "prefix");
    *prefix = NULL;
    if (!v || in->host->value_kind(v) == WI_VALUE_NULL)
        return 0;
    return wi_args_string(in, "prefix", NULL, prefix);
}

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"checkpoint", "prefix", "map_location", NULL};
    wi_args_t in = {host, args, "Pretrained", source, path, err};
    char *checkpoint = NULL, *prefix = NULL, *map_location = NULL;
    pretrained_t *self = NULL;
    if (wi_args_check_keys(&in, keys) < 0)
        return NULL;
    if (!host->value_get(args, "checkpoint")) {
        host->error_set(err, WI_EINVAL, source, path,
                        "Pretrained requires the argument 'checkpoint' (a path "
                        "or an http(s) URL)");
        return NULL;
    }
    /* map_location is accepted for compatibility: tensors load on the CPU. */
    if (wi_args_string(&in, "checkpoint", NULL, &checkpoint) == 0 &&
        read_prefix(&in, &prefix) == 0 &&
        wi_args_string(&in, "map_location", "cpu", &map_location) == 0)
        self = wi_init_self_new(&in, base, sizeof *self,
                                "PretrainedInit: load from %s", checkpoint);
    free(map_location);
    if (!self) {
        free(checkpoint);
        free(prefix);
        return NULL;
    }
    self->checkpoint = checkpoint;
    self->prefix = prefix;
    return self;
}

static int apply(void *self_, const wi_host_t *host, wi_module_t *m,
                 wi_context_t *ctx, wi_error_t *err)
{
    const pretrained_t *self = self_;
    if (self->prefix)
        host->log(ctx, WI_LOG_INFO, "load %s in model from: %s", self->prefix,
                  self->checkpoint);
    else
        host->log(ctx, WI_LOG_INFO, "load model from: %s", self->checkpoint);
    return host->load_checkpoint(m, self->checkpoint, self->prefix, ctx, err);
}

static const wi_initializer_type_t pretrained_type = {
    sizeof(wi_initializer_type_t), "Pretrained", 0, create, NULL, apply,
    wi_init_self_info, destroy, NULL};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    if (!WI_HOST_HAS(host, load_checkpoint))
        return host->error_set(err, WI_EPLUGIN, NULL, NULL,
                               "Pretrained needs plugin ABI 1.2 (load_checkpoint)");
    return host->register_initializer(plugin, &pretrained_type, err);
}

WI_PLUGIN_DEFINE("pretrained", "0.1.0", register_types)
