/* What the engine gives the host table (host/host.c) beyond the public
 * API.  Not part of the ABI. */
#ifndef WI_ENGINE_INTERNAL_H
#define WI_ENGINE_INTERNAL_H

#include <weightinit/types.h>

#include "base/internal.h"

/* BaseModule.init_weights' own behaviour: the init_cfg of m, then each
 * child's init_weights (engine.c); the host table's base_init_weights. */
WI_INTERNAL int wi_priv_base_init_weights(wi_module_t *m, wi_context_t *ctx,
                                          wi_error_t *err);

#endif
