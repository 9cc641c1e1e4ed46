/* The default initialisation of built-in layers (reset_parameters) that
 * layers.c runs at construction. */
#include <math.h>

#include <weightinit/init.h>

#include "model/layer_reset.h"

int wi_priv_reset_linear_like(wi_tensor_t *w, wi_tensor_t *bias,
                              int bias_always, wi_generator_t *g,
                              wi_error_t *err)
{
    int rc = wi_kaiming_uniform_(w, g, sqrt(5.0), "fan_in", "leaky_relu", err);
    if (rc < 0 || !bias)
        return rc;
    int64_t fan_in, fan_out;
    if ((rc = wi_calculate_fan_in_and_fan_out(w, &fan_in, &fan_out, err)) < 0)
        return rc;
    if (fan_in == 0 && !bias_always)
        return 0;
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    return wi_uniform_(bias, g, -bound, bound, err);
}

int wi_priv_reset_embedding(wi_tensor_t *w, int64_t padding_idx,
                            wi_generator_t *g, wi_error_t *err)
{
    int rc = wi_normal_(w, g, 0.0, 1.0, err);
    if (rc < 0 || padding_idx < 0)
        return rc;
    int64_t dim = wi_tensor_shape(w)[1];
    /* The row is written in memory, so the whole weight's values are
     * computed now: a weight too large for memory is an error here. */
    if ((rc = wi_tensor_materialize(w, err)) < 0)
        return rc;
    float *row = (float *)wi_tensor_data(w) + padding_idx * dim;
    for (int64_t j = 0; j < dim; j++)
        row[j] = 0.0f;
    wi_tensor_bump_version(w);
    return 0;
}

int wi_priv_reset_bilinear(wi_tensor_t *w, wi_tensor_t *bias, wi_generator_t *g,
                           wi_error_t *err)
{
    double bound = 1.0 / sqrt((double)wi_tensor_shape(w)[1]);
    int rc = wi_uniform_(w, g, -bound, bound, err);
    return rc < 0 || !bias ? rc : wi_uniform_(bias, g, -bound, bound, err);
}

int wi_priv_reset_mha(wi_tensor_t *const w[3], wi_tensor_t *in_bias,
                      wi_tensor_t *out_bias, wi_tensor_t *const bias_kv[2],
                      wi_generator_t *g, wi_error_t *err)
{
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        if (w[i])
            rc = wi_xavier_uniform_(w[i], g, 1.0, err);
    if (rc == 0 && in_bias) {
        rc = wi_constant_(in_bias, 0.0, err);
        if (rc == 0)
            rc = wi_constant_(out_bias, 0.0, err);
    }
    for (int i = 0; i < 2 && rc == 0; i++)
        if (bias_kv[i])
            rc = wi_xavier_normal_(bias_kv[i], g, 1.0, err);
    return rc;
}
