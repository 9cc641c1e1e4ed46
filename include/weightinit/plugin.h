/* The plugin ABI: all a plugin needs.  A plugin is a shared object that
 * exports one descriptor function (WI_PLUGIN_DEFINE) and, from its
 * register function, registers initializer types and module types by
 * name.  It calls weightinit only through the host table it is handed, so
 * it does not link against the library.
 *
 * Compatibility: the host loads a plugin whose ABI major equals its own
 * and whose minor is not newer.  The host table only grows: a minor
 * release appends functions at the end and never moves or changes one, so
 * a plugin built against an older header keeps working.  A plugin that
 * wants a function newer than its oldest supported host checks
 * WI_HOST_HAS(host, member) first.
 *
 * Growing structs: the descriptor and the type structs a plugin hands
 * the host start with their struct_size.  The host reads a struct at
 * that size: a smaller one (built against an older header) has none of
 * the later members, which count as absent (NULL); a larger one (a newer
 * header) has members this host does not know, which it ignores.  Each
 * must cover at least its 1.0 members (the *_SIZE_1_0 / _1_1 constants).
 *
 * Ownership: every pointer the host hands a plugin (modules, tensors,
 * config values, the context) is borrowed for the duration of the call
 * unless a function says otherwise.  Type structs registered by a plugin
 * must live as long as the plugin is loaded (static const storage). */
#ifndef WEIGHTINIT_PLUGIN_H
#define WEIGHTINIT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* Types only: a plugin sees no library prototype it could call around
 * the host table (and the loader refuses one that does). */
#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WI_PLUGIN_ABI_MAJOR 1
/* 1.0: initializer types, config values, tensors, modules, nn.init,
 *      functional API, errors, logging.
 * 1.1: module types (register_module_type, base_init_weights,
 *      module_child_name).
 * 1.2: checkpoints (load_checkpoint).
 * 1.3: wi_initializer_type_t.init_tensor (init_cfg `names` entries).
 * 1.4: wi_plugin_descriptor_t.unload; every struct a plugin hands the
 *      host (descriptor, initializer and module types) is read at its own
 *      struct_size, so each can grow. */
#define WI_PLUGIN_ABI_MINOR 4

/* wi_value_t, a configuration value, is declared in weightinit/types.h;
 * a plugin reads it through the host's value_* functions. */
typedef enum wi_value_kind {
    WI_VALUE_OBJECT, WI_VALUE_ARRAY, WI_VALUE_STRING, WI_VALUE_INTEGER,
    WI_VALUE_REAL, WI_VALUE_TRUE, WI_VALUE_FALSE, WI_VALUE_NULL
} wi_value_kind_t;

/* The plugin being registered (opaque). */
typedef struct wi_plugin wi_plugin_t;
typedef struct wi_host wi_host_t;

/* BaseInit's common arguments, resolved by the host for initializer types
 * flagged WI_INIT_BASE_ARGS: `bias` (or bias_init_with_prob(bias_prob)),
 * printed as Python prints it. */
typedef struct wi_init_base {
    double bias;
    char bias_repr[40];
} wi_init_base_t;

/* Flags of an initializer type. */
#define WI_INIT_BASE_ARGS 1u /* takes bias, bias_prob and layer (BaseInit) */

