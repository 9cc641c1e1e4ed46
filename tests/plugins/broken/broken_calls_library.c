/* A plugin that calls the library around the host table (it declares
 * wi_tensor_data itself; plugin.h declares no library function) and is
 * linked without -z defs, so the link does not catch it: the loader must
 * refuse it before running any of its code. */
#include "dummy_init.h"

void *wi_tensor_data(wi_tensor_t *t);

static int calls_library(void *self, const wi_host_t *host, wi_tensor_t *t,
                         wi_context_t *ctx, wi_error_t *err)
{
    return wi_tensor_data(t) ? 0 : -1;
}

static int (*volatile keep)(void *, const wi_host_t *, wi_tensor_t *, wi_context_t *,
                            wi_error_t *) = calls_library;

BROKEN_PLUGIN("broken_calls_library", "CallsLibraryInit", WI_PLUGIN_ABI_MAJOR,
              WI_PLUGIN_ABI_MINOR, sizeof(wi_plugin_descriptor_t))
