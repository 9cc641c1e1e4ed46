/* A plugin whose register function fails: the load must fail with its
 * message. */
#include <weightinit/plugin.h>

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->error_set(err, WI_EPLUGIN, NULL, NULL,
                           "refusing to register on purpose");
}

WI_PLUGIN_DEFINE("broken_register_fails", "0.1.0", register_types)