typedef struct wi_initializer_type {
    uint32_t struct_size; /* sizeof(wi_initializer_type_t) */
    const char *name;     /* the registry key: "Kaiming" */
    uint32_t flags;
    /* A new instance from the initializer's own arguments `args` (an
     * object: the config minus type, override, and, with
     * WI_INIT_BASE_ARGS, minus layer, bias and bias_prob).  base is never
     * NULL (bias 0 for types without WI_INIT_BASE_ARGS).  source/path
     * locate args for errors ("init_cfg[0]").  NULL with err on bad args;
     * unknown keys are errors that list the accepted ones. */
    void *(*create)(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err);
    /* Initialises one module the config selects (MMEngine's inner init(m):
     * its own weight and bias).  The host walks the tree children-first and
     * applies `layer`.  Exactly one of init_module / apply is set. */
    int (*init_module)(void *self, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err);
    /* Handles the whole module itself (e.g. Pretrained). */
    int (*apply)(void *self, const wi_host_t *host, wi_module_t *m,
                 wi_context_t *ctx, wi_error_t *err);
    /* MMEngine's _get_init_info(): "KaimingInit: a=0, ..." (owned by self). */
    const char *(*info)(void *self);
    void (*destroy)(void *self);
    /* --- 1.3: members below are read only when struct_size covers them,
     * so a type built against an older header stays valid. --- */
    /* The initializer's function on one bare tensor (Normal: normal_(t,
     * mean, std); Kaiming: kaiming_normal_/uniform_(t, ...)), used for an
     * init_cfg entry's `names` (weightinit's extension: parameters picked
     * by name).  No bias handling: `names` entries take no bias.  May be
     * NULL: such a type cannot be used with `names`. */
    int (*init_tensor)(void *self, const wi_host_t *host, wi_tensor_t *t,
                       wi_context_t *ctx, wi_error_t *err);
} wi_initializer_type_t;

/* The size of an initializer type built against ABI 1.0 to 1.2. */
#define WI_INITIALIZER_TYPE_SIZE_1_0 offsetof(wi_initializer_type_t, init_tensor)
/* 1 when type (registered with its struct_size) has `member`. */
#define WI_INITIALIZER_HAS(type, member)                                      \
    ((type)->struct_size >=                                                  \
     offsetof(wi_initializer_type_t, member) + sizeof((type)->member))

typedef struct wi_module_type {
    uint32_t struct_size; /* sizeof(wi_module_type_t) */
    const char *name;     /* the class name used as "type" in model files */
    int is_base_module;   /* 1: a BaseModule (init_cfg, init_weights) */
    /* Adds the type's own parameters (and checks its children) after the
     * loader built the node's JSON children, params and init_cfg.  node
     * is the module's JSON object.  May be NULL. */
    int (*construct)(const wi_host_t *host, wi_module_t *m,
                     const wi_value_t *node, wi_context_t *ctx,
                     const char *source, const char *path, wi_error_t *err);
    /* The user-defined init_weights, NULL for BaseModule's own.  A
     * BaseModule type that extends it calls host->base_init_weights.  It
     * gets no host argument: keep the table handed to the register
     * function (it is static and outlives every plugin). */
    wi_init_weights_fn init_weights;
} wi_module_type_t;

/* The size of a module type built against ABI 1.1 to 1.4 (all of it). */
#define WI_MODULE_TYPE_SIZE_1_1                                              \
    (offsetof(wi_module_type_t, init_weights) + sizeof(wi_init_weights_fn))
/* 1 when type (registered with its struct_size) has `member`. */
#define WI_MODULE_TYPE_HAS(type, member)                                     \
    ((type)->struct_size >=                                                  \
     offsetof(wi_module_type_t, member) + sizeof((type)->member))

/* The host table.  Append-only; see the compatibility rules above. */
struct wi_host {
    uint32_t abi_major, abi_minor;
    uint32_t struct_size; /* sizeof(wi_host_t) of the host */

    /* --- 1.0 --- */
    int (*register_initializer)(wi_plugin_t *plugin,
                                const wi_initializer_type_t *type,
                                wi_error_t *err);
    int (*error_set)(wi_error_t *err, int code, const char *source,
                     const char *path, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
    void (*log)(const wi_context_t *ctx, wi_log_level_t level,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));
    wi_generator_t *(*context_generator)(const wi_context_t *ctx);

