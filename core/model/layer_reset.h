/* The built-in layers' default reset_parameters on tensors already made
 * in their shapes (torch-rng.md §8): the draws, free of the JSON argument
 * parsing in layers.c, so the musl conformance build (tests/musl) runs
 * the same code.  NULL tensors are None; errors as in nn.init. */
#ifndef WI_LAYER_RESET_H
#define WI_LAYER_RESET_H

#include <weightinit/error.h>
#include <weightinit/rng.h>
#include <weightinit/tensor.h>

#include "base/internal.h"

/* Linear (bias_always = 1) and _ConvNd/_ConvTransposeNd (bias only when
 * fan_in != 0): kaiming_uniform_(a=sqrt(5)), then the bias from the
 * weight's fan_in. */
WI_INTERNAL int wi_priv_reset_linear_like(wi_tensor_t *w, wi_tensor_t *bias,
                                          int bias_always, wi_generator_t *g,
                                          wi_error_t *err);
/* Embedding: normal_(0, 1), then row padding_idx (already made
 * non-negative; < 0 = none) zeroed. */
WI_INTERNAL int wi_priv_reset_embedding(wi_tensor_t *w, int64_t padding_idx,
                                        wi_generator_t *g, wi_error_t *err);
/* Bilinear: weight and bias (NULL = None) uniform_(-k, k), k =
 * 1/sqrt(in1_features), the weight's second dimension (> 0). */
WI_INTERNAL int wi_priv_reset_bilinear(wi_tensor_t *w, wi_tensor_t *bias,
                                       wi_generator_t *g, wi_error_t *err);
/* MultiheadAttention._reset_parameters, after out_proj's own Linear
 * init: xavier_uniform_ of the projections w[0..2] (in_proj_weight or
 * q, k, v), zero in_proj_bias and out_proj.bias, xavier_normal_ of
 * bias_k and bias_v. */
WI_INTERNAL int wi_priv_reset_mha(wi_tensor_t *const w[3], wi_tensor_t *in_bias,
                                  wi_tensor_t *out_bias,
                                  wi_tensor_t *const bias_kv[2],
                                  wi_generator_t *g, wi_error_t *err);

#endif
