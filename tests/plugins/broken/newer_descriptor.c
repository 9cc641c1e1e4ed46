/* A descriptor larger than this host's (as a later header may make it:
 * members appended after unload), with this host's minor: the host reads
 * the members it knows and loads it. */
#include "dummy_init.h"

struct descriptor_later {
    uint32_t abi_major, abi_minor, struct_size;
    const char *name;
    const char *version;
    int (*register_types)(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err);
    void (*unload)(void);
    const char *later_member;
    uint64_t later_flags;
};

LAYOUT_PLUGIN("newer_descriptor", "NewerDescriptorInit", WI_PLUGIN_ABI_MINOR,
              struct descriptor_later)
