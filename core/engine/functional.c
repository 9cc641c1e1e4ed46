/* MMEngine's weight_init helpers (constant_init, xavier_init, ...,
 * bias_init_with_prob) over the torch.nn.init primitives. */
#include <math.h>
#include <string.h>

#include <weightinit/functional.h>
#include <weightinit/init.h>

#include "init/init_internal.h"
#include "math/wimath.h"

/* MMEngine's `assert distribution in ['uniform', 'normal']`. */
static int check_distribution(const char *d, wi_error_t *err)
{
    if (d && (strcmp(d, "normal") == 0 || strcmp(d, "uniform") == 0))
        return 0;
    return wi_error_set(err, WI_EINVAL, NULL, "distribution",
                        "expected 'normal' or 'uniform', got '%s'",
                        d ? d : "(null)");
}

/* Every helper ends with constant_(bias, bias) when the module has one. */
static int init_bias(wi_module_t *m, double bias, wi_error_t *err)
{
    wi_tensor_t *b = wi_module_find_parameter(m, "bias");
    return b ? wi_constant_(b, bias, err) : 0;
}

int wi_constant_init(wi_module_t *m, double val, double bias, wi_error_t *err)
{
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    int rc = w ? wi_constant_(w, val, err) : 0;
    return rc < 0 ? rc : init_bias(m, bias, err);
}

int wi_xavier_init(wi_module_t *m, wi_generator_t *g, double gain,
                   double bias, const char *distribution, wi_error_t *err)
{
    int rc = check_distribution(distribution, err);
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    if (rc == 0 && w)
        rc = strcmp(distribution, "uniform") == 0
                 ? wi_xavier_uniform_(w, g, gain, err)
                 : wi_xavier_normal_(w, g, gain, err);
    return rc < 0 ? rc : init_bias(m, bias, err);
}

int wi_normal_init(wi_module_t *m, wi_generator_t *g, double mean,
                   double std, double bias, wi_error_t *err)
{
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    int rc = w ? wi_normal_(w, g, mean, std, err) : 0;
    return rc < 0 ? rc : init_bias(m, bias, err);
}

int wi_trunc_normal_init(wi_module_t *m, wi_generator_t *g, double mean,
                         double std, double a, double b, double bias,
                         wi_error_t *err)
{
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    /* MMEngine's own copy of the inverse-CDF method, whatever torch's
     * trunc_normal_ became (torch >= 2.12: rejection sampling). */
    int rc = w ? wi_priv_trunc_normal_erfinv(w, g, mean, std, a, b, err) : 0;
    return rc < 0 ? rc : init_bias(m, bias, err);
}

int wi_uniform_init(wi_module_t *m, wi_generator_t *g, double a, double b,
                    double bias, wi_error_t *err)
{
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    int rc = w ? wi_uniform_(w, g, a, b, err) : 0;
    return rc < 0 ? rc : init_bias(m, bias, err);
}

int wi_kaiming_init(wi_module_t *m, wi_generator_t *g, double a,
                    const char *mode, const char *nonlinearity, double bias,
                    const char *distribution, wi_error_t *err)
{
    int rc = check_distribution(distribution, err);
    wi_tensor_t *w = wi_module_find_parameter(m, "weight");
    if (rc == 0 && w)
        rc = strcmp(distribution, "uniform") == 0
                 ? wi_kaiming_uniform_(w, g, a, mode, nonlinearity, err)
                 : wi_kaiming_normal_(w, g, a, mode, nonlinearity, err);
    return rc < 0 ? rc : init_bias(m, bias, err);
}

int wi_caffe2_xavier_init(wi_module_t *m, wi_generator_t *g, double bias,
                          wi_error_t *err)
{
    return wi_kaiming_init(m, g, 1.0, "fan_in", "leaky_relu", bias, "uniform",
                           err);
}

double wi_bias_init_with_prob(double prior_prob)
{
    return -wi_log((1.0 - prior_prob) / prior_prob);
}
