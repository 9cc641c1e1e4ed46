/* Built against ABI 1.0: an older minor, which the host must accept. */
#include "dummy_init.h"

BROKEN_PLUGIN("broken_old_minor", "OldMinorInit", 1, 0, sizeof(wi_plugin_descriptor_t))
