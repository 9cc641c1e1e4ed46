#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/pyrepr.h"

/* Shortest "%.Ne" rendering that reads back as x: digits and exponent. */
static int shortest_digits(double x, char *digits, int *exp10)
{
    char tmp[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, x);
        if (strtod(tmp, NULL) == x || prec == 16)
            break;
    }
    /* tmp = d.ddde[+-]XX (x > 0 here) */
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    int n = 0;
    for (char *p = tmp; p < e; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

char *wi_priv_format_double(double x, char *buf, size_t size)
{
    if (isnan(x)) {
        snprintf(buf, size, "nan");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, size, x < 0 ? "-inf" : "inf");
        return buf;
    }
    const char *sign = signbit(x) ? "-" : "";
    if (x == 0) {
        snprintf(buf, size, "%s0.0", sign);
        return buf;
    }
    char digits[32];
    int exp10, n = shortest_digits(fabs(x), digits, &exp10);
    int decpt = exp10 + 1;
    if (decpt <= -4 || decpt > 16) {
        snprintf(buf, size, "%s%c%s%se%c%02d", sign, digits[0], n > 1 ? "." : "",
                 digits + 1, exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        snprintf(buf, size, "%s0.%0*d%s", sign, -decpt, 0, digits);
        if (decpt == 0) /* "%0*d" with width 0 still prints one zero */
            snprintf(buf, size, "%s0.%s", sign, digits);
    } else if (decpt >= n) {
        snprintf(buf, size, "%s%s%0*d.0", sign, digits, decpt - n, 0);
        if (decpt == n)
            snprintf(buf, size, "%s%s.0", sign, digits);
    } else {
        snprintf(buf, size, "%s%.*s.%s", sign, decpt, digits, digits + decpt);
    }
    return buf;
}

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
