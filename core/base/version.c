#include <weightinit/weightinit.h>

const char *wi_version(void) { return WI_VERSION; }
