#include <stdlib.h>
#include <string.h>

#include <weightinit/state_dict.h>

struct entry {
    char *name;
    wi_tensor_t *tensor;
    int owned;
};

struct wi_state_dict {
    struct entry *items;
    size_t size, cap;
};

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
    free(sd);
}

static int append(wi_state_dict_t *sd, const char *name, wi_tensor_t *t,
                  int owned, wi_error_t *err)
{
    if (wi_state_dict_find(sd, name)) {
        if (owned)
            wi_tensor_free(t);
        return wi_error_set(err, WI_EINVAL, NULL, name,
                            "duplicate tensor name '%s'", name);
    }
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
    sd->items[sd->size++] = (struct entry){copy, t, owned};
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

/* Linear: state dicts are looked up a handful of times per load; a
 * checkpoint reader that needs many lookups builds its own index. */
wi_tensor_t *wi_state_dict_find(const wi_state_dict_t *sd, const char *name)
{
    for (size_t i = 0; i < sd->size; i++)
        if (strcmp(sd->items[i].name, name) == 0)
            return sd->items[i].tensor;
    return NULL;
}
