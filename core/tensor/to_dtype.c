/* tensor.to(dtype) and module.to(dtype) for whole tensors and state
 * dicts, over the array conversion of tensor/convert.c. */
#include <string.h>

#include <weightinit/state_dict.h>
#include <weightinit/tensor.h>

#include "base/map.h"
#include "tensor/convert.h"
#include "tensor/tensor_internal.h"

wi_tensor_t *wi_tensor_to_dtype(const wi_tensor_t *t, wi_dtype_t dtype,
                                wi_rng_profile_t profile, wi_error_t *err)
{
    if (!t) {
        wi_error_set(err, WI_EINVAL, NULL, NULL, "wi_tensor_to_dtype: no tensor");
        return NULL;
    }
    wi_dtype_t from = wi_tensor_dtype(t);
    if (from != dtype && (from != WI_DTYPE_F32 || !wi_priv_convert_supported(dtype))) {
        wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL,
                     "converting %s to %s is not supported (F32 to F32, F16 "
                     "or BF16 only)", wi_dtype_name(from),
                     wi_dtype_name(dtype) ? wi_dtype_name(dtype) : "an unknown dtype");
        return NULL;
    }
    wi_tensor_t *r = wi_tensor_new(dtype, wi_tensor_ndim(t), wi_tensor_shape(t), err);
    if (!r)
        return NULL;
    const void *s = wi_tensor_const_data(t);
    if (from == dtype)
        memcpy(wi_tensor_data(r), s, (size_t)wi_tensor_nbytes(t));
    else
        wi_priv_convert_f32(dtype, profile, s, wi_tensor_data(r),
                            (size_t)wi_tensor_numel(t));
    return r;
}

/* Tensors that several names share (ties) are converted once and stay
 * shared, as module.to(dtype) keeps a tied parameter one object. */
static int add_converted(wi_state_dict_t *out, wi_priv_map_t *done,
                         const char *name, const wi_tensor_t *t,
                         wi_dtype_t dtype, wi_rng_profile_t profile,
                         wi_error_t *err)
{
    size_t prev;
    if (wi_tensor_dtype(t) != WI_DTYPE_F32) /* integer buffers stay */
        return wi_state_dict_append(out, name, (wi_tensor_t *)t, err);
    if (wi_priv_map_get_ptr(done, t, &prev))
        return wi_state_dict_append(out, name, wi_state_dict_tensor(out, prev), err);
    /* A deferred tensor is converted as it is written: no memory. */
    wi_tensor_t *c = wi_tensor_is_deferred(t) && wi_tensor_dtype(t) == WI_DTYPE_F32 &&
                             dtype != WI_DTYPE_F32
                         ? wi_priv_tensor_convert_view(t, dtype, profile, err)
                         : wi_tensor_to_dtype(t, dtype, profile, err);
    if (!c)
        return err ? err->code : WI_ENOMEM;
    if (wi_priv_map_put_ptr(done, t, wi_state_dict_size(out)) < 0) {
        wi_tensor_free(c);
        return wi_error_set(err, WI_ENOMEM, NULL, name, "out of memory");
    }
    return wi_state_dict_append_new(out, name, c, err);
}

wi_state_dict_t *wi_state_dict_to_dtype(const wi_state_dict_t *sd,
                                        wi_dtype_t dtype,
                                        wi_rng_profile_t profile,
                                        wi_error_t *err)
{
    if (!sd || !wi_priv_convert_supported(dtype)) {
        wi_error_set(err, sd ? WI_EUNSUPPORTED : WI_EINVAL, NULL, NULL,
                     sd ? "a state dict converts to F32, F16 or BF16 only"
                        : "wi_state_dict_to_dtype: no state dict");
        return NULL;
    }
    wi_state_dict_t *out = wi_state_dict_new();
    wi_priv_map_t done = {0};
    int rc = out ? 0 : wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    for (size_t i = 0; rc == 0 && i < wi_state_dict_size(sd); i++)
        rc = add_converted(out, &done, wi_state_dict_name(sd, i),
                           wi_state_dict_tensor(sd, i), dtype, profile, err);
    wi_priv_map_clear(&done);
    if (rc < 0) {
        wi_state_dict_free(out);
        return NULL;
    }
    return out;
}
