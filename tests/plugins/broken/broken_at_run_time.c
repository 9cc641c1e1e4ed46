/* Loads and registers fine, then fails while initialising: FailAtRunTime
 * returns WI_EIO from init_module, as a plugin whose own I/O failed
 * would.  The command must call that a failure while working (exit 1). */
#include <weightinit/plugin.h>

static char self;

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    return &self;
}

static int init_module(void *s, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    return host->error_set(err, WI_EIO, NULL, NULL,
                           "FailAtRunTime: simulated failure while writing %s",
                           host->module_type(m));
}

static const char *info(void *s) { return "FailAtRunTimeInit"; }

static void destroy(void *s) {}

static const wi_initializer_type_t fail_type = {
    sizeof(wi_initializer_type_t), "FailAtRunTime", WI_INIT_BASE_ARGS,
    create, init_module, NULL, info, destroy, NULL};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &fail_type, err);
}

WI_PLUGIN_DEFINE("broken_at_run_time", "0.1.0", register_types)
