/* JSON paths for error messages ("definitions.B.children.fc[2]"), kept
 * readable when long.  Apart from jsonutil.c so that code without jansson
 * (the error struct; the musl conformance build) can use them. */
#include <stdio.h>
#include <string.h>

#include "base/path.h"

/* Character i of a, sep, b read as one string. */
static char joined_at(const char *a, size_t la, const char *sep, size_t ls,
                      const char *b, size_t i)
{
    return i < la ? a[i] : i < la + ls ? sep[i - la] : b[i - la - ls];
}

/* Where the component after the first two starts ("children.a" of
 * "children.a.children.b"), or 0 when there are fewer. */
static size_t head_length(const char *a, size_t la, const char *sep,
                          size_t ls, const char *b, size_t len)
{
    int seen = 0;
    for (size_t i = 1; i < len; i++) {
        char c = joined_at(a, la, sep, ls, b, i);
        if ((c == '.' || c == '[') && ++seen == 2)
            return i;
    }
    return 0;
}

void wi_priv_path_join(char *out, size_t size, const char *a, const char *sep,
                       const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    size_t len = la + ls + lb, head = len, from = len;
    if (size == 0)
        return;
    if (len >= size && size > 8) {
        /* The first two components (which definition, which child of
         * the root), "...", and the end from the start of a component. */
        head = head_length(a, la, sep, ls, b, len);
        if (head > (size - 4) / 2)
            head = 0;
        from = len - (size - 4 - head);
        size_t p = from;
        while (p < len && joined_at(a, la, sep, ls, b, p - 1) != '.' &&
               joined_at(a, la, sep, ls, b, p) != '[')
            p++;
        from = p < len ? p : from;
    }
    size_t o = 0;
    for (size_t i = 0; i < head && o < size - 1; i++)
        out[o++] = joined_at(a, la, sep, ls, b, i);
    for (size_t i = 0; from < len && i < 3; i++)
        out[o++] = '.';
    for (size_t i = from; i < len && o < size - 1; i++)
        out[o++] = joined_at(a, la, sep, ls, b, i);
    out[o] = '\0';
}

void wi_priv_path_key(char *out, size_t size, const char *base,
                      const char *key)
{
    base = base ? base : "";
    if (!key || !key[0])
        wi_priv_path_join(out, size, base, "", "");
    else
        wi_priv_path_join(out, size, base, base[0] ? "." : "", key);
}

void wi_priv_path_index(char *out, size_t size, const char *base,
                        size_t index)
{
    char idx[32];
    snprintf(idx, sizeof idx, "[%zu]", index);
    wi_priv_path_join(out, size, base ? base : "", "", idx);
}

