/* Built against ABI 1.0: an older minor and the older, smaller descriptor
 * (no 1.4 unload), which the host must accept. */
#include "dummy_init.h"

LAYOUT_PLUGIN("broken_old_minor", "OldMinorInit", 0, struct descriptor_1_0)
