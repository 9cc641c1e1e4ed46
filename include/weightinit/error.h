/* Errors: codes plus a caller-owned message struct, in the style of
 * jansson's json_error_t.  Every fallible call returns 0 (or a non-NULL
 * pointer) on success and a negative WI_E* code (or NULL) on failure, and,
 * when given a non-NULL wi_error_t, fills it. */
#ifndef WEIGHTINIT_ERROR_H
#define WEIGHTINIT_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clears err (NULL allowed). */
void wi_error_clear(wi_error_t *err);

/* Fills err (NULL allowed) and returns code, so callers can write
 * `return wi_error_set(err, WI_EINVAL, file, "init_cfg[0].type", "...")`.
 * source and path may be NULL.  Long strings are truncated. */
int wi_error_set(wi_error_t *err, int code, const char *source,
                 const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int wi_error_setv(wi_error_t *err, int code, const char *source,
                  const char *path, const char *fmt, va_list ap);

/* Writes the one-line form "source:line:column: path: text" (parts that
 * are empty are left out) into buf (the caller's), truncating to size.
 * Returns buf. */
char *wi_error_format(const wi_error_t *err, char *buf, size_t size);

/* A static English name for a WI_E* code. */
const char *wi_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
