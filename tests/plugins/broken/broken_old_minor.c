/* Built against ABI 1.0: an older minor, which the host must accept. */
#include "dummy_init.h"

DUMMY_INIT_TYPE(dummy_type, "OldMinorInit");

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &dummy_type, err);
}

__attribute__((visibility("default"))) const wi_plugin_descriptor_t *
wi_plugin_descriptor(void);

const wi_plugin_descriptor_t *wi_plugin_descriptor(void)
{
    static const wi_plugin_descriptor_t d = {
        1, 0, /* abi_major, abi_minor */
        sizeof(wi_plugin_descriptor_t), "broken_old_minor", "0.1.0", register_types};
    return &d;
}
