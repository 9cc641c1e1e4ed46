/* "did you mean": the closest of some candidate names to a misspelt one
 * (case-insensitive edit distance), shared by the registry's unknown
 * initializer errors and the init_cfg diagnostics. */
#ifndef WI_SUGGEST_H
#define WI_SUGGEST_H

#include <stddef.h>

#include "base/internal.h"

/* Edit distance (insert, delete, substitute, swap neighbours) ignoring
 * ASCII case; 64 for names of 64+ bytes. */
WI_INTERNAL size_t wi_priv_edit_distance(const char *a, const char *b);

/* Keeps the best candidate offered so far that is close enough to want
 * to be a likely typo (distance at most a third of want's length, and at
 * least 1, at most 3). */
typedef struct wi_priv_suggest {
    const char *want;
    size_t dist;
    char best[128];
} wi_priv_suggest_t;

WI_INTERNAL void wi_priv_suggest_init(wi_priv_suggest_t *s, const char *want);
/* Offers candidate, compared with `compared` instead of want when not
 * NULL (want as it reads for this candidate, e.g. a pattern's wildcards
 * filled in from it). */
WI_INTERNAL void wi_priv_suggest_offer(wi_priv_suggest_t *s,
                                       const char *candidate,
                                       const char *compared);
/* The best candidate (borrowed from s), or NULL for none close enough. */
WI_INTERNAL const char *wi_priv_suggest_best(const wi_priv_suggest_t *s);

#endif
