/* wi_error_t: filling one and formatting it as one line. */
#include <stdio.h>
#include <string.h>

#include <weightinit/error.h>

#include "base/path.h"

void wi_error_clear(wi_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int wi_error_setv(wi_error_t *err, int code, const char *source,
                  const char *path, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    err->line = 0;
    err->column = 0;
    copy_str(err->source, sizeof err->source, source);
    /* A path too long for the field keeps its end, which names the node. */
    wi_priv_path_join(err->path, sizeof err->path, path ? path : "", "", "");
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    return code;
}

int wi_error_set(wi_error_t *err, int code, const char *source,
                 const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wi_error_setv(err, code, source, path, fmt, ap);
    va_end(ap);
    return code;
}

char *wi_error_format(const wi_error_t *err, char *buf, size_t size)
{
    size_t used = 0;
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!err)
        return buf;
#define APPEND(...)                                                          \
    do {                                                                     \
        if (used < size) {                                                   \
            int n_ = snprintf(buf + used, size - used, __VA_ARGS__);         \
            used += n_ > 0 ? (size_t)n_ : 0;                                 \
        }                                                                    \
    } while (0)
    /* "x.pth: x.pth can not be found." says the name once. */
    size_t slen = strlen(err->source);
    int named = err->line <= 0 && !err->path[0] &&
                strncmp(err->text, err->source, slen) == 0 &&
                err->text[slen] == ' ';
    if (err->source[0] && !named) {
        APPEND("%s", err->source);
        if (err->line > 0)
            APPEND(":%d:%d", err->line, err->column);
        APPEND(": ");
    }
    if (err->path[0])
        APPEND("%s: ", err->path);
    APPEND("%s", err->text[0] ? err->text : wi_strerror(err->code));
#undef APPEND
    /* One line, always: a message quoting file content must not break it. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return buf;
}

const char *wi_strerror(int code)
{
    switch (code) {
    case WI_OK: return "success";
    case WI_EINVAL: return "invalid value";
    case WI_ENOMEM: return "out of memory";
    case WI_EIO: return "input/output error";
    case WI_EFORMAT: return "malformed file";
    case WI_ENOTFOUND: return "not found";
    case WI_EUNSUPPORTED: return "not supported";
    case WI_EPLUGIN: return "plugin error";
    case WI_ESTATE: return "invalid state";
    case WI_EFILE: return "cannot open the input file";
    default: return "unknown error";
    }
}
