/* Shared by every core file.  The export map publishes every wi_* name,
 * so functions shared between core files but not part of the API are
 * marked WI_INTERNAL (hidden); tests/test_exports checks the result. */
#ifndef WI_INTERNAL_H
#define WI_INTERNAL_H

#define WI_INTERNAL __attribute__((visibility("hidden")))

#endif
