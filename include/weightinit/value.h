/* JSON values as the API takes and gives them (wi_value_t, types.h):
 * made from text, printed, freed, without jansson's header. */
#ifndef WEIGHTINIT_VALUE_H
#define WEIGHTINIT_VALUE_H

#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A new value parsed from a NUL-terminated JSON text; the caller owns it
 * (wi_value_free).  NULL with err set (line and column) when the text is
 * not JSON (WI_EFORMAT) or memory ran out. */
wi_value_t *wi_value_parse(const char *text, wi_error_t *err);
/* v as compact JSON text, newly allocated (free() it); NULL when out of
 * memory. */
char *wi_value_dump(const wi_value_t *v);
/* Drops the caller's reference (a value the library returned as the
 * caller's, or one from wi_value_parse); NULL allowed. */
void wi_value_free(wi_value_t *v);

#ifdef __cplusplus
}
#endif

#endif
