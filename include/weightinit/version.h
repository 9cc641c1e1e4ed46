/* The library's version.  Its own header, so that the lowest layer of the
 * library can define it without including every other header. */
#ifndef WEIGHTINIT_VERSION_H
#define WEIGHTINIT_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH" (static string). */
const char *wi_version(void);

#ifdef __cplusplus
}
#endif
#endif
