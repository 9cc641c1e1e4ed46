/* The registry's entry points for the host table, and the installed
 * table itself.  Internal. */
#ifndef WI_REGISTRY_INTERNAL_H
#define WI_REGISTRY_INTERNAL_H

#include <weightinit/plugin.h>

#include "base/internal.h"

WI_INTERNAL int wi_priv_register_initializer(wi_plugin_t *plugin,
                                             const wi_initializer_type_t *type,
                                             wi_error_t *err);
WI_INTERNAL int wi_priv_register_module_type(wi_plugin_t *plugin,
                                             const wi_module_type_t *type,
                                             wi_error_t *err);
/* wi_registry_load_plugin that also says whether the file was loaded now
 * (*loaded = 1) or had been loaded before (0, success). */
WI_INTERNAL int wi_priv_registry_load_plugin(wi_registry_t *reg,
                                             const char *path, int *loaded,
                                             wi_error_t *err);
/* The host table plugins are handed (wi_host()): host/host.c, above
 * everything it adapts, installs it when the library is loaded, so this
 * layer and those below the host call none of its names.  NULL before. */
WI_INTERNAL void wi_priv_host_install(const wi_host_t *host);
WI_INTERNAL const wi_host_t *wi_priv_host(void);

#endif
