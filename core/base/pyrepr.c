#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct out {
    char *s;
    size_t len, cap;
    int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *p = realloc(o->s, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->s = p;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_string(struct out *o, const char *s)
{
    /* Python prefers single quotes unless the text has one and no double. */
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    put(o, &q, 1);
    for (; *s; s++) {
        if (*s == '\\' || *s == q)
            put(o, "\\", 1);
        if (*s == '\n')
            puts_(o, "\\n");
        else
            put(o, s, 1);
    }
    put(o, &q, 1);
}

static void put_value(struct out *o, const json_t *v)
{
    char num[64];
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        puts_(o, "{");
        i = 0;
        json_object_foreach((json_t *)v, key, item) {
            if (i++)
                puts_(o, ", ");
            put_string(o, key);
            puts_(o, ": ");
            put_value(o, item);
        }
        puts_(o, "}");
        break;
    case JSON_ARRAY:
        puts_(o, "[");
        json_array_foreach(v, i, item) {
            if (i)
                puts_(o, ", ");
            put_value(o, item);
        }
        puts_(o, "]");
        break;
    case JSON_STRING: put_string(o, json_string_value(v)); break;
    case JSON_INTEGER:
    case JSON_REAL: puts_(o, wi_priv_value_repr(v, num, sizeof num)); break;
    case JSON_TRUE: puts_(o, "True"); break;
    case JSON_FALSE: puts_(o, "False"); break;
    case JSON_NULL: puts_(o, "None"); break;
    }
}

char *wi_priv_python_repr(const json_t *v)
{
    struct out o = {NULL, 0, 0, 0};
    put_value(&o, v);
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s ? o.s : strdup("");
}
