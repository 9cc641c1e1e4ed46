/* A do-nothing initializer type for the loader-test plugins:
 * DUMMY_INIT_TYPE(var, "Name") defines `var`, a type registered as Name
 * that takes no arguments and writes nothing.  Only 1.0 host calls. */
#ifndef WI_TEST_DUMMY_INIT_H
#define WI_TEST_DUMMY_INIT_H

#include <weightinit/plugin.h>

static char dummy_self;

static int dummy_init_module(void *self, const wi_host_t *host,
                             wi_module_t *m, wi_context_t *ctx,
                             wi_error_t *err)
{
    return 0;
}

static const char *dummy_info(void *self) { return "DummyInit"; }

static void dummy_destroy(void *self) {}

#define DUMMY_INIT_TYPE(var, name)                                           \
    static void *var##_create(const wi_host_t *host, const wi_value_t *args, \
                              const wi_init_base_t *base,                    \
                              const char *source, const char *path,          \
                              wi_error_t *err)                               \
    {                                                                        \
        static const char *const keys[] = {NULL};                            \
        return host->check_keys(args, keys, name, source, path, err) < 0     \
                   ? NULL                                                    \
                   : &dummy_self;                                            \
    }                                                                        \
    static const wi_initializer_type_t var = {                               \
        sizeof(wi_initializer_type_t), name, WI_INIT_BASE_ARGS,              \
        var##_create, dummy_init_module, NULL, dummy_info, dummy_destroy, NULL}

/* The descriptor as ABI 1.0 to 1.3 laid it out (before 1.4's unload): a
 * plugin built against an older header exports exactly this. */
struct descriptor_1_0 {
    uint32_t abi_major, abi_minor, struct_size;
    const char *name;
    const char *version;
    int (*register_types)(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err);
};

/* A plugin that registers one dummy type `type_name` behind a descriptor
 * written by hand: a `layout` struct (whose first members are 1.0's)
 * with the given, possibly wrong, ABI fields. */
#define DESCRIBED_PLUGIN(plugin_name, type_name, layout, major, minor, size)  \
    DUMMY_INIT_TYPE(dummy_type, type_name);                                  \
    static int register_types(const wi_host_t *host, wi_plugin_t *plugin,    \
                              wi_error_t *err)                               \
    {                                                                        \
        return host->register_initializer(plugin, &dummy_type, err);         \
    }                                                                        \
    __attribute__((visibility("default"))) const void *wi_plugin_descriptor(void); \
    const void *wi_plugin_descriptor(void)                                   \
    {                                                                        \
        static const layout d = {.abi_major = major, .abi_minor = minor,     \
                                 .struct_size = size, .name = plugin_name,   \
                                 .version = "0.1.0",                         \
                                 .register_types = register_types};          \
        return &d;                                                           \
    }

/* Today's descriptor with the given ABI fields. */
#define BROKEN_PLUGIN(plugin_name, type_name, major, minor, size)            \
    DESCRIBED_PLUGIN(plugin_name, type_name, wi_plugin_descriptor_t, major,  \
                     minor, size)

/* A descriptor of type `layout`, of its own size, this major. */
#define LAYOUT_PLUGIN(plugin_name, type_name, minor, layout)                 \
    DESCRIBED_PLUGIN(plugin_name, type_name, layout, WI_PLUGIN_ABI_MAJOR,    \
                     minor, sizeof(layout))

#endif
