/* An initializer whose info() happens to read like the report's wording
 * for an unwritten parameter ("The value is the same before and after
 * calling ..."): diagnostics must tell written from unwritten by what
 * was written, not by that text.  It sets `weight` to 1. */
#include <weightinit/plugin.h>

static char odd_self;

static void odd_destroy(void *self) {}

static const char *odd_info(void *self)
{
    return "The value is the same before and after calling this twice";
}

static int odd_init_module(void *self, const wi_host_t *host, wi_module_t *m,
                           wi_context_t *ctx, wi_error_t *err)
{
    wi_tensor_t *w = host->module_find_parameter(m, "weight");
    return w ? host->constant_(w, 1.0, err) : 0;
}

static void *odd_create(const wi_host_t *host, const wi_value_t *args,
                        const wi_init_base_t *base, const char *source,
                        const char *path, wi_error_t *err)
{
    static const char *const keys[] = {NULL};
    return host->check_keys(args, keys, "OddInfo", source, path, err) < 0 ? NULL
                                                                          : &odd_self;
}

static const wi_initializer_type_t odd_type = {
    sizeof(wi_initializer_type_t), "OddInfo", WI_INIT_BASE_ARGS, odd_create,
    odd_init_module, NULL, odd_info, odd_destroy, NULL};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin, wi_error_t *err)
{
    return host->register_initializer(plugin, &odd_type, err);
}

WI_PLUGIN_DEFINE("odd_info", "0.1.0", register_types)
