/* Helpers shared by the built-in initializer plugins (common.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Appends s to the string in buf (size bytes), truncating. */
static void append(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf), k = strlen(s);
    if (k > size - 1 - n)
        k = size - 1 - n;
    memcpy(buf + n, s, k);
    buf[n + k] = '\0';
}

/* "<path>.<key>", the JSON path of one argument.  A path too long for
 * buf is shortened as the host shortens its own (jsonutil.h): the first
 * two components, "...", and the end from the start of a component
 * ("init_cfg[0]...override.a"): the end names the argument. */
static const char *key_path(const char *path, const char *key, char *buf,
                            size_t size)
{
    char full[2 * WI_ERROR_PATH_LENGTH] = "";
    if (path && *path) {
        append(full, sizeof full, path);
        append(full, sizeof full, ".");
    }
    append(full, sizeof full, key);
    size_t len = strlen(full), head = 0, from = 0;
    buf[0] = '\0';
    if (len < size || size <= 8) {
        append(buf, size, full);
        return buf;
    }
    for (size_t i = 1, seen = 0; i < len && !head; i++)
        if ((full[i] == '.' || full[i] == '[') && ++seen == 2)
            head = i;
    head = head > (size - 4) / 2 ? 0 : head;
    from = len - (size - 4 - head);
    while (from < len && full[from - 1] != '.' && full[from] != '[')
        from++;
    from = from < len ? from : len - (size - 4 - head);
    memcpy(buf, full, head);
    buf[head] = '\0';
    append(buf, size, "...");
    append(buf, size, full + from);
    return buf;
}

/* What a JSON value is, for "expected X, got Y" messages. */
static const char *describe(const wi_host_t *host, const wi_value_t *v,
                            char *buf, size_t size)
{
    char num[WI_REPR_SIZE];
    switch (host->value_kind(v)) {
    case WI_VALUE_STRING:
        snprintf(buf, size, "the string \"%s\"", host->value_string(v));
        break;
    case WI_VALUE_INTEGER:
    case WI_VALUE_REAL:
        snprintf(buf, size, "the number %s",
                 host->value_repr(v, num, sizeof num));
        break;
    case WI_VALUE_TRUE: snprintf(buf, size, "true"); break;
    case WI_VALUE_FALSE: snprintf(buf, size, "false"); break;
    case WI_VALUE_NULL: snprintf(buf, size, "null"); break;
    case WI_VALUE_ARRAY: snprintf(buf, size, "an array"); break;
    default: snprintf(buf, size, "an object"); break;
    }
    return buf;
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    return copy ? memcpy(copy, s, n) : NULL;
}

int wi_args_check_keys(const wi_args_t *a, const char *const *accepted)
{
    return a->host->check_keys(a->args, accepted, a->type_name, a->source,
                               a->path, a->err);
}

int wi_args_number(const wi_args_t *a, const char *key, double def,
                   const char *def_repr, wi_num_t *out)
{
    const wi_host_t *host = a->host;
    const wi_value_t *v = host->value_get(a->args, key);
    char path[WI_ERROR_PATH_LENGTH], found[160];

    if (!v && !def_repr)
        return host->error_set(a->err, WI_EINVAL, a->source, a->path,
                               "%s requires the argument '%s'", a->type_name,
                               key);
    if (!v) {
        out->value = def;
        snprintf(out->repr, sizeof out->repr, "%s", def_repr);
        return 0;
    }
    wi_value_kind_t kind = host->value_kind(v);
    if (kind != WI_VALUE_INTEGER && kind != WI_VALUE_REAL)
        return host->error_set(a->err, WI_EINVAL, a->source,
                               key_path(a->path, key, path, sizeof path),
                               "%s: %s must be a number, got %s",
                               a->type_name, key,
                               describe(host, v, found, sizeof found));
    out->value = host->value_number(v);
    host->value_repr(v, out->repr, sizeof out->repr);
    return 0;
}

int wi_args_string(const wi_args_t *a, const char *key, const char *def,
                   char **out)
{
    const wi_host_t *host = a->host;
    const wi_value_t *v = host->value_get(a->args, key);
    char path[WI_ERROR_PATH_LENGTH], found[160];
    const char *s = v ? host->value_string(v) : def;

    if (!s)
        return host->error_set(a->err, WI_EINVAL, a->source,
                               key_path(a->path, key, path, sizeof path),
                               "%s: %s must be a string, got %s",
                               a->type_name, key,
                               describe(host, v, found, sizeof found));
    *out = dup_string(s);
    if (!*out)
        return host->error_set(a->err, WI_ENOMEM, a->source, a->path,
                               "out of memory");
    return 0;
}

void *wi_init_self_new(const wi_args_t *a, const wi_init_base_t *base,
                       size_t size, const char *info_fmt, ...)
{
    wi_init_self_t *self = calloc(1, size);
    va_list ap;
    int n;

    va_start(ap, info_fmt);
    n = vsnprintf(NULL, 0, info_fmt, ap);
    va_end(ap);
    if (self && n >= 0 && (self->info = malloc((size_t)n + 1))) {
        va_start(ap, info_fmt);
        vsnprintf(self->info, (size_t)n + 1, info_fmt, ap);
        va_end(ap);
        self->bias = base->bias;
        append(self->source, sizeof self->source, a->source ? a->source : "");
        append(self->path, sizeof self->path, a->path ? a->path : "");
        return self;
    }
    free(self);
    a->host->error_set(a->err, WI_ENOMEM, a->source, a->path,
                       "out of memory");
    return NULL;
}

const char *wi_init_self_info(void *self)
{
    return ((wi_init_self_t *)self)->info;
}

void wi_init_self_free(void *self)
{
    if (self)
        free(((wi_init_self_t *)self)->info);
    free(self);
}

int wi_init_locate_arg(const wi_init_self_t *self, int rc, wi_error_t *err,
                       const char *const *names)
{
    char path[WI_ERROR_PATH_LENGTH];
    for (size_t i = 0; rc < 0 && err && names[i]; i += 2)
        if (strcmp(err->path, names[i]) == 0) {
            key_path(self->path, names[i + 1], path, sizeof path);
            memcpy(err->path, path, sizeof path);
            memcpy(err->source, self->source, sizeof err->source);
            break;
        }
    return rc;
}

int wi_init_check_distribution(const wi_init_self_t *self,
                               const wi_host_t *host, const char *type_name,
                               const char *distribution, wi_error_t *err)
{
    char path[WI_ERROR_PATH_LENGTH];

    if (strcmp(distribution, "normal") == 0 ||
        strcmp(distribution, "uniform") == 0)
        return 0;
    return host->error_set(err, WI_EINVAL, self->source,
                           key_path(self->path, "distribution", path,
                                    sizeof path),
                           "%s: distribution must be 'normal' or 'uniform', "
                           "got '%s'",
                           type_name, distribution);
}
