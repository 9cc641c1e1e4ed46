/* Claims a minor newer than the host's: must be rejected. */
#include "dummy_init.h"

BROKEN_PLUGIN("broken_new_minor", "NewMinorInit", WI_PLUGIN_ABI_MAJOR, WI_PLUGIN_ABI_MINOR + 1, sizeof(wi_plugin_descriptor_t))
