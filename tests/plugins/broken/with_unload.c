/* ABI 1.4's unload: called once when the registry that loaded the plugin
 * is freed.  It appends a line to the file $WI_TEST_UNLOAD_FILE, so the
 * test sees it from outside the plugin. */
#include <stdio.h>
#include <stdlib.h>

#include "dummy_init.h"

DUMMY_INIT_TYPE(dummy_type, "UnloadInit");

static int register_types(const wi_host_t *host, wi_plugin_t *plugin, wi_error_t *err)
{
    return host->register_initializer(plugin, &dummy_type, err);
}

static void unload(void)
{
    const char *path = getenv("WI_TEST_UNLOAD_FILE");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f) {
        fputs("unloaded\n", f);
        fclose(f);
    }
}

WI_PLUGIN_DEFINE_UNLOAD("with_unload", "0.1.0", register_types, unload)
