/* Tensor-level initialisation primitives, bit-exact equivalents of
 * torch.nn.init (PyTorch 1.13, CPU, float32) under the generator's
 * profile.  Each fills a whole tensor in one call, in memory order, and
 * consumes exactly the draws PyTorch consumes (docs/torch-rng.md §8,
 * "Draw accounting").  Tensors must be F32 (WI_EINVAL otherwise); the
 * tensor is borrowed and written in place, its version bumped. */
#ifndef WEIGHTINIT_INIT_H
#define WEIGHTINIT_INIT_H

#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/rng.h>
#include <weightinit/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tensor.uniform_(from, to): numel draws. */
int wi_uniform_(wi_tensor_t *t, wi_generator_t *g, double from, double to,
                wi_error_t *err);
/* Tensor.normal_(mean, std): fill path when numel >= 16 (numel draws,
 * plus 16 when numel % 16 != 0; the cached normal is left alone), else the
 * per-element path that uses the generator's cached normal first and then
 * 4 draws per Box-Muller pair, caching the unused half.  std < 0:
 * WI_EINVAL. */
int wi_normal_(wi_tensor_t *t, wi_generator_t *g, double mean, double std,
               wi_error_t *err);
/* nn.init.trunc_normal_(t, mean, std, a, b) of g's profile's torch.  Up
 * to the torch2.0-* profiles the inverse-CDF method: numel draws; std <= 0
 * or a > b: WI_EINVAL.  Under the torch2.12-* and torch2.13-* profiles
 * torch >= 2.12's rejection sampler: whole-tensor rounds of normal_ (or,
 * when P(a <= X <= b) <= 0.3, of uniform_ candidates and acceptance
 * draws) until every element is accepted, so the draw count depends on
 * the values; computed now even on a recording tensor; std == 0 or a NaN
 * argument: WI_EINVAL, and torch's own normal_ / uniform_ checks. */
int wi_trunc_normal_(wi_tensor_t *t, wi_generator_t *g, double mean,
                     double std, double a, double b, wi_error_t *err);
/* nn.init.constant_/ones_/zeros_: no draws. */
int wi_constant_(wi_tensor_t *t, double val, wi_error_t *err);
int wi_ones_(wi_tensor_t *t, wi_error_t *err);
int wi_zeros_(wi_tensor_t *t, wi_error_t *err);

/* nn.init.eye_ (2 dims) and dirac_(t, groups) (3 to 5 dims, dim 0
 * divisible by groups >= 1): no draws; WI_EINVAL otherwise, with
 * torch's message. */
int wi_eye_(wi_tensor_t *t, wi_error_t *err);
int wi_dirac_(wi_tensor_t *t, int64_t groups, wi_error_t *err);
/* nn.init.sparse_(t, sparsity, std) (2 dims): normal_(0, std), then for
 * each column a torch.randperm of the rows (rows - 1 draws) whose first
 * ceil(sparsity * rows) entries (as Python slices them) are zeroed.  The
 * values are computed now.  WI_EINVAL for another shape. */
int wi_sparse_(wi_tensor_t *t, wi_generator_t *g, double sparsity, double std,
               wi_error_t *err);

/* nn.init.calculate_gain.  param is NULL for Python's None.  Unknown
 * nonlinearity: WI_EINVAL. */
int wi_calculate_gain(const char *nonlinearity, const double *param,
                      double *gain, wi_error_t *err);
/* nn.init._calculate_fan_in_and_fan_out: WI_EINVAL for fewer than 2 dims. */
int wi_calculate_fan_in_and_fan_out(const wi_tensor_t *t, int64_t *fan_in,
                                    int64_t *fan_out, wi_error_t *err);

/* nn.init.xavier_uniform_ / xavier_normal_: as uniform_ / normal_ on the
 * whole tensor.  Fewer than 2 dims or fan_in + fan_out == 0: WI_EINVAL. */
int wi_xavier_uniform_(wi_tensor_t *t, wi_generator_t *g, double gain,
                       wi_error_t *err);
int wi_xavier_normal_(wi_tensor_t *t, wi_generator_t *g, double gain,
                      wi_error_t *err);
/* mode is "fan_in" or "fan_out" (any case); a tensor with a zero-sized
 * dimension is left untouched and draws nothing, as in PyTorch (mode and
 * nonlinearity are still validated: WI_EINVAL). */
int wi_kaiming_uniform_(wi_tensor_t *t, wi_generator_t *g, double a,
                        const char *mode, const char *nonlinearity,
                        wi_error_t *err);
int wi_kaiming_normal_(wi_tensor_t *t, wi_generator_t *g, double a,
                       const char *mode, const char *nonlinearity,
                       wi_error_t *err);

/* PyTorch's single-precision erfinv kernel under a profile (exposed for
 * tests and for plugins that build their own samplers). */
float wi_erfinv_f32(float y, wi_rng_profile_t profile);

#ifdef __cplusplus
}
#endif
#endif
