/* The host table handed to plugins: thin adapters over the public API,
 * the top of the library.  Append-only (plugin.h): new functions go at
 * the end.  It installs itself in the plugin layer when the library is
 * loaded, so the layers it adapts never name it. */
#include <stdio.h>
#include <string.h>

#include <weightinit/checkpoint.h>
#include <weightinit/functional.h>
#include <weightinit/init.h>
#include <weightinit/module.h>
#include <weightinit/registry.h>

#include "base/jsonutil.h"
#include "base/pyrepr.h"
#include "engine/engine_internal.h"
#include "plugin/registry_internal.h"

#define J(v) ((json_t *)(v))

static wi_value_kind_t value_kind(const wi_value_t *v)
{
    switch (json_typeof(J(v))) {
    case JSON_OBJECT: return WI_VALUE_OBJECT;
    case JSON_ARRAY: return WI_VALUE_ARRAY;
    case JSON_STRING: return WI_VALUE_STRING;
    case JSON_INTEGER: return WI_VALUE_INTEGER;
    case JSON_REAL: return WI_VALUE_REAL;
    case JSON_TRUE: return WI_VALUE_TRUE;
    case JSON_FALSE: return WI_VALUE_FALSE;
    default: return WI_VALUE_NULL;
    }
}

static const wi_value_t *value_get(const wi_value_t *o, const char *key)
{
    return (const wi_value_t *)json_object_get(J(o), key);
}

static double value_number(const wi_value_t *v) { return json_number_value(J(v)); }
static const char *value_string(const wi_value_t *v) { return json_string_value(J(v)); }

static size_t value_size(const wi_value_t *v)
{
    return json_is_object(J(v)) ? json_object_size(J(v)) : json_array_size(J(v));
}

static const wi_value_t *value_at(const wi_value_t *a, size_t i)
{
    return (const wi_value_t *)json_array_get(J(a), i);
}

static const char *value_key_at(const wi_value_t *o, size_t i)
{
    const char *key;
    json_t *v;
    size_t k = 0;
    json_object_foreach(J(o), key, v) {
        if (k++ == i)
            return key;
    }
    return NULL;
}

static char *value_repr(const wi_value_t *v, char *buf, size_t size)
{
    return wi_priv_value_repr(J(v), buf, size);
}

static int check_keys(const wi_value_t *args, const char *const *accepted,
                      const char *type_name, const char *source,
                      const char *path, wi_error_t *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(J(args), key, v) {
        int ok = 0;
        for (size_t i = 0; accepted && accepted[i] && !ok; i++)
            ok = strcmp(accepted[i], key) == 0;
        if (ok)
            continue;
        char names[300] = "", full[WI_PATH_MAX];
        size_t len = 0;
        for (size_t i = 0; accepted && accepted[i] && len < sizeof names; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                    i ? ", " : "", accepted[i]);
        wi_priv_path_key(full, sizeof full, path, key);
        return wi_error_set(err, WI_EINVAL, source, full,
                            "%s got an unexpected argument '%s'; accepted: %s",
                            type_name, key, len ? names : "none");
    }
    return 0;
}

static const wi_host_t host_table = {
    .abi_major = WI_PLUGIN_ABI_MAJOR,
    .abi_minor = WI_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(wi_host_t),
    .register_initializer = wi_priv_register_initializer,
    .error_set = wi_error_set,
    .log = wi_context_log,
    .context_generator = wi_context_generator,
    .value_kind = value_kind,
    .value_get = value_get,
    .value_number = value_number,
    .value_string = value_string,
    .value_size = value_size,
    .value_at = value_at,
    .value_key_at = value_key_at,
    .value_repr = value_repr,
    .format_double = wi_priv_format_double,
    .check_keys = check_keys,
    .tensor_ndim = wi_tensor_ndim,
    .tensor_shape = wi_tensor_shape,
    .tensor_numel = wi_tensor_numel,
    .tensor_data = wi_tensor_data,
    .tensor_bump_version = wi_tensor_bump_version,
    .tensor_new = wi_tensor_new,
    .tensor_free = wi_tensor_free,
    .module_type = wi_module_type,
    .module_find_parameter = wi_module_find_parameter,
    .module_find_child = wi_module_find_child,
    .module_child_count = wi_module_child_count,
    .module_child = wi_module_child,
    .module_parameter_count = wi_module_parameter_count,
    .module_parameter_name = wi_module_parameter_name,
    .module_parameter = wi_module_parameter,
    .module_add_parameter_new = wi_module_add_parameter_new,
    .module_set_user_data = wi_module_set_user_data,
    .module_user_data = wi_module_user_data,
    .uniform_ = wi_uniform_,
    .normal_ = wi_normal_,
    .trunc_normal_ = wi_trunc_normal_,
    .constant_ = wi_constant_,
    .xavier_uniform_ = wi_xavier_uniform_,
    .xavier_normal_ = wi_xavier_normal_,
    .kaiming_uniform_ = wi_kaiming_uniform_,
    .kaiming_normal_ = wi_kaiming_normal_,
    .calculate_gain = wi_calculate_gain,
    .calculate_fan_in_and_fan_out = wi_calculate_fan_in_and_fan_out,
    .random32 = wi_generator_random32,
    .constant_init = wi_constant_init,
    .xavier_init = wi_xavier_init,
    .normal_init = wi_normal_init,
    .trunc_normal_init = wi_trunc_normal_init,
    .uniform_init = wi_uniform_init,
    .kaiming_init = wi_kaiming_init,
    .bias_init_with_prob = wi_bias_init_with_prob,
    .register_module_type = wi_priv_register_module_type,
    .base_init_weights = wi_priv_base_init_weights,
    .module_child_name = wi_module_child_name,
    .load_checkpoint = wi_module_load_pretrained,
};

const wi_host_t *wi_host(void) { return &host_table; }

__attribute__((constructor)) static void install(void)
{
    wi_priv_host_install(&host_table);
}
