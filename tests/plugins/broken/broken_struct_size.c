/* A descriptor whose struct_size is wrong (8): must be rejected. */
#include "dummy_init.h"

DUMMY_INIT_TYPE(dummy_type, "StructSizeInit");

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
        WI_PLUGIN_ABI_MAJOR, WI_PLUGIN_ABI_MINOR, /* abi_major, abi_minor */
        8, "broken_struct_size", "0.1.0", register_types};
    return &d;
}