    wi_value_kind_t (*value_kind)(const wi_value_t *v);
    /* Borrowed member of an object, NULL when absent. */
    const wi_value_t *(*value_get)(const wi_value_t *object, const char *key);
    double (*value_number)(const wi_value_t *v);      /* int or real */
    const char *(*value_string)(const wi_value_t *v); /* NULL if not a string */
    size_t (*value_size)(const wi_value_t *v);        /* array/object size */
    const wi_value_t *(*value_at)(const wi_value_t *array, size_t i);
    /* The i-th key of an object in file order (NULL past the end). */
    const char *(*value_key_at)(const wi_value_t *object, size_t i);
    /* Python's str() of a number value: "1", "0.01", "1e-05". */
    char *(*value_repr)(const wi_value_t *v, char *buf, size_t size);
    /* Python's repr() of a float: shortest round-trip digits. */
    char *(*format_double)(double x, char *buf, size_t size);
    /* Checks that every key of args is one of `accepted` (NULL-ended); on
     * an unknown key fills err naming it and listing the accepted ones. */
    int (*check_keys)(const wi_value_t *args, const char *const *accepted,
                      const char *type_name, const char *source,
                      const char *path, wi_error_t *err);

    int (*tensor_ndim)(const wi_tensor_t *t);
    const int64_t *(*tensor_shape)(const wi_tensor_t *t);
    int64_t (*tensor_numel)(const wi_tensor_t *t);
    void *(*tensor_data)(wi_tensor_t *t);
    void (*tensor_bump_version)(wi_tensor_t *t);
    wi_tensor_t *(*tensor_new)(wi_dtype_t dtype, int ndim,
                               const int64_t *shape, wi_error_t *err);
    void (*tensor_free)(wi_tensor_t *t);

    const char *(*module_type)(const wi_module_t *m);
    wi_tensor_t *(*module_find_parameter)(const wi_module_t *m,
                                          const char *name);
    wi_module_t *(*module_find_child)(const wi_module_t *m, const char *name);
    size_t (*module_child_count)(const wi_module_t *m);
    wi_module_t *(*module_child)(const wi_module_t *m, size_t i);
    size_t (*module_parameter_count)(const wi_module_t *m);
    const char *(*module_parameter_name)(const wi_module_t *m, size_t i);
    wi_tensor_t *(*module_parameter)(const wi_module_t *m, size_t i);
    /* Steals t, even on failure. */
    int (*module_add_parameter_new)(wi_module_t *m, const char *name,
                                    wi_tensor_t *t, wi_error_t *err);
    void (*module_set_user_data)(wi_module_t *m, void *data,
                                 void (*free_fn)(void *data));
    void *(*module_user_data)(const wi_module_t *m);

    int (*uniform_)(wi_tensor_t *t, wi_generator_t *g, double from,
                    double to, wi_error_t *err);
    int (*normal_)(wi_tensor_t *t, wi_generator_t *g, double mean,
                   double std, wi_error_t *err);
    int (*trunc_normal_)(wi_tensor_t *t, wi_generator_t *g, double mean,
                         double std, double a, double b, wi_error_t *err);
    int (*constant_)(wi_tensor_t *t, double val, wi_error_t *err);
    int (*xavier_uniform_)(wi_tensor_t *t, wi_generator_t *g, double gain,
                           wi_error_t *err);
    int (*xavier_normal_)(wi_tensor_t *t, wi_generator_t *g, double gain,
                          wi_error_t *err);
    int (*kaiming_uniform_)(wi_tensor_t *t, wi_generator_t *g, double a,
                            const char *mode, const char *nonlinearity,
                            wi_error_t *err);
    int (*kaiming_normal_)(wi_tensor_t *t, wi_generator_t *g, double a,
                           const char *mode, const char *nonlinearity,
                           wi_error_t *err);
    int (*calculate_gain)(const char *nonlinearity, const double *param,
                          double *gain, wi_error_t *err);
    int (*calculate_fan_in_and_fan_out)(const wi_tensor_t *t,
                                        int64_t *fan_in, int64_t *fan_out,
                                        wi_error_t *err);
    uint32_t (*random32)(wi_generator_t *g);

