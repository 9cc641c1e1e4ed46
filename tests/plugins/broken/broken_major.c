/* Claims ABI major 2: must be rejected. */
#include "dummy_init.h"

BROKEN_PLUGIN("broken_major", "MajorTwoInit", 2, WI_PLUGIN_ABI_MINOR, sizeof(wi_plugin_descriptor_t))
