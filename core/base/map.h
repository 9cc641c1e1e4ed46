/* A small open-addressing hash map from a borrowed key to a size_t, for
 * the lookups that must stay linear in the number of modules: names in a
 * module (string keys) and modules in the init_weights tracker (pointer
 * keys).  A map uses one kind of key for its whole life.  Zero-initialised
 * is empty.  Internal; not exported. */
#ifndef WI_MAP_H
#define WI_MAP_H

#include <stddef.h>

#include "base/internal.h"

typedef struct wi_priv_map_slot {
    const void *key; /* NULL: empty */
    size_t hash;
    size_t value;
} wi_priv_map_slot_t;

typedef struct wi_priv_map {
    wi_priv_map_slot_t *slots;
    size_t cap; /* 0 or a power of two, more than twice n */
    size_t n;
} wi_priv_map_t;

/* Sets key (borrowed: it must outlive the map) to value, replacing an
 * equal key's value.  0, or WI_ENOMEM with the map unchanged. */
WI_INTERNAL int wi_priv_map_put_str(wi_priv_map_t *m, const char *key,
                                    size_t value);
/* 1 and *value when the first len bytes of key are a key of m, else 0. */
WI_INTERNAL int wi_priv_map_get_str(const wi_priv_map_t *m, const char *key,
                                    size_t len, size_t *value);

WI_INTERNAL int wi_priv_map_put_ptr(wi_priv_map_t *m, const void *key,
                                    size_t value);
WI_INTERNAL int wi_priv_map_get_ptr(const wi_priv_map_t *m, const void *key,
                                    size_t *value);

/* Frees the slots (not the keys); m is empty again. */
WI_INTERNAL void wi_priv_map_clear(wi_priv_map_t *m);

#endif