    int (*constant_init)(wi_module_t *m, double val, double bias,
                         wi_error_t *err);
    int (*xavier_init)(wi_module_t *m, wi_generator_t *g, double gain,
                       double bias, const char *distribution,
                       wi_error_t *err);
    int (*normal_init)(wi_module_t *m, wi_generator_t *g, double mean,
                       double std, double bias, wi_error_t *err);
    int (*trunc_normal_init)(wi_module_t *m, wi_generator_t *g, double mean,
                             double std, double a, double b, double bias,
                             wi_error_t *err);
    int (*uniform_init)(wi_module_t *m, wi_generator_t *g, double a,
                        double b, double bias, wi_error_t *err);
    int (*kaiming_init)(wi_module_t *m, wi_generator_t *g, double a,
                        const char *mode, const char *nonlinearity,
                        double bias, const char *distribution,
                        wi_error_t *err);
    double (*bias_init_with_prob)(double prior_prob);

    /* --- 1.1 --- */
    int (*register_module_type)(wi_plugin_t *plugin,
                                const wi_module_type_t *type,
                                wi_error_t *err);
    /* BaseModule.init_weights' own behaviour (init_cfg, children,
     * Pretrained last), for module types that extend it. */
    int (*base_init_weights)(wi_module_t *m, wi_context_t *ctx,
                             wi_error_t *err);
    const char *(*module_child_name)(const wi_module_t *m, size_t i);

    /* --- 1.2 --- */
    /* MMEngine's Pretrained loading (weightinit/checkpoint.h,
     * wi_module_load_pretrained): a path or http(s) URL, optional prefix. */
    int (*load_checkpoint)(wi_module_t *m, const char *checkpoint,
                           const char *prefix, wi_context_t *ctx,
                           wi_error_t *err);
};

/* 1 when the host table has `member` (it may be older than the header). */
#define WI_HOST_HAS(host, member)                                            \
    ((host)->struct_size >= offsetof(wi_host_t, member) + sizeof((host)->member))

/* What a plugin exports. */
typedef struct wi_plugin_descriptor {
    uint32_t abi_major;   /* WI_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* WI_PLUGIN_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(wi_plugin_descriptor_t) */
    const char *name;
    const char *version;
    /* Registers the plugin's types through host->register_*; returns 0
     * or a WI_E* code with err filled. */
    int (*register_types)(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err);
    /* --- 1.4: read only when struct_size covers it --- */
    /* Called once just before the plugin is unloaded (its registry is
     * freed, or its registration failed), after every use of its types:
     * frees what the register function allocated.  May be NULL. */
    void (*unload)(void);
} wi_plugin_descriptor_t;

/* The size of a descriptor built against ABI 1.0 to 1.3. */
#define WI_PLUGIN_DESCRIPTOR_SIZE_1_0 offsetof(wi_plugin_descriptor_t, unload)
/* 1 when descriptor d (of its own struct_size) has `member`. */
#define WI_PLUGIN_DESCRIPTOR_HAS(d, member)                                  \
    ((d)->struct_size >=                                                     \
     offsetof(wi_plugin_descriptor_t, member) + sizeof((d)->member))

#define WI_PLUGIN_DESCRIPTOR_SYMBOL "wi_plugin_descriptor"
typedef const wi_plugin_descriptor_t *(*wi_plugin_descriptor_fn)(void);

/* Defines the exported descriptor function of a plugin;
 * WI_PLUGIN_DEFINE_UNLOAD also names its unload function. */
#define WI_PLUGIN_DEFINE_UNLOAD(name_, version_, register_fn_, unload_)      \
    __attribute__((visibility("default"))) const wi_plugin_descriptor_t *   \
    wi_plugin_descriptor(void);                                              \
    const wi_plugin_descriptor_t *wi_plugin_descriptor(void)                 \
    {                                                                        \
        static const wi_plugin_descriptor_t d = {                            \
            WI_PLUGIN_ABI_MAJOR, WI_PLUGIN_ABI_MINOR,                        \
            sizeof(wi_plugin_descriptor_t), name_, version_, register_fn_,   \
            unload_};                                                        \
        return &d;                                                           \
    }
#define WI_PLUGIN_DEFINE(name_, version_, register_fn_)                      \
    WI_PLUGIN_DEFINE_UNLOAD(name_, version_, register_fn_, NULL)

#ifdef __cplusplus
}
#endif
#endif
