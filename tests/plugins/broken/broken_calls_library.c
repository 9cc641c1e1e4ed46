/* A plugin that calls the library around the host table (it declares
 * wi_tensor_data itself; plugin.h declares no library function) and is
 * linked without -z defs, so the link does not catch it: the loader must
 * refuse it before running any of its code. */
#include "dummy_init.h"

void *wi_tensor_data(wi_tensor_t *t);

/* Exported, so no compiler drops it (nothing in the plugin calls it). */
__attribute__((visibility("default"))) int calls_library(wi_tensor_t *t);
int calls_library(wi_tensor_t *t)
{
    return wi_tensor_data(t) ? 0 : -1;
}

BROKEN_PLUGIN("broken_calls_library", "CallsLibraryInit", WI_PLUGIN_ABI_MAJOR,
              WI_PLUGIN_ABI_MINOR, sizeof(wi_plugin_descriptor_t))
