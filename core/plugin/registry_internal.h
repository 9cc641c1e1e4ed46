/* Registry entry points of the host table.  Internal. */
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
/* BaseModule.init_weights' own behaviour (engine.c). */
WI_INTERNAL int wi_priv_base_init_weights(wi_module_t *m, wi_context_t *ctx,
                                          wi_error_t *err);

#endif
