/* Errors: codes plus a caller-owned message struct, in the style of
 * jansson's json_error_t.  Every fallible call returns 0 (or a non-NULL
 * pointer) on success and a negative WI_E* code (or NULL) on failure, and,
 * when given a non-NULL wi_error_t, fills it. */
#ifndef WEIGHTINIT_ERROR_H
#define WEIGHTINIT_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    WI_OK = 0,
    WI_EINVAL = -1,       /* a value or argument is invalid (config, model, call) */
    WI_ENOMEM = -2,       /* out of memory, or a size that cannot be allocated */
    WI_EIO = -3,          /* reading or writing a file or URL failed */
    WI_EFORMAT = -4,      /* a file is malformed, truncated or hostile */
    WI_ENOTFOUND = -5,    /* an unknown name: type, child, parameter, key */
    WI_EUNSUPPORTED = -6, /* valid but not supported by this version */
    WI_EPLUGIN = -7,      /* a plugin could not be loaded or registered */
    WI_ESTATE = -8,       /* the call is not valid in the object's state */
    WI_EFILE = -9         /* an input file is missing, unreadable or not a
                             regular file (a directory, FIFO, device) */
};

#define WI_ERROR_SOURCE_LENGTH 256
#define WI_ERROR_PATH_LENGTH 256
#define WI_ERROR_TEXT_LENGTH 512

/* Owned by the caller, usually on the stack.  All strings are
 * NUL-terminated and may be empty. */
typedef struct wi_error {
    int code;   /* 0 or a WI_E* code */
    int line;   /* 1-based line in a parsed text file, 0 when unknown */
    int column; /* 1-based column, 0 when unknown */
    char source[WI_ERROR_SOURCE_LENGTH]; /* file, URL or plugin at fault */
    char path[WI_ERROR_PATH_LENGTH];     /* JSON path or tensor name at fault */
    char text[WI_ERROR_TEXT_LENGTH];     /* what was expected, what was found */
} wi_error_t;

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
 * are empty are left out) into buf, truncating to size.  Returns buf. */
char *wi_error_format(const wi_error_t *err, char *buf, size_t size);

/* A static English name for a WI_E* code. */
const char *wi_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
