/* The did-you-mean of error messages: an edit distance that ignores case
 * and counts a swap of neighbours as one edit, and the closest candidate. */
#include <string.h>

#include "base/suggest.h"

/* Optimal string alignment: a swap of two neighbours ("haed") is one
 * edit, as people make them. */
size_t wi_priv_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), rows[3][64];
    if (la >= 64 || lb >= 64)
        return 64;
    size_t *before = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + ((a[i - 1] | 32) != (b[j - 1] | 32));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t d = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && (a[i - 1] | 32) == (b[j - 2] | 32) &&
                (a[i - 2] | 32) == (b[j - 1] | 32) && before[j - 2] + 1 < d)
                d = before[j - 2] + 1;
            cur[j] = d;
        }
        size_t *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

void wi_priv_suggest_init(wi_priv_suggest_t *s, const char *want)
{
    size_t limit = strlen(want) / 3;
    s->want = want;
    s->dist = (limit < 1 ? 1 : limit > 3 ? 3 : limit) + 1;
    s->best[0] = '\0';
}

void wi_priv_suggest_offer(wi_priv_suggest_t *s, const char *candidate,
                           const char *compared)
{
    const char *want = compared ? compared : s->want;
    size_t d = wi_priv_edit_distance(want, candidate);
    /* An exact match is no suggestion (it would be matched already), one
     * that differs only in case is the best; a long candidate that does
     * not fit is no candidate. */
    if (strcmp(want, candidate) == 0 || d >= s->dist ||
        strlen(candidate) >= sizeof s->best)
        return;
    s->dist = d;
    memcpy(s->best, candidate, strlen(candidate) + 1);
}

const char *wi_priv_suggest_best(const wi_priv_suggest_t *s)
{
    return s->best[0] ? s->best : NULL;
}
