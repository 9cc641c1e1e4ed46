/* The registry: initializer types (MMEngine's WEIGHT_INITIALIZERS) and
 * module types, keyed by name, each remembering the plugin file that
 * registered it.  A process-wide default registry exists for convenience
 * (wi_registry_default); every API that uses a registry also accepts an
 * explicit one through the context. */
#ifndef WEIGHTINIT_REGISTRY_H
#define WEIGHTINIT_REGISTRY_H

#include <stddef.h>

#include <weightinit/error.h>
#include <weightinit/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wi_registry_kind {
    WI_REGISTRY_INITIALIZER = 0,
    WI_REGISTRY_MODULE_TYPE = 1
} wi_registry_kind_t;

/* A new empty registry (NULL when out of memory); frees its plugins. */
wi_registry_t *wi_registry_new(void);
void wi_registry_free(wi_registry_t *reg);

/* The process-wide default registry, created empty on first use and freed
 * at exit.  Borrowed. */
wi_registry_t *wi_registry_default(void);

/* Loads one plugin file (dlopen RTLD_NOW | RTLD_LOCAL), checks its
 * descriptor and registers its types.  Before dlopen the file is opened
 * without blocking and refused (WI_EPLUGIN) unless it is a regular file
 * holding a complete ELF shared object for this machine, so a FIFO, a
 * directory or a truncated file is an error, never a hang or a crash.  A
 * file loaded before (the same file, by device and inode, through any
 * path) is skipped: 0.  A type name registered already is WI_EINVAL naming
 * both files.  Every failure is an error that names the file and why. */
int wi_registry_load_plugin(wi_registry_t *reg, const char *path,
                            wi_error_t *err);

/* Loads every "*.so" (sorted by name) in the built-in plugin folder
 * (wi_registry_builtin_plugin_dir), or in each folder of dirs (a
 * colon-separated list; NULL or "" loads nothing).  A broken plugin does
 * not stop the others: it is recorded (wi_registry_failure) and becomes
 * an error only when a type that is not found is looked up.  Each returns
 * the number of failures it recorded (>= 0). */
int wi_registry_load_builtin(wi_registry_t *reg);
int wi_registry_load_path(wi_registry_t *reg, const char *dirs);

/* wi_registry_load_builtin, then wi_registry_load_path of
 * $WEIGHTINIT_PLUGIN_PATH: the built-in types come first, so a plugin on
 * the path that registers one again is a recorded failure naming both
 * files.  Returns the number of failures recorded (>= 0). */
int wi_registry_load_search_path(wi_registry_t *reg);

/* The folder of the built-in plugins this library uses (static string). */
const char *wi_registry_builtin_plugin_dir(void);

/* Registers a type directly (no plugin file; origin names it in listings
 * and errors, e.g. "built-in").  The struct is borrowed for the registry's
 * lifetime.  A duplicate name is WI_EINVAL naming both origins. */
int wi_registry_add_initializer(wi_registry_t *reg,
                                const wi_initializer_type_t *type,
                                const char *origin, wi_error_t *err);
int wi_registry_add_module_type(wi_registry_t *reg,
                                const wi_module_type_t *type,
                                const char *origin, wi_error_t *err);

/* Lookups.  An unknown name is WI_ENOTFOUND with the registered names, a
 * did-you-mean suggestion and any plugin that failed to load.  The types
 * are borrowed: static storage of the library or of a plugin, valid while
 * reg lives. */
const wi_initializer_type_t *
wi_registry_find_initializer(const wi_registry_t *reg, const char *name,
                             wi_error_t *err);
/* NULL (no error) when no module type has that name. */
const wi_module_type_t *wi_registry_find_module_type(const wi_registry_t *reg,
                                                     const char *name);

/* Listing, sorted by kind then name: name, kind and origin (the plugin
 * file) of entry i < wi_registry_size().  Strings borrowed (owned by
 * reg, valid until it is freed or another type is registered). */
size_t wi_registry_size(const wi_registry_t *reg);
const char *wi_registry_name(const wi_registry_t *reg, size_t i);
wi_registry_kind_t wi_registry_kind(const wi_registry_t *reg, size_t i);
const char *wi_registry_origin(const wi_registry_t *reg, size_t i);

/* Plugins that failed to load from the search path: file and message
 * (borrowed, owned by reg). */
size_t wi_registry_failure_count(const wi_registry_t *reg);
const char *wi_registry_failure_file(const wi_registry_t *reg, size_t i);
const char *wi_registry_failure_message(const wi_registry_t *reg, size_t i);

/* The host table handed to plugins (static; borrowed). */
const wi_host_t *wi_host(void);

#ifdef __cplusplus
}
#endif
#endif
