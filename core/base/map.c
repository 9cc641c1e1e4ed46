/* A small open-addressing hash map (FNV-1a) from borrowed string or
 * pointer keys to size_t, for lookups that must stay linear in modules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/error.h>

#include "base/map.h"

static size_t hash_bytes(const char *s, size_t len)
{
    size_t h = (size_t)1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * (size_t)1099511628211u;
    return h;
}

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p; /* splitmix64's finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return (size_t)(x ^ (x >> 31));
}

static int str_eq(const void *key, const void *want, size_t len)
{
    const char *k = key;
    return strncmp(k, want, len) == 0 && k[len] == '\0';
}

/* The slot holding the key, or the empty slot where it would go. */
static wi_priv_map_slot_t *probe(const wi_priv_map_t *m, const void *key,
                                 size_t len, size_t hash, int is_str)
{
    for (size_t i = hash & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        wi_priv_map_slot_t *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->hash == hash &&
            (is_str ? str_eq(s->key, key, len) : s->key == key))
            return s;
    }
}

static int grow(wi_priv_map_t *m)
{
    /* 4 to start: most modules have one to three names. */
    size_t cap = m->cap ? 2 * m->cap : 4;
    wi_priv_map_slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return WI_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        const wi_priv_map_slot_t *s = &m->slots[i];
        if (!s->key)
            continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

static int put(wi_priv_map_t *m, const void *key, size_t len, size_t hash,
               int is_str, size_t value)
{
    if (2 * (m->n + 1) > m->cap && grow(m) < 0)
        return WI_ENOMEM;
    wi_priv_map_slot_t *s = probe(m, key, len, hash, is_str);
    if (!s->key) {
        s->key = key;
        s->hash = hash;
        m->n++;
    }
    s->value = value;
    return 0;
}

static int get(const wi_priv_map_t *m, const void *key, size_t len,
               size_t hash, int is_str, size_t *value)
{
    if (!m->cap)
        return 0;
    const wi_priv_map_slot_t *s = probe(m, key, len, hash, is_str);
    if (!s->key)
        return 0;
    *value = s->value;
    return 1;
}

int wi_priv_map_put_str(wi_priv_map_t *m, const char *key, size_t value)
{
    size_t len = strlen(key);
    return put(m, key, len, hash_bytes(key, len), 1, value);
}

int wi_priv_map_get_str(const wi_priv_map_t *m, const char *key, size_t len,
                        size_t *value)
{
    return get(m, key, len, hash_bytes(key, len), 1, value);
}

int wi_priv_map_put_ptr(wi_priv_map_t *m, const void *key, size_t value)
{
    return put(m, key, 0, hash_ptr(key), 0, value);
}

int wi_priv_map_get_ptr(const wi_priv_map_t *m, const void *key, size_t *value)
{
    return get(m, key, 0, hash_ptr(key), 0, value);
}

void wi_priv_map_clear(wi_priv_map_t *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
