#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonutil.h"

void wi_priv_path_key(char *out, size_t size, const char *base,
                      const char *key)
{
    if (!key || !key[0])
        snprintf(out, size, "%s", base ? base : "");
    else if (base && base[0])
        snprintf(out, size, "%s.%s", base, key);
    else
        snprintf(out, size, "%s", key);
}

void wi_priv_path_index(char *out, size_t size, const char *base,
                        size_t index)
{
    snprintf(out, size, "%s[%zu]", base ? base : "", index);
}

const char *wi_priv_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an int";
    case JSON_REAL: return "a float";
    case JSON_TRUE:
    case JSON_FALSE: return "a bool";
    case JSON_NULL: return "null";
    }
    return "a value";
}

const char *wi_priv_json_repr(const json_t *v, char *buf, size_t size)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!s) {
        snprintf(buf, size, "%s", wi_priv_json_kind(v));
        return buf;
    }
    if (strlen(s) > 60)
        snprintf(buf, size, "%.57s...", s);
    else
        snprintf(buf, size, "%s", s);
    free(s);
    return buf;
}

int wi_priv_json_is_int(const json_t *v)
{
    return json_is_integer(v);
}
