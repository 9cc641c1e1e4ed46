/* An example module-type plugin, built the way a user builds one: a single
 * .c file that includes only <weightinit/plugin.h>.
 *
 * "PositionalEmbedding" is a BaseModule with the fixed sinusoidal table of
 * "Attention Is All You Need" as its parameter `weight`
 * (num_positions, embedding_dim).  In a model file:
 *
 *   {"type": "PositionalEmbedding", "num_positions": 512,
 *    "embedding_dim": 64}
 *
 * Its init_weights is the Python one would write:
 *
 *   def init_weights(self):
 *       super().init_weights()
 *       for p in range(P):
 *           for i in range(0, d, 2):
 *               angle = p / 10000 ** (i / d)
 *               self.weight[p, i] = sin(angle)
 *               if i + 1 < d: self.weight[p, i + 1] = cos(angle)
 *
 * i.e. weight[p][2k] = sin(p / 10000^(2k/d)), weight[p][2k+1] = cos(same),
 * computed in double (libm pow, sin, cos) and rounded to float once.  It
 * draws no random numbers.
 *
 *   cc -shared -fPIC -fvisibility=hidden -I<prefix>/include \
 *      positional_embedding.c -o wi_positional_embedding.so -lm */
#include <math.h>
#include <stdio.h>

#include <weightinit/plugin.h>

/* init_weights is not handed the host table; keep it from registration
 * (the table is static and outlives the plugin). */
static const wi_host_t *host_;

#define NAME "PositionalEmbedding"

/* "<path>.<key>" ("key" at the root, whose path is ""). */
static const char *key_path(const char *path, const char *key, char *buf,
                            size_t size)
{
    snprintf(buf, size, "%s%s%s", path ? path : "", path && *path ? "." : "",
             key);
    return buf;
}

/* Reads the required positive int `key` of the node. */
static int positive_int(const wi_host_t *host, const wi_value_t *node,
                        const char *key, const char *source, const char *path,
                        int64_t *out, wi_error_t *err)
{
    char at[WI_ERROR_PATH_LENGTH], found[48];
    const wi_value_t *v = host->value_get(node, key);
    if (!v)
        return host->error_set(err, WI_EINVAL, source, path,
                               NAME " needs '%s', a positive int", key);
    double x = host->value_kind(v) == WI_VALUE_INTEGER ? host->value_number(v)
                                                       : 0.0;
    /* 2^31 bounds each size; their product then fits int64 and an
     * unreasonable one fails cleanly in tensor_new. */
    if (x >= 1.0 && x < 2147483648.0) {
        *out = (int64_t)x;
        return 0;
    }
    switch (host->value_kind(v)) {
    case WI_VALUE_INTEGER:
    case WI_VALUE_REAL: host->value_repr(v, found, sizeof found); break;
    case WI_VALUE_STRING: snprintf(found, sizeof found, "a string"); break;
    case WI_VALUE_TRUE:
    case WI_VALUE_FALSE: snprintf(found, sizeof found, "a bool"); break;
    case WI_VALUE_NULL: snprintf(found, sizeof found, "null"); break;
    default: snprintf(found, sizeof found, "a list or an object"); break;
    }
    return host->error_set(err, WI_EINVAL, source,
                           key_path(path, key, at, sizeof at),
                           NAME ": %s must be a positive int (below 2^31), "
                           "got %s", key, found);
}

static int construct(const wi_host_t *host, wi_module_t *m,
                     const wi_value_t *node, wi_context_t *ctx,
                     const char *source, const char *path, wi_error_t *err)
{
    /* The custom-node keys the loader has already handled, plus ours; the
     * root may also list "plugins", as for any custom root. */
    static const char *const keys[] = {"type", "children", "params",
                                       "init_cfg", "bases", "plain",
                                       "num_positions", "embedding_dim",
                                       NULL};
    static const char *const root_keys[] = {"type", "children", "params",
                                            "init_cfg", "bases", "plain",
                                            "num_positions", "embedding_dim",
                                            "plugins", NULL};
    int64_t shape[2];
    (void)ctx;
    int rc = host->check_keys(node, path && *path ? keys : root_keys, NAME,
                              source, path, err);
    if (rc == 0)
        rc = positive_int(host, node, "num_positions", source, path,
                          &shape[0], err);
    if (rc == 0)
        rc = positive_int(host, node, "embedding_dim", source, path,
                          &shape[1], err);
    if (rc < 0)
        return rc;
    /* Zeros until init_weights, like torch.empty + a later fill. */
    wi_tensor_t *t = host->tensor_new(WI_DTYPE_F32, 2, shape, err);
    if (!t)
        return err && err->code ? err->code : WI_ENOMEM;
    return host->module_add_parameter_new(m, "weight", t, err);
}

/* BaseModule.init_weights first, as an MMEngine subclass that overrides
 * init_weights usually calls super().init_weights(): an init_cfg on the
 * module, and its children, still run.  The table is written after it, so
 * it wins over any init_cfg that touched `weight` (the report then says
 * "Initialized by user-defined `init_weights` in PositionalEmbedding"). */
static int init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err)
{
    int rc = host_->base_init_weights(m, ctx, err);
    if (rc < 0)
        return rc;
    wi_tensor_t *w = host_->module_find_parameter(m, "weight");
    if (!w || host_->tensor_ndim(w) != 2)
        return host_->error_set(err, WI_ESTATE, NULL, "weight",
                                NAME " lost its 2-D parameter 'weight'");
    const int64_t *shape = host_->tensor_shape(w);
    int64_t positions = shape[0], dim = shape[1];
    float *out = host_->tensor_data(w);
    if (!out) /* the host could not hold the table in memory */
        return host_->error_set(err, WI_ENOMEM, NULL, "weight",
                                NAME ": out of memory for a %lld x %lld table",
                                (long long)positions, (long long)dim);
    for (int64_t p = 0; p < positions; p++)
        for (int64_t i = 0; i < dim; i += 2) {
            double angle = (double)p / pow(10000.0, (double)i / (double)dim);
            out[p * dim + i] = (float)sin(angle);
            if (i + 1 < dim)
                out[p * dim + i + 1] = (float)cos(angle);
        }
    host_->tensor_bump_version(w);
    return 0;
}

static const wi_module_type_t positional_embedding_type = {
    sizeof(wi_module_type_t), NAME, 1, construct, init_weights};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    host_ = host;
    return host->register_module_type(plugin, &positional_embedding_type,
                                      err);
}

WI_PLUGIN_DEFINE("positional_embedding", "0.1.0", register_types)
