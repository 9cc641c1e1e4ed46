/* wi_version(): the library's version string, set by meson. */
#include <weightinit/version.h>

const char *wi_version(void) { return WI_VERSION; }
