/* SHA-256 (FIPS 180-4) for the musl conformance program only: the golden
 * files identify outputs by sha256 and this build links no crypto library
 * (nettle has no musl build here).  The main suites use nettle. */
#ifndef WI_MUSL_SHA256_H
#define WI_MUSL_SHA256_H

#include <stddef.h>

/* Lower-case hex digest of data[0..size) into hex[65]. */
void wi_musl_sha256_hex(const unsigned char *data, size_t size, char hex[65]);

#endif
