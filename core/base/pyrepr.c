/* Python's repr() and str() of JSON values (dicts, lists, 'strings',
 * True/None), for messages and reports worded as MMEngine words them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/pyrepr.h"

char *wi_priv_value_repr(const json_t *v, char *buf, size_t size)
{
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v))
        return wi_priv_format_double(json_real_value(v), buf, size);
    if (json_is_string(v)) {
        snprintf(buf, size, "%s", json_string_value(v));
        return buf;
    }
    char *r = wi_priv_python_repr(v);
    snprintf(buf, size, "%s", r ? r : "?");
    free(r);
    return buf;
}

static void put_string(wi_priv_buf_t *o, const char *s)
{
    /* Python prefers single quotes unless the text has one and no double. */
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    wi_priv_buf_put(o, &q, 1);
    for (; *s; s++) {
        if (*s == '\\' || *s == q)
            wi_priv_buf_put(o, "\\", 1);
        if (*s == '\n')
            wi_priv_buf_puts(o, "\\n");
        else
            wi_priv_buf_put(o, s, 1);
    }
    wi_priv_buf_put(o, &q, 1);
}

static void put_value(wi_priv_buf_t *o, const json_t *v)
{
    char num[64];
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        wi_priv_buf_puts(o, "{");
        i = 0;
        json_object_foreach((json_t *)v, key, item) {
            if (i++)
                wi_priv_buf_puts(o, ", ");
            put_string(o, key);
            wi_priv_buf_puts(o, ": ");
            put_value(o, item);
        }
        wi_priv_buf_puts(o, "}");
        break;
    case JSON_ARRAY:
        wi_priv_buf_puts(o, "[");
        json_array_foreach(v, i, item) {
            if (i)
                wi_priv_buf_puts(o, ", ");
            put_value(o, item);
        }
        wi_priv_buf_puts(o, "]");
        break;
    case JSON_STRING: put_string(o, json_string_value(v)); break;
    case JSON_INTEGER:
    case JSON_REAL: wi_priv_buf_puts(o, wi_priv_value_repr(v, num, sizeof num)); break;
    case JSON_TRUE: wi_priv_buf_puts(o, "True"); break;
    case JSON_FALSE: wi_priv_buf_puts(o, "False"); break;
    case JSON_NULL: wi_priv_buf_puts(o, "None"); break;
    }
}

char *wi_priv_python_repr(const json_t *v)
{
    wi_priv_buf_t o = {0};
    put_value(&o, v);
    if (o.oom) {
        wi_priv_buf_free(&o);
        return NULL;
    }
    return o.data ? o.data : strdup("");
}
