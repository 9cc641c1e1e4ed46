/* Shared by every core file.  The export map publishes every wi_* name,
 * so functions shared between core files but not part of the API are
 * marked WI_INTERNAL (hidden); tests/test_exports checks the result. */
#ifndef WI_INTERNAL_H
#define WI_INTERNAL_H

#include <stdint.h> /* defines __GLIBC__ under glibc */

#define WI_INTERNAL __attribute__((visibility("hidden")))

/* An "fma" clone beside the baseline code, picked at load time (same
 * results: fma() is exactly rounded either way).  Clones need ifunc,
 * which only glibc's loader provides; a static musl binary would crash in
 * the resolver, so elsewhere the code is built once. */
#if defined(__GLIBC__)
#define WI_FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#define WI_FMA_CLONES
#endif

#endif
