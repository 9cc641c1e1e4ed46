/* wi_state_dict_t: an ordered list of named tensors, owned or borrowed,
 * with a hash index on the names so large checkpoints load in linear time. */
#include <stdlib.h>
#include <string.h>

#include <weightinit/state_dict.h>

struct entry {
    char *name;
    wi_tensor_t *tensor;
    int owned;
};

/* Names are also indexed by an open-addressing hash table (slots hold
 * index + 1, 0 = empty), so checkpoints with many thousands of tensors
 * load in linear time. */
struct wi_state_dict {
    struct entry *items;
    size_t size, cap;
    size_t *slots;
    size_t n_slots; /* a power of two, at least twice size */
};

static size_t hash_name(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static int rehash(wi_state_dict_t *sd, size_t n_slots)
{
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < sd->size; i++) {
        size_t h = hash_name(sd->items[i].name) & (n_slots - 1);
        while (slots[h])
            h = (h + 1) & (n_slots - 1);
        slots[h] = i + 1;
    }
    free(sd->slots);
    sd->slots = slots;
    sd->n_slots = n_slots;
    return 0;
}

static long lookup(const wi_state_dict_t *sd, const char *name)
{
    if (!sd->n_slots)
        return -1;
    for (size_t h = hash_name(name) & (sd->n_slots - 1); sd->slots[h];
         h = (h + 1) & (sd->n_slots - 1))
        if (strcmp(sd->items[sd->slots[h] - 1].name, name) == 0)
            return (long)(sd->slots[h] - 1);
    return -1;
}

wi_state_dict_t *wi_state_dict_new(void)
{
    return calloc(1, sizeof(wi_state_dict_t));
}

void wi_state_dict_free(wi_state_dict_t *sd)
{
    if (!sd)
        return;
    for (size_t i = 0; i < sd->size; i++) {
        free(sd->items[i].name);
        if (sd->items[i].owned)
            wi_tensor_free(sd->items[i].tensor);
    }
    free(sd->items);
    free(sd->slots);
    free(sd);
}

static int append(wi_state_dict_t *sd, const char *name, wi_tensor_t *t,
                  int owned, wi_error_t *err)
{
    if (lookup(sd, name) >= 0) {
        if (owned)
            wi_tensor_free(t);
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "duplicate tensor name '%s'", name);
    }
    if (2 * (sd->size + 1) > sd->n_slots &&
        rehash(sd, sd->n_slots ? 2 * sd->n_slots : 32) < 0)
        goto oom;
    if (sd->size == sd->cap) {
        size_t cap = sd->cap ? sd->cap * 2 : 16;
        struct entry *items = realloc(sd->items, cap * sizeof *items);
        if (!items)
            goto oom;
        sd->items = items;
        sd->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        goto oom;
    sd->items[sd->size] = (struct entry){copy, t, owned};
    size_t h = hash_name(copy) & (sd->n_slots - 1);
    while (sd->slots[h])
        h = (h + 1) & (sd->n_slots - 1);
    sd->slots[h] = ++sd->size;
    return 0;
oom:
    if (owned)
        wi_tensor_free(t);
    return wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
}

int wi_state_dict_append_new(wi_state_dict_t *sd, const char *name,
                             wi_tensor_t *t, wi_error_t *err)
{
    return append(sd, name, t, 1, err);
}

int wi_state_dict_append(wi_state_dict_t *sd, const char *name,
                         wi_tensor_t *t, wi_error_t *err)
{
    return append(sd, name, t, 0, err);
}

size_t wi_state_dict_size(const wi_state_dict_t *sd) { return sd->size; }

const char *wi_state_dict_name(const wi_state_dict_t *sd, size_t i)
{
    return sd->items[i].name;
}

wi_tensor_t *wi_state_dict_tensor(const wi_state_dict_t *sd, size_t i)
{
    return sd->items[i].tensor;
}

wi_tensor_t *wi_state_dict_find(const wi_state_dict_t *sd, const char *name)
{
    long i = lookup(sd, name);
    return i < 0 ? NULL : sd->items[i].tensor;
}

int wi_state_dict_index(const wi_state_dict_t *sd, const char *name, size_t *index)
{
    long i = lookup(sd, name);
    if (i < 0)
        return WI_ENOTFOUND;
    *index = (size_t)i;
    return 0;
}
