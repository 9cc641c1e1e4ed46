/* MMEngine's functional initialisation (mmengine.model.weight_init): each
 * call initialises a module's own `weight` and `bias` parameters when the
 * module has them (present and not None), and does nothing otherwise.
 * Arguments and their defaults are MMEngine's; the module is borrowed. */
#ifndef WEIGHTINIT_FUNCTIONAL_H
#define WEIGHTINIT_FUNCTIONAL_H

#include <weightinit/error.h>
#include <weightinit/module.h>
#include <weightinit/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* constant_init(m, val, bias=0) */
int wi_constant_init(wi_module_t *m, double val, double bias,
                     wi_error_t *err);
/* xavier_init(m, gain=1, bias=0, distribution='normal'); distribution is
 * "normal" or "uniform" (else WI_EINVAL). */
int wi_xavier_init(wi_module_t *m, wi_generator_t *g, double gain,
                   double bias, const char *distribution, wi_error_t *err);
/* normal_init(m, mean=0, std=1, bias=0) */
int wi_normal_init(wi_module_t *m, wi_generator_t *g, double mean,
                   double std, double bias, wi_error_t *err);
/* trunc_normal_init(m, mean=0, std=1, a=-2, b=2, bias=0) */
int wi_trunc_normal_init(wi_module_t *m, wi_generator_t *g, double mean,
                         double std, double a, double b, double bias,
                         wi_error_t *err);
/* uniform_init(m, a=0, b=1, bias=0) */
int wi_uniform_init(wi_module_t *m, wi_generator_t *g, double a, double b,
                    double bias, wi_error_t *err);
/* kaiming_init(m, a=0, mode='fan_out', nonlinearity='relu', bias=0,
 * distribution='normal') */
int wi_kaiming_init(wi_module_t *m, wi_generator_t *g, double a,
                    const char *mode, const char *nonlinearity, double bias,
                    const char *distribution, wi_error_t *err);
/* caffe2_xavier_init(m, bias=0): kaiming_init(a=1, mode='fan_in',
 * nonlinearity='leaky_relu', distribution='uniform') */
int wi_caffe2_xavier_init(wi_module_t *m, wi_generator_t *g, double bias,
                          wi_error_t *err);
/* bias_init_with_prob(p) = -log((1 - p) / p), in double, as numpy gives
 * it: inf for p = 1, nan outside [0, 1].  p = 0 returns -inf where Python
 * raises ZeroDivisionError; init_cfg's bias_prob refuses it. */
double wi_bias_init_with_prob(double prior_prob);

#ifdef __cplusplus
}
#endif
#endif
