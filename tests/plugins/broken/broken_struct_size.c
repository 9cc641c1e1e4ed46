/* A descriptor whose struct_size is wrong (8): must be rejected. */
#include "dummy_init.h"

BROKEN_PLUGIN("broken_struct_size", "StructSizeInit", WI_PLUGIN_ABI_MAJOR, WI_PLUGIN_ABI_MINOR, 8)
