/* One name per shared tensor, as safetensors' save_model saves a model
 * with tied weights (bindings/python/py_src/safetensors/torch.py,
 * _remove_duplicate_names): safetensors refuses two names over one
 * storage.  Shared means the same view of one storage
 * (wi_priv_tensor_storage: the same tensor under several names, as a
 * tie, or a .pth's names for one view); other views of a storage (its
 * slices) stay, each written in full, since safetensors cannot share
 * bytes and save_model would refuse them or drop them for good. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/state_dict.h>

#include "tensor/tensor_internal.h"

struct view {
    uintptr_t id; /* 0: empty, never shared */
    uint64_t offset;
    const wi_tensor_t *t;
    size_t i;
};

/* By storage, offset, shape, then place in the dict. */
static int by_view(const void *x, const void *y)
{
    const struct view *a = x, *b = y;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    int na = wi_tensor_ndim(a->t), nb = wi_tensor_ndim(b->t);
    if (na != nb)
        return na < nb ? -1 : 1;
    for (int d = 0; d < na; d++)
        if (wi_tensor_shape(a->t)[d] != wi_tensor_shape(b->t)[d])
            return wi_tensor_shape(a->t)[d] < wi_tensor_shape(b->t)[d] ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* kept[i]: the tensor whose name stays for tensor i (i itself unless a
 * name smaller in byte order, Python's sorted() on str, has its view). */
static int choose(const wi_state_dict_t *sd, size_t *kept)
{
    size_t n = wi_state_dict_size(sd);
    struct view *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return WI_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t off, nbytes;
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        v[i] = (struct view){(uintptr_t)wi_priv_tensor_storage(t, &off, &nbytes), off, t, i};
        kept[i] = i;
    }
    qsort(v, n, sizeof *v, by_view);
    for (size_t a = 0, b; a < n; a = b) {
        size_t keep = v[a].i;
        for (b = a + 1; b < n && v[a].id && v[b].id == v[a].id &&
                        v[b].offset == v[a].offset && wi_tensor_same_shape(v[a].t, v[b].t);
             b++)
            if (strcmp(wi_state_dict_name(sd, v[b].i), wi_state_dict_name(sd, keep)) < 0)
                keep = v[b].i;
        for (size_t k = a; k < b; k++)
            kept[v[k].i] = keep;
    }
    free(v);
    return 0;
}

static int add_all(const wi_state_dict_t *sd, const size_t *kept, wi_state_dict_t *out,
                   json_t *metadata, wi_error_t *err)
{
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const char *name = wi_state_dict_name(sd, i);
        if (kept[i] == i) {
            if (wi_state_dict_append(out, name, wi_state_dict_tensor(sd, i), err) < 0)
                return WI_ENOMEM;
            continue;
        }
        /* "Do not override user data" */
        if (metadata && !json_object_get(metadata, name) &&
            json_object_set_new(metadata, name,
                                json_string(wi_state_dict_name(sd, kept[i]))) < 0)
            return wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
    }
    return 0;
}

int wi_state_dict_has_duplicates(const wi_state_dict_t *sd)
{
    size_t n = sd ? wi_state_dict_size(sd) : 0;
    size_t *kept = malloc((n ? n : 1) * sizeof *kept);
    int rc = !kept || choose(sd, kept) < 0 ? WI_ENOMEM : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = kept[i] != i;
    free(kept);
    return rc;
}

wi_state_dict_t *wi_state_dict_remove_duplicates(const wi_state_dict_t *sd,
                                                 wi_value_t *metadata_v,
                                                 wi_error_t *err)
{
    json_t *metadata = (json_t *)metadata_v;
    if (!sd) {
        wi_error_set(err, WI_EINVAL, NULL, NULL,
                     "wi_state_dict_remove_duplicates: no state dict");
        return NULL;
    }
    size_t n = wi_state_dict_size(sd);
    size_t *kept = malloc((n ? n : 1) * sizeof *kept);
    wi_state_dict_t *out = wi_state_dict_new();
    int rc = !kept || !out || choose(sd, kept) < 0
                 ? wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory")
                 : add_all(sd, kept, out, metadata, err);
    free(kept);
    if (rc < 0) {
        wi_state_dict_free(out);
        return NULL;
    }
    return out;
}
