/* copy.deepcopy of a module tree, for "clone": true (nn.TransformerEncoder's
 * _get_clones): the copies hold the original's values and draw nothing. */
#include <jansson.h>
#include <weightinit/module.h>

#include "model/module_internal.h"
#include "tensor/tensor_internal.h"

/* A deferred tensor's copy shares no storage and computes nothing: it
 * gets a copy of the record. */
static wi_tensor_t *copy_tensor(const wi_tensor_t *t, wi_error_t *err)
{
    return wi_priv_tensor_clone(t, err);
}

/* Parameters (is_buffer 0) or buffers of m into c; a None slot stays None. */
static int copy_slots(wi_module_t *c, const wi_module_t *m, int is_buffer,
                      wi_error_t *err)
{
    size_t n = is_buffer ? wi_module_buffer_count(m) : wi_module_parameter_count(m);
    for (size_t i = 0; i < n; i++) {
        const wi_tensor_t *t = is_buffer ? wi_module_buffer(m, i) : wi_module_parameter(m, i);
        const char *name = is_buffer ? wi_module_buffer_name(m, i)
                                     : wi_module_parameter_name(m, i);
        wi_tensor_t *copy = t ? copy_tensor(t, err) : NULL;
        if (t && !copy)
            return err ? err->code : WI_ENOMEM;
        int rc = wi_priv_module_add_state(c, is_buffer, name,
                                          wi_priv_module_state_borrowed(m, is_buffer, i),
                                          copy, err);
        if (rc == 0 && !is_buffer && wi_module_parameter_info(m, i))
            rc = wi_module_set_parameter_info(c, i, wi_module_parameter_info(m, i), err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Everything but the type, the bases and the children. */
static int copy_own(wi_module_t *c, const wi_module_t *m, wi_error_t *err)
{
    int rc = copy_slots(c, m, 0, err);
    if (rc == 0)
        rc = copy_slots(c, m, 1, err);
    json_t *cfg = (json_t *)wi_module_init_cfg(m), *args = (json_t *)wi_module_args(m);
    json_t *cfg_copy = cfg ? json_deep_copy(cfg) : NULL;
    /* Arguments are read-only once built: shared, not copied. */
    json_t *args_copy = args ? json_incref(args) : NULL;
    wi_module_set_init_cfg_new(c, (wi_value_t *)cfg_copy);
    wi_module_set_args_new(c, (wi_value_t *)args_copy);
    if (rc == 0 && ((cfg && !cfg_copy) || (args && !args_copy)))
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    wi_module_set_init_weights(c, wi_module_init_weights_fn(m));
    wi_module_set_is_init(c, wi_module_is_init(m));
    return rc;
}

wi_module_t *wi_priv_module_clone(const wi_module_t *m, wi_error_t *err)
{
    if (wi_module_user_data(m)) {
        wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL,
                     "\"clone\": a %s keeps private data of its plugin and "
                     "cannot be deep-copied; build each copy instead (repeat "
                     "without clone)", wi_module_type(m));
        return NULL;
    }
    wi_module_t *c = wi_priv_module_new_as(m, err);
    if (!c)
        return NULL;
    int rc = copy_own(c, m, err);
    for (size_t i = 0; rc == 0 && i < wi_module_child_count(m); i++) {
        wi_module_t *child = wi_priv_module_clone(wi_module_child(m, i), err);
        rc = child ? wi_module_add_child_new(c, wi_module_child_name(m, i), child, err)
                   : (err ? err->code : WI_ENOMEM);
    }
    if (rc < 0) {
        wi_module_free(c);
        return NULL;
    }
    return c;
}
