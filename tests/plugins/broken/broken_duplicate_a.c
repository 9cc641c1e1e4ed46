/* One of two plugins that both register "DuplicateInit": loading both
 * must fail with an error that names both files. */
#include "dummy_init.h"

DUMMY_INIT_TYPE(dummy_type, "DuplicateInit");

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &dummy_type, err);
}

WI_PLUGIN_DEFINE("broken_duplicate_a", "0.1.0", register_types)
