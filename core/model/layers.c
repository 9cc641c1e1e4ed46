/* Built-in layer types: PyTorch's constructor arguments, parameter and
 * buffer shapes, base names, and default reset_parameters, drawn exactly
 * as torch 1.13 draws them (torch-rng.md §8). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/init.h>
#include <weightinit/model.h>

#include "base/jsonutil.h"
#include "context/context_internal.h"
#include "model/layer_reset.h"
#include "model/layers_internal.h"
#include "model/module_internal.h"

struct layer_def {
    const char *type;
    const char *base;
    /* Conv dims; for RNNBase the gates per hidden unit (RNN 1, GRU 3,
     * LSTM 4); 0 otherwise. */
    int spatial;
    const struct arg_spec *args;
    int (*build)(struct layer_build *b);
};

static const char *const padding_modes[] = {"zeros", "reflect", "replicate",
                                            "circular", NULL};
static const char *const zeros_only[] = {"zeros", NULL};

static const struct arg_spec linear_args[] = {
    {"in_features", A_SIZE, NULL, 0, NO_CHOICES},
    {"out_features", A_SIZE, NULL, 0, NO_CHOICES},
    {"bias", A_BOOL, "true", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec conv_args[] = {
    {"in_channels", A_SIZE, NULL, 0, NO_CHOICES},
    {"out_channels", A_SIZE, NULL, 0, NO_CHOICES},
    {"kernel_size", A_TUPLE, NULL, 0, NO_CHOICES},
    {"stride", A_TUPLE, "1", 1, NO_CHOICES},
    {"padding", A_PADDING, "0", 0, NO_CHOICES},
    {"dilation", A_TUPLE, "1", 1, NO_CHOICES},
    {"groups", A_SIZE, "1", 1, NO_CHOICES},
    {"bias", A_BOOL, "true", 0, NO_CHOICES},
    {"padding_mode", A_CHOICE, "\"zeros\"", 0, padding_modes},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec conv_transpose_args[] = {
    {"in_channels", A_SIZE, NULL, 0, NO_CHOICES},
    {"out_channels", A_SIZE, NULL, 0, NO_CHOICES},
    {"kernel_size", A_TUPLE, NULL, 0, NO_CHOICES},
    {"stride", A_TUPLE, "1", 1, NO_CHOICES},
    {"padding", A_TUPLE, "0", 0, NO_CHOICES},
    {"output_padding", A_TUPLE, "0", 0, NO_CHOICES},
    {"groups", A_SIZE, "1", 1, NO_CHOICES},
    {"bias", A_BOOL, "true", 0, NO_CHOICES},
    {"dilation", A_TUPLE, "1", 1, NO_CHOICES},
    {"padding_mode", A_CHOICE, "\"zeros\"", 0, zeros_only},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec batchnorm_args[] = {
    {"num_features", A_SIZE, NULL, 0, NO_CHOICES},
    {"eps", A_FLOAT, "1e-05", 0, NO_CHOICES},
    {"momentum", A_FLOAT_OR_NULL, "0.1", 0, NO_CHOICES},
    {"affine", A_BOOL, "true", 0, NO_CHOICES},
    {"track_running_stats", A_BOOL, "true", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec groupnorm_args[] = {
    {"num_groups", A_SIZE, NULL, 1, NO_CHOICES},
    {"num_channels", A_SIZE, NULL, 0, NO_CHOICES},
    {"eps", A_FLOAT, "1e-05", 0, NO_CHOICES},
    {"affine", A_BOOL, "true", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec layernorm_args[] = {
    {"normalized_shape", A_SHAPE, NULL, 0, NO_CHOICES},
    {"eps", A_FLOAT, "1e-05", 0, NO_CHOICES},
    {"elementwise_affine", A_BOOL, "true", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec embedding_args[] = {
    {"num_embeddings", A_SIZE, NULL, 0, NO_CHOICES},
    {"embedding_dim", A_SIZE, NULL, 0, NO_CHOICES},
    {"padding_idx", A_INT_OR_NULL, "null", 0, NO_CHOICES},
    {"max_norm", A_FLOAT_OR_NULL, "null", 0, NO_CHOICES},
    {"norm_type", A_FLOAT, "2.0", 0, NO_CHOICES},
    {"scale_grad_by_freq", A_BOOL, "false", 0, NO_CHOICES},
    {"sparse", A_BOOL, "false", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec mha_args[] = {
    {"embed_dim", A_SIZE, NULL, 0, NO_CHOICES},
    {"num_heads", A_SIZE, NULL, 1, NO_CHOICES},
    {"dropout", A_FLOAT, "0.0", 0, NO_CHOICES},
    {"bias", A_BOOL, "true", 0, NO_CHOICES},
    {"add_bias_kv", A_BOOL, "false", 0, NO_CHOICES},
    {"add_zero_attn", A_BOOL, "false", 0, NO_CHOICES},
    {"kdim", A_INT_OR_NULL, "null", 0, NO_CHOICES},
    {"vdim", A_INT_OR_NULL, "null", 0, NO_CHOICES},
    {"batch_first", A_BOOL, "false", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec instancenorm_args[] = {
    {"num_features", A_SIZE, NULL, 0, NO_CHOICES},
    {"eps", A_FLOAT, "1e-05", 0, NO_CHOICES},
    {"momentum", A_FLOAT_OR_NULL, "0.1", 0, NO_CHOICES},
    {"affine", A_BOOL, "false", 0, NO_CHOICES},
    {"track_running_stats", A_BOOL, "false", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec rmsnorm_args[] = {
    {"normalized_shape", A_SHAPE, NULL, 0, NO_CHOICES},
    {"eps", A_FLOAT_OR_NULL, "null", 0, NO_CHOICES},
    {"elementwise_affine", A_BOOL, "true", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec prelu_args[] = {
    {"num_parameters", A_SIZE, "1", 0, NO_CHOICES},
    {"init", A_FLOAT, "0.25", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const struct arg_spec bilinear_args[] = {
    {"in1_features", A_SIZE, NULL, 1, NO_CHOICES},
    {"in2_features", A_SIZE, NULL, 0, NO_CHOICES},
    {"out_features", A_SIZE, NULL, 0, NO_CHOICES},
    {"bias", A_BOOL, "true", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static const char *const bag_modes[] = {"sum", "mean", "max", NULL};
static const struct arg_spec embedding_bag_args[] = {
    {"num_embeddings", A_SIZE, NULL, 0, NO_CHOICES},
    {"embedding_dim", A_SIZE, NULL, 0, NO_CHOICES},
    {"max_norm", A_FLOAT_OR_NULL, "null", 0, NO_CHOICES},
    {"norm_type", A_FLOAT, "2.0", 0, NO_CHOICES},
    {"scale_grad_by_freq", A_BOOL, "false", 0, NO_CHOICES},
    {"mode", A_CHOICE, "\"mean\"", 0, bag_modes},
    {"sparse", A_BOOL, "false", 0, NO_CHOICES},
    {"include_last_offset", A_BOOL, "false", 0, NO_CHOICES},
    {"padding_idx", A_INT_OR_NULL, "null", 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

/* Hugging Face's Conv1D(nf, nx) (pytorch_utils.py): GPT-2's layers. */
static const struct arg_spec hf_conv1d_args[] = {
    {"nf", A_SIZE, NULL, 0, NO_CHOICES},
    {"nx", A_SIZE, NULL, 0, NO_CHOICES},
    {NULL, 0, NULL, 0, NULL}};

static int build_linear(struct layer_build *b);
static int build_conv(struct layer_build *b);
static int build_conv_transpose(struct layer_build *b);
static int build_batchnorm(struct layer_build *b);
static int build_groupnorm(struct layer_build *b);
static int build_layernorm(struct layer_build *b);
static int build_embedding(struct layer_build *b);
static int build_mha(struct layer_build *b);
static int build_instancenorm(struct layer_build *b);
static int build_rmsnorm(struct layer_build *b);
static int build_prelu(struct layer_build *b);
static int build_bilinear(struct layer_build *b);
static int build_embedding_bag(struct layer_build *b);
static int build_hf_conv1d(struct layer_build *b);

static const struct layer_def layer_defs[] = {
    {"Linear", "Module", 0, linear_args, build_linear},
    {"Conv1d", "_ConvNd", 1, conv_args, build_conv},
    {"Conv2d", "_ConvNd", 2, conv_args, build_conv},
    {"Conv3d", "_ConvNd", 3, conv_args, build_conv},
    {"ConvTranspose1d", "_ConvTransposeNd", 1, conv_transpose_args,
     build_conv_transpose},
    {"ConvTranspose2d", "_ConvTransposeNd", 2, conv_transpose_args,
     build_conv_transpose},
    {"ConvTranspose3d", "_ConvTransposeNd", 3, conv_transpose_args,
     build_conv_transpose},
    {"BatchNorm1d", "_BatchNorm", 0, batchnorm_args, build_batchnorm},
    {"BatchNorm2d", "_BatchNorm", 0, batchnorm_args, build_batchnorm},
    {"BatchNorm3d", "_BatchNorm", 0, batchnorm_args, build_batchnorm},
    {"GroupNorm", "Module", 0, groupnorm_args, build_groupnorm},
    {"LayerNorm", "Module", 0, layernorm_args, build_layernorm},
    {"Embedding", "Module", 0, embedding_args, build_embedding},
    {"MultiheadAttention", "Module", 0, mha_args, build_mha},
    {"SyncBatchNorm", "_BatchNorm", 0, batchnorm_args, build_batchnorm},
    {"InstanceNorm1d", "_InstanceNorm", 0, instancenorm_args, build_instancenorm},
    {"InstanceNorm2d", "_InstanceNorm", 0, instancenorm_args, build_instancenorm},
    {"InstanceNorm3d", "_InstanceNorm", 0, instancenorm_args, build_instancenorm},
    {"RMSNorm", "Module", 0, rmsnorm_args, build_rmsnorm},
    {"PReLU", "Module", 0, prelu_args, build_prelu},
    {"Bilinear", "Module", 0, bilinear_args, build_bilinear},
    {"EmbeddingBag", "Module", 0, embedding_bag_args, build_embedding_bag},
    {"Conv1D", "Module", 0, hf_conv1d_args, build_hf_conv1d},
    /* spatial: the gates per hidden unit (gate_size = spatial * hidden). */
    {"RNN", "RNNBase", 1, wi_priv_rnn_args, wi_priv_build_rnn},
    {"LSTM", "RNNBase", 4, wi_priv_lstm_args, wi_priv_build_rnn},
    {"GRU", "RNNBase", 3, wi_priv_gru_args, wi_priv_build_rnn},
};
#define N_LAYERS (sizeof layer_defs / sizeof layer_defs[0])

static const struct layer_def *find_layer(const char *type)
{
    for (size_t i = 0; i < N_LAYERS; i++)
        if (strcmp(layer_defs[i].type, type) == 0)
            return &layer_defs[i];
    return NULL;
}

int wi_layer_is_builtin(const char *type)
{
    return find_layer(type) != NULL;
}

size_t wi_layer_builtin_count(void) { return N_LAYERS; }

const char *wi_layer_builtin_name(size_t i)
{
    return i < N_LAYERS ? layer_defs[i].type : NULL;
}

/* ---- argument parsing ------------------------------------------------ */

struct parse {
    const char *source;
    const char *path; /* of the node */
    wi_error_t *err;
};

static int bad_arg(const struct parse *p, const char *name, const json_t *v,
                   const char *expected)
{
    char path[WI_PATH_MAX], repr[80];
    wi_priv_path_key(path, sizeof path, p->path, name);
    return wi_error_set(p->err, WI_EINVAL, p->source, path,
                        "expected %s, got %s", expected,
                        wi_priv_json_repr(v, repr, sizeof repr));
}

static int parse_int_min(const struct parse *p, const char *name,
                         const json_t *v, int64_t min, int64_t *out)
{
    char expected[64];
    if (!json_is_integer(v) || json_integer_value(v) < min) {
        if (min == 0)
            snprintf(expected, sizeof expected, "a non-negative int");
        else if (min == 1)
            snprintf(expected, sizeof expected, "a positive int");
        else
            snprintf(expected, sizeof expected, "an int >= %lld",
                     (long long)min);
        return bad_arg(p, name, v, expected);
    }
    *out = json_integer_value(v);
    return 0;
}

static int parse_tuple(const struct parse *p, const struct arg_spec *s,
                       int spatial, const json_t *v, struct arg_val *out)
{
    char expected[96];
    const char *what = s->min >= 1 ? "positive " : s->min == 0 ? "non-negative " : "";
    snprintf(expected, sizeof expected, "a %sint or a list of %d %sints",
             what, spatial, what);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < s->min)
            return bad_arg(p, s->name, v, expected);
        for (int i = 0; i < spatial; i++)
            out->v[i] = json_integer_value(v);
        out->n = spatial;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) != (size_t)spatial)
        return bad_arg(p, s->name, v, expected);
    for (int i = 0; i < spatial; i++) {
        const json_t *e = json_array_get(v, (size_t)i);
        if (!json_is_integer(e) || json_integer_value(e) < s->min)
            return bad_arg(p, s->name, v, expected);
        out->v[i] = json_integer_value(e);
    }
    out->n = spatial;
    return 0;
}

static int parse_shape(const struct parse *p, const struct arg_spec *s,
                       const json_t *v, struct arg_val *out)
{
    const char *expected = "a non-negative int or a list of non-negative ints";
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return bad_arg(p, s->name, v, expected);
        out->v[0] = json_integer_value(v);
        out->n = 1;
        return 0;
    }
    /* torch takes normalized_shape=[] (0-d weight and bias). */
    if (!json_is_array(v) || json_array_size(v) > WI_MAX_DIMS)
        return bad_arg(p, s->name, v, expected);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0)
            return bad_arg(p, s->name, v, expected);
        out->v[i] = json_integer_value(e);
    }
    out->n = (int)json_array_size(v);
    return 0;
}

static int parse_choice(const struct parse *p, const struct arg_spec *s,
                        const json_t *v, struct arg_val *out)
{
    char expected[160] = "one of";
    for (size_t i = 0; s->choices[i]; i++) {
        if (json_is_string(v) && strcmp(json_string_value(v), s->choices[i]) == 0) {
            out->s = s->choices[i];
            return 0;
        }
        size_t len = strlen(expected);
        snprintf(expected + len, sizeof expected - len, "%s '%s'",
                 i ? "," : "", s->choices[i]);
    }
    return bad_arg(p, s->name, v, expected);
}

static int parse_arg(const struct parse *p, const struct arg_spec *s,
                     int spatial, const json_t *v, struct arg_val *out)
{
    memset(out, 0, sizeof *out);
    if (json_is_null(v) &&
        (s->kind == A_INT_OR_NULL || s->kind == A_FLOAT_OR_NULL)) {
        out->is_null = 1;
        return 0;
    }
    switch (s->kind) {
    case A_SIZE:
        return parse_int_min(p, s->name, v, s->min, &out->i);
    case A_INT:
    case A_INT_OR_NULL:
        if (!json_is_integer(v))
            return bad_arg(p, s->name, v,
                           s->kind == A_INT ? "an int" : "an int or null");
        out->i = json_integer_value(v);
        return 0;
    case A_BOOL:
        if (!json_is_boolean(v))
            return bad_arg(p, s->name, v, "true or false");
        out->i = json_is_true(v);
        return 0;
    case A_FLOAT:
    case A_FLOAT_OR_NULL:
        if (!json_is_number(v))
            return bad_arg(p, s->name, v,
                           s->kind == A_FLOAT ? "a number" : "a number or null");
        out->d = json_number_value(v);
        return 0;
    case A_PADDING:
        if (json_is_string(v)) {
            static const char *const modes[] = {"valid", "same", NULL};
            struct arg_spec str = {s->name, A_CHOICE, NULL, 0, modes};
            return parse_choice(p, &str, v, out);
        }
        return parse_tuple(p, s, spatial, v, out);
    case A_TUPLE:
        return parse_tuple(p, s, spatial, v, out);
    case A_CHOICE:
        return parse_choice(p, s, v, out);
    case A_SHAPE:
        return parse_shape(p, s, v, out);
    }
    return WI_EINVAL;
}

static int unknown_arg(const struct parse *p, const struct layer_def *def,
                       const char *key)
{
    char path[WI_PATH_MAX], names[400] = "";
    size_t len = 0;
    for (const struct arg_spec *s = def->args; s->name && len < sizeof names; s++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                s == def->args ? "" : ", ", s->name);
    wi_priv_path_key(path, sizeof path, p->path, key);
    return wi_error_set(p->err, WI_EINVAL, p->source, path,
                        "%s has no argument '%s'; accepted: %s", def->type,
                        key, names);
}

/* Validates every given argument, fills defaults, and returns the full
 * argument object (given or default, in PyTorch's order) in *kept. */
static int parse_args(const struct parse *p, const struct layer_def *def,
                      const json_t *args, struct arg_val *vals, json_t *kept)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)args, key, value) {
        int known = strcmp(key, "type") == 0;
        for (const struct arg_spec *s = def->args; s->name && !known; s++)
            known = strcmp(s->name, key) == 0;
        if (!known)
            return unknown_arg(p, def, key);
    }
    for (size_t i = 0; def->args[i].name; i++) {
        const struct arg_spec *s = &def->args[i];
        json_t *given = json_object_get(args, s->name);
        json_t *v = given ? json_incref(given) : NULL;
        if (!v && !s->dflt) {
            char path[WI_PATH_MAX];
            wi_priv_path_key(path, sizeof path, p->path, s->name);
            return wi_error_set(p->err, WI_EINVAL, p->source, path,
                                "%s requires the argument '%s'", def->type,
                                s->name);
        }
        if (!v)
            v = json_loads(s->dflt, JSON_DECODE_ANY, NULL);
        int rc = v ? parse_arg(p, s, def->spatial, v, &vals[i]) : WI_ENOMEM;
        /* kept owns v, so string choices borrowed by vals stay valid. */
        if (v && json_object_set_new(kept, s->name, v) < 0)
            rc = WI_ENOMEM;
        if (rc < 0)
            return rc == WI_ENOMEM
                       ? wi_error_set(p->err, rc, p->source, p->path, "out of memory")
                       : rc;
    }
    return 0;
}

/* ---- construction ---------------------------------------------------- */

int wi_priv_layer_fail(struct layer_build *b, int code, const char *arg,
                       const char *fmt, const char *detail)
{
    char path[WI_PATH_MAX];
    wi_priv_path_key(path, sizeof path, b->path, arg);
    return wi_error_set(b->err, code, b->source, path, fmt, detail);
}

/* The size argument of largest value among the n given indexes (the
 * first on a tie): the one to name when a shape made of them is too
 * large.  A tuple counts as its largest element. */
static const char *largest(const struct layer_build *b, int n, const int *idx)
{
    int best = idx[0];
    int64_t best_v = -1;
    for (int k = 0; k < n; k++) {
        const struct arg_val *v = &b->v[idx[k]];
        int64_t x = v->n ? 0 : v->i;
        for (int i = 0; i < v->n; i++)
            x = v->v[i] > x ? v->v[i] : x;
        if (x > best_v) {
            best = idx[k];
            best_v = x;
        }
    }
    return b->args[best].name;
}

/* A new zeroed tensor; a shape too large names the model file and the
 * argument `blame` it came from. */
wi_tensor_t *wi_priv_layer_tensor(struct layer_build *b, const char *blame,
                                  const char *name, wi_dtype_t dtype, int ndim,
                                  const int64_t *shape)
{
    wi_tensor_t *t = wi_tensor_new(dtype, ndim, shape, b->err);
    if (!t && b->err) {
        char path[WI_PATH_MAX], dims[256], text[WI_ERROR_TEXT_LENGTH];
        snprintf(text, sizeof text, "%s", b->err->text);
        wi_priv_path_key(path, sizeof path, b->path, blame);
        wi_error_set(b->err, b->err->code, b->source, path, "%s of shape %s: %s",
                     name, wi_shape_format(ndim, shape, dims, sizeof dims), text);
    }
    return t;
}

/* Registers a parameter (t may be NULL = None).  Names here are all
 * literals: borrowed, not copied. */
static int add_param(struct layer_build *b, const char *name, wi_tensor_t *t)
{
    return wi_priv_module_add_state(b->m, 0, name, 1, t, b->err);
}

static int add_param_new(struct layer_build *b, const char *blame,
                         const char *name, int ndim, const int64_t *shape,
                         wi_tensor_t **out)
{
    wi_tensor_t *t = wi_priv_layer_tensor(b, blame, name, WI_DTYPE_F32, ndim, shape);
    if (!t)
        return b->err ? b->err->code : WI_ENOMEM;
    *out = t;
    return add_param(b, name, t);
}

/* Linear/_ConvNd reset_parameters (model/layer_reset.c). */
static int reset_linear_like(struct layer_build *b, wi_tensor_t *w,
                             wi_tensor_t *bias, int bias_always)
{
    return wi_priv_reset_linear_like(w, bias, bias_always, b->g, b->err);
}

static int build_linear(struct layer_build *b)
{
    int64_t wshape[2] = {b->v[1].i, b->v[0].i}, bshape[1] = {b->v[1].i};
    static const int sizes[] = {0, 1};
    wi_tensor_t *w = NULL, *bias = NULL;
    int rc = add_param_new(b, largest(b, 2, sizes), "weight", 2, wshape, &w);
    if (rc == 0)
        rc = b->v[2].i ? add_param_new(b, "out_features", "bias", 1, bshape, &bias)
                       : add_param(b, "bias", NULL);
    return rc < 0 ? rc : reset_linear_like(b, w, bias, 1);
}

static int check_groups(struct layer_build *b, int64_t in, int64_t out,
                        int64_t groups)
{
    if (in % groups != 0)
        return wi_priv_layer_fail(b, WI_EINVAL, "groups", "%s",
                       "in_channels must be divisible by groups");
    if (out % groups != 0)
        return wi_priv_layer_fail(b, WI_EINVAL, "groups", "%s",
                       "out_channels must be divisible by groups");
    return 0;
}

static int conv_common(struct layer_build *b, int transposed, int bias_index)
{
    const struct arg_val *v = b->v;
    int64_t in = v[0].i, out = v[1].i, groups = v[6].i;
    int rc = check_groups(b, in, out, groups);
    if (rc < 0)
        return rc;
    int64_t wshape[2 + 3];
    wshape[0] = transposed ? in : out;
    wshape[1] = (transposed ? out : in) / groups;
    for (int i = 0; i < b->spatial; i++)
        wshape[2 + i] = v[2].v[i];
    int64_t bshape[1] = {out};
    static const int sizes[] = {0, 1, 2}; /* channels, kernel_size */
    wi_tensor_t *w = NULL, *bias = NULL;
    rc = add_param_new(b, largest(b, 3, sizes), "weight", 2 + b->spatial,
                       wshape, &w);
    if (rc == 0)
        rc = v[bias_index].i ? add_param_new(b, "out_channels", "bias", 1, bshape, &bias)
                             : add_param(b, "bias", NULL);
    return rc < 0 ? rc : reset_linear_like(b, w, bias, 0);
}

static int build_conv(struct layer_build *b)
{
    const struct arg_val *padding = &b->v[4], *stride = &b->v[3];
    if (padding->s && strcmp(padding->s, "same") == 0) {
        for (int i = 0; i < stride->n; i++)
            if (stride->v[i] != 1)
                return wi_priv_layer_fail(b, WI_EINVAL, "padding", "%s",
                               "padding='same' is not supported for strided "
                               "convolutions");
    }
    return conv_common(b, 0, 7);
}

static int build_conv_transpose(struct layer_build *b)
{
    return conv_common(b, 1, 7);
}

static int add_filled(struct layer_build *b, const char *blame, int buffer,
                      const char *name, wi_dtype_t dtype, int ndim,
                      const int64_t *shape, double val)
{
    wi_tensor_t *t = wi_priv_layer_tensor(b, blame, name, dtype, ndim, shape);
    if (!t)
        return b->err ? b->err->code : WI_ENOMEM;
    if (val != 0.0) { /* new tensors are zero already */
        int rc = wi_constant_(t, val, b->err);
        if (rc < 0) {
            wi_tensor_free(t);
            return rc;
        }
    }
    return wi_priv_module_add_state(b->m, buffer, name, 1, t, b->err);
}

/* weight = ones, bias = zeros (norm layers, affine) or both None. */
static int add_affine(struct layer_build *b, const char *blame, int affine,
                      int ndim, const int64_t *shape)
{
    if (!affine) {
        int rc = add_param(b, "weight", NULL);
        return rc < 0 ? rc : add_param(b, "bias", NULL);
    }
    int rc = add_filled(b, blame, 0, "weight", WI_DTYPE_F32, ndim, shape, 1.0);
    return rc < 0 ? rc
                  : add_filled(b, blame, 0, "bias", WI_DTYPE_F32, ndim, shape, 0.0);
}

static int build_batchnorm(struct layer_build *b)
{
    int64_t shape[1] = {b->v[0].i};
    const char *n = "num_features";
    int rc = add_affine(b, n, (int)b->v[3].i, 1, shape);
    if (rc < 0 || !b->v[4].i)
        return rc; /* track_running_stats=False: no buffers */
    if ((rc = add_filled(b, n, 1, "running_mean", WI_DTYPE_F32, 1, shape, 0.0)) < 0 ||
        (rc = add_filled(b, n, 1, "running_var", WI_DTYPE_F32, 1, shape, 1.0)) < 0)
        return rc;
    return add_filled(b, n, 1, "num_batches_tracked", WI_DTYPE_I64, 0, NULL, 0.0);
}

static int build_groupnorm(struct layer_build *b)
{
    if (b->v[1].i % b->v[0].i != 0)
        return wi_priv_layer_fail(b, WI_EINVAL, "num_groups", "%s",
                       "num_channels must be divisible by num_groups");
    int64_t shape[1] = {b->v[1].i};
    return add_affine(b, "num_channels", (int)b->v[3].i, 1, shape);
}

static int build_layernorm(struct layer_build *b)
{
    return add_affine(b, "normalized_shape", (int)b->v[2].i, b->v[0].n, b->v[0].v);
}

/* Embedding and EmbeddingBag: weight normal_(0, 1), then the
 * padding_idx row (argument `pad`) zeroed. */
static int embedding_common(struct layer_build *b, int pad_index)
{
    int64_t num = b->v[0].i, dim = b->v[1].i, pad = b->v[pad_index].i;
    int has_pad = !b->v[pad_index].is_null;
    if (has_pad && (pad >= num || pad < -num))
        return wi_priv_layer_fail(b, WI_EINVAL, "padding_idx", "%s",
                       "padding_idx must be within num_embeddings");
    if (has_pad && pad < 0)
        pad += num;
    int64_t shape[2] = {num, dim};
    static const int sizes[] = {0, 1};
    wi_tensor_t *w = NULL;
    int rc = add_param_new(b, largest(b, 2, sizes), "weight", 2, shape, &w);
    if (rc < 0)
        return rc;
    rc = wi_priv_reset_embedding(w, has_pad ? pad : -1, b->g, b->err);
    if (rc < 0 && b->err && !b->err->path[0]) {
        char why[WI_ERROR_TEXT_LENGTH];
        snprintf(why, sizeof why, "%s", b->err->text);
        return wi_priv_layer_fail(b, rc, "padding_idx",
                       "zeroing the padding_idx row computes the whole "
                       "weight in memory: %s", why);
    }
    return rc;
}

static int build_embedding(struct layer_build *b) { return embedding_common(b, 2); }

static int build_embedding_bag(struct layer_build *b) { return embedding_common(b, 8); }

/* _InstanceNorm is a _NormBase as _BatchNorm is, with other defaults. */
static int build_instancenorm(struct layer_build *b) { return build_batchnorm(b); }

/* nn.RMSNorm (torch 2.4): weight ones, no bias. */
static int build_rmsnorm(struct layer_build *b)
{
    if (!b->v[2].i)
        return add_param(b, "weight", NULL);
    return add_filled(b, "normalized_shape", 0, "weight", WI_DTYPE_F32, b->v[0].n,
                      b->v[0].v, 1.0);
}

/* nn.PReLU: weight (num_parameters,) filled with init. */
static int build_prelu(struct layer_build *b)
{
    int64_t shape[1] = {b->v[0].i};
    return add_filled(b, "num_parameters", 0, "weight", WI_DTYPE_F32, 1, shape,
                      b->v[1].d);
}

/* nn.Bilinear: weight (out, in1, in2), bias (out), both uniform within
 * 1/sqrt(in1_features). */
static int build_bilinear(struct layer_build *b)
{
    int64_t ws[3] = {b->v[2].i, b->v[0].i, b->v[1].i}, bs[1] = {b->v[2].i};
    static const int sizes[] = {0, 1, 2};
    wi_tensor_t *w = NULL, *bias = NULL;
    int rc = add_param_new(b, largest(b, 3, sizes), "weight", 3, ws, &w);
    if (rc == 0)
        rc = b->v[3].i ? add_param_new(b, "out_features", "bias", 1, bs, &bias)
                       : add_param(b, "bias", NULL);
    return rc < 0 ? rc : wi_priv_reset_bilinear(w, bias, b->g, b->err);
}

/* Hugging Face's Conv1D: weight (nx, nf) registered, bias zeros (nf),
 * then normal_(weight, std=0.02). */
static int build_hf_conv1d(struct layer_build *b)
{
    int64_t ws[2] = {b->v[1].i, b->v[0].i}, bs[1] = {b->v[0].i};
    static const int sizes[] = {0, 1};
    wi_tensor_t *w = NULL, *bias = NULL;
    int rc = add_param_new(b, largest(b, 2, sizes), "weight", 2, ws, &w);
    if (rc == 0)
        rc = add_param_new(b, "nf", "bias", 1, bs, &bias);
    return rc < 0 ? rc : wi_normal_(w, b->g, 0.0, 0.02, b->err);
}

/* nn.MultiheadAttention: out_proj (a Linear) draws at construction, then
 * _reset_parameters re-initialises the projections (torch-rng.md §8). */
static int mha_params(struct layer_build *b, int64_t e, int64_t kdim,
                      int64_t vdim, wi_tensor_t *w[3], wi_tensor_t **in_bias,
                      wi_tensor_t *bias_kv[2])
{
    int same = kdim == e && vdim == e, rc;
    int64_t e3;
    if (__builtin_mul_overflow(e, 3, &e3))
        return wi_priv_layer_fail(b, WI_EINVAL, "embed_dim", "%s",
                       "in_proj_weight and in_proj_bias have 3 * embed_dim "
                       "rows, more than 2^63");
    if (same) {
        int64_t s[2] = {e3, e};
        if ((rc = add_param_new(b, "embed_dim", "in_proj_weight", 2, s, &w[0])) < 0)
            return rc;
    } else {
        int64_t q[2] = {e, e}, k[2] = {e, kdim}, v[2] = {e, vdim};
        const char *kblame = kdim > e ? "kdim" : "embed_dim";
        const char *vblame = vdim > e ? "vdim" : "embed_dim";
        if ((rc = add_param_new(b, "embed_dim", "q_proj_weight", 2, q, &w[0])) < 0 ||
            (rc = add_param_new(b, kblame, "k_proj_weight", 2, k, &w[1])) < 0 ||
            (rc = add_param_new(b, vblame, "v_proj_weight", 2, v, &w[2])) < 0)
            return rc;
    }
    int64_t bs[1] = {e3}, kv[3] = {1, 1, e};
    if (b->v[3].i &&
        (rc = add_param_new(b, "embed_dim", "in_proj_bias", 1, bs, in_bias)) < 0)
        return rc;
    if (b->v[4].i &&
        ((rc = add_param_new(b, "embed_dim", "bias_k", 3, kv, &bias_kv[0])) < 0 ||
         (rc = add_param_new(b, "embed_dim", "bias_v", 3, kv, &bias_kv[1])) < 0))
        return rc;
    return 0;
}

/* out_proj is NonDynamicallyQuantizableLinear(e, e, bias): a Linear
 * subclass, so its own default init draws before _reset_parameters. */
static int new_out_proj(struct layer_build *b, int64_t e, int bias,
                        wi_module_t **out)
{
    wi_module_t *m = wi_priv_module_new_static("NonDynamicallyQuantizableLinear", 0);
    if (!m)
        return wi_error_set(b->err, WI_ENOMEM, b->source, b->path, "out of memory");
    struct arg_val v[3];
    memset(v, 0, sizeof v);
    v[0].i = e;
    v[1].i = e;
    v[2].i = bias;
    char path[WI_PATH_MAX];
    wi_priv_path_key(path, sizeof path, b->path, "out_proj");
    struct layer_build lb = {m, linear_args, v, 0, b->g, b->source, path, b->err};
    int rc = wi_priv_module_add_base_static(m, "Linear", b->err);
    if (rc == 0)
        rc = build_linear(&lb);
    if (rc == 0)
        rc = wi_module_add_child_new(b->m, "out_proj", m, b->err);
    else
        wi_module_free(m);
    *out = rc == 0 ? m : NULL;
    return rc;
}

static int build_mha(struct layer_build *b)
{
    int64_t e = b->v[0].i;
    int64_t kdim = b->v[6].is_null ? e : b->v[6].i;
    int64_t vdim = b->v[7].is_null ? e : b->v[7].i;
    if (e % b->v[1].i != 0)
        return wi_priv_layer_fail(b, WI_EINVAL, "num_heads", "%s",
                       "embed_dim must be divisible by num_heads");
    if (kdim < 0 || vdim < 0)
        return wi_priv_layer_fail(b, WI_EINVAL, kdim < 0 ? "kdim" : "vdim", "%s",
                       "expected a non-negative int or null");
    wi_tensor_t *w[3] = {NULL, NULL, NULL}, *in_bias = NULL;
    wi_tensor_t *bias_kv[2] = {NULL, NULL};
    int rc = mha_params(b, e, kdim, vdim, w, &in_bias, bias_kv);
    if (rc < 0)
        return rc;
    wi_module_t *out = NULL;
    if ((rc = new_out_proj(b, e, (int)b->v[3].i, &out)) < 0)
        return rc;
    return wi_priv_reset_mha(w, in_bias, wi_module_find_parameter(out, "bias"),
                             bias_kv, b->g, b->err);
}

wi_module_t *wi_layer_new(const char *type, const wi_value_t *args_v,
                          wi_context_t *ctx, const char *source,
                          const char *path, wi_error_t *err)
{
    const json_t *args = (const json_t *)args_v;
    const struct layer_def *def = find_layer(type);
    if (!def) {
        wi_error_set(err, WI_ENOTFOUND, source, path,
                     "'%s' is not a built-in layer type", type);
        return NULL;
    }
    struct parse p = {source, path ? path : "", err};
    struct arg_val vals[16];
    json_t *kept = json_object();
    wi_module_t *m = wi_priv_module_new_static(def->type, 0);
    int rc = kept && m ? 0 : wi_error_set(err, WI_ENOMEM, source, path, "out of memory");
    if (rc == 0 && !json_is_object(args))
        rc = bad_arg(&p, "", args, "an object of constructor arguments");
    if (rc == 0)
        rc = parse_args(&p, def, args, vals, kept);
    if (rc == 0)
        rc = wi_priv_module_add_base_static(m, def->base, err);
    if (rc == 0) {
        struct layer_build b = {m, def->args, vals, def->spatial,
                                wi_context_generator(ctx), source, p.path, err};
        rc = def->build(&b);
    }
    if (rc < 0) {
        json_decref(kept);
        wi_module_free(m);
        return NULL;
    }
    wi_module_set_args_new(m, (wi_value_t *)wi_priv_context_share_args(ctx, kept));
    return m;
}
