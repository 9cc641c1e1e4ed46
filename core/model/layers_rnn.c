/* nn.RNN, nn.LSTM and nn.GRU (RNNBase): their arguments, parameters in
 * torch's registration order and reset_parameters' draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <weightinit/init.h>

#include "model/layers_internal.h"
#include "model/module_internal.h"

/* RNNBase's arguments; `nonlinearity` is RNN's, `proj_size` LSTM's. */
#define RNN_COMMON_ARGS                                      \
    {"input_size", A_SIZE, NULL, 0, NO_CHOICES},             \
    {"hidden_size", A_SIZE, NULL, 1, NO_CHOICES},            \
    {"num_layers", A_SIZE, "1", 1, NO_CHOICES},              \
    {"bias", A_BOOL, "true", 0, NO_CHOICES},                 \
    {"batch_first", A_BOOL, "false", 0, NO_CHOICES},         \
    {"dropout", A_FLOAT, "0.0", 0, NO_CHOICES},              \
    {"bidirectional", A_BOOL, "false", 0, NO_CHOICES}
static const char *const nonlinearities[] = {"tanh", "relu", NULL};
const struct arg_spec wi_priv_rnn_args[] = {
    RNN_COMMON_ARGS,
    {"nonlinearity", A_CHOICE, "\"tanh\"", 0, nonlinearities},
    {NULL, 0, NULL, 0, NULL}};
const struct arg_spec wi_priv_lstm_args[] = {
    RNN_COMMON_ARGS,
    {"proj_size", A_SIZE, "0", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};
const struct arg_spec wi_priv_gru_args[] = {
    RNN_COMMON_ARGS,
    {NULL, 0, NULL, 0, NULL}};

/* Most RNN layers: as a repeat's count, a bound that keeps a typo from
 * making billions of tensors. */
#define MAX_RNN_LAYERS 100000

/* One RNNBase parameter, named as torch does (weight_ih_l0_reverse);
 * appended to all[] for reset_parameters. */
static int rnn_param(struct layer_build *b, const char *blame, const char *kind,
                     int64_t layer, int reverse, int ndim, const int64_t *shape,
                     wi_tensor_t **all, size_t *n)
{
    char name[64];
    snprintf(name, sizeof name, "%s_l%lld%s", kind, (long long)layer,
             reverse ? "_reverse" : "");
    wi_tensor_t *t = wi_priv_layer_tensor(b, blame, name, WI_DTYPE_F32, ndim, shape);
    if (!t)
        return b->err ? b->err->code : WI_ENOMEM;
    all[(*n)++] = t;
    return wi_priv_module_add_state(b->m, 0, name, 0, t, b->err);
}

/* RNNBase.__init__'s checks of proj_size and dropout. */
static int rnn_check(struct layer_build *b, int64_t proj)
{
    const struct arg_val *v = b->v;
    if (v[2].i > MAX_RNN_LAYERS)
        return wi_priv_layer_fail(b, WI_EINVAL, "num_layers", "%s",
                       "expected at most 100000 layers");
    if (!(v[5].d >= 0.0 && v[5].d <= 1.0))
        return wi_priv_layer_fail(b, WI_EINVAL, "dropout", "%s",
                       "dropout should be a number in range [0, 1] representing "
                       "the probability of an element being zeroed");
    if (proj >= v[1].i)
        return wi_priv_layer_fail(b, WI_EINVAL, "proj_size", "%s",
                       "proj_size has to be smaller than hidden_size");
    return 0;
}

/* One layer and direction: w_ih, w_hh, b_ih, b_hh, w_hr, as torch
 * registers them. */
static int rnn_cell(struct layer_build *b, int64_t layer, int reverse, int64_t in,
                    int64_t gate, int64_t proj, wi_tensor_t **all, size_t *n)
{
    int64_t hidden = b->v[1].i, real = proj > 0 ? proj : hidden;
    int64_t ih[2] = {gate, in}, hh[2] = {gate, real}, bias[1] = {gate},
            hr[2] = {proj, hidden};
    const char *in_blame = layer == 0 ? "input_size" : "hidden_size";
    int rc = rnn_param(b, in_blame, "weight_ih", layer, reverse, 2, ih, all, n);
    if (rc == 0)
        rc = rnn_param(b, "hidden_size", "weight_hh", layer, reverse, 2, hh, all, n);
    if (rc == 0 && b->v[3].i)
        rc = rnn_param(b, "hidden_size", "bias_ih", layer, reverse, 1, bias, all, n);
    if (rc == 0 && b->v[3].i)
        rc = rnn_param(b, "hidden_size", "bias_hh", layer, reverse, 1, bias, all, n);
    if (rc == 0 && proj > 0)
        rc = rnn_param(b, "proj_size", "weight_hr", layer, reverse, 2, hr, all, n);
    return rc;
}

/* nn.RNN, nn.LSTM, nn.GRU: every parameter registered (torch.empty),
 * then reset_parameters draws each, in that order, uniform within
 * 1/sqrt(hidden_size). */
int wi_priv_build_rnn(struct layer_build *b)
{
    const struct arg_val *v = b->v;
    int64_t hidden = v[1].i, layers = v[2].i, gate;
    int64_t proj = b->spatial == 4 ? v[7].i : 0, dirs = v[6].i ? 2 : 1;
    int rc = rnn_check(b, proj);
    if (rc < 0)
        return rc;
    if (__builtin_mul_overflow(hidden, (int64_t)b->spatial, &gate))
        return wi_priv_layer_fail(b, WI_EINVAL, "hidden_size", "%s",
                       "the gates' rows are more than 2^63");
    int64_t real = proj > 0 ? proj : hidden, next_in;
    if (__builtin_mul_overflow(real, dirs, &next_in))
        return wi_priv_layer_fail(b, WI_EINVAL, "hidden_size", "%s", "too large");
    wi_tensor_t **all = malloc((size_t)(layers * dirs * 5) * sizeof *all);
    if (!all)
        return wi_error_set(b->err, WI_ENOMEM, b->source, b->path, "out of memory");
    size_t n = 0;
    for (int64_t l = 0; rc == 0 && l < layers; l++)
        for (int d = 0; rc == 0 && d < dirs; d++)
            rc = rnn_cell(b, l, d, l == 0 ? v[0].i : next_in, gate, proj, all, &n);
    double stdv = 1.0 / sqrt((double)hidden);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = wi_uniform_(all[i], b->g, -stdv, stdv, b->err);
    free(all);
    return rc;
}
