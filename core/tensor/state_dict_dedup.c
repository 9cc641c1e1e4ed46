/* One name per shared tensor, as safetensors' save_model saves a model
 * with tied weights (bindings/python/py_src/safetensors/torch.py,
 * _remove_duplicate_names): safetensors refuses two names over one
 * storage. */
#include <stdlib.h>
#include <string.h>

#include <weightinit/state_dict.h>

#include "base/map.h"

/* For each tensor, the index of its smallest name (Python's sorted()
 * on str: code point order, which is byte order in UTF-8). */
static int keep_names(const wi_state_dict_t *sd, wi_priv_map_t *keep)
{
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        size_t k;
        if (wi_tensor_numel(t) == 0) /* storage_size 0: never shared */
            continue;
        if (wi_priv_map_get_ptr(keep, t, &k) &&
            strcmp(wi_state_dict_name(sd, k), wi_state_dict_name(sd, i)) <= 0)
            continue;
        if (wi_priv_map_put_ptr(keep, t, i) < 0)
            return WI_ENOMEM;
    }
    return 0;
}

static int add_one(const wi_state_dict_t *sd, size_t i, const wi_priv_map_t *keep,
                   wi_state_dict_t *out, json_t *metadata, wi_error_t *err)
{
    const char *name = wi_state_dict_name(sd, i);
    wi_tensor_t *t = wi_state_dict_tensor(sd, i);
    size_t k;
    if (wi_tensor_numel(t) == 0 || !wi_priv_map_get_ptr(keep, t, &k) || k == i)
        return wi_state_dict_append(out, name, t, err);
    /* "Do not override user data" */
    if (metadata && !json_object_get(metadata, name) &&
        json_object_set_new(metadata, name, json_string(wi_state_dict_name(sd, k))) < 0)
        return wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
    return 0;
}

wi_state_dict_t *wi_state_dict_remove_duplicates(const wi_state_dict_t *sd,
                                                 json_t *metadata,
                                                 wi_error_t *err)
{
    if (!sd) {
        wi_error_set(err, WI_EINVAL, NULL, NULL,
                     "wi_state_dict_remove_duplicates: no state dict");
        return NULL;
    }
    wi_priv_map_t keep = {0};
    wi_state_dict_t *out = wi_state_dict_new();
    int rc = !out || keep_names(sd, &keep) < 0
                 ? wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory")
                 : 0;
    for (size_t i = 0; rc == 0 && i < wi_state_dict_size(sd); i++)
        rc = add_one(sd, i, &keep, out, metadata, err);
    wi_priv_map_clear(&keep);
    if (rc < 0) {
        wi_state_dict_free(out);
        return NULL;
    }
    return out;
}
