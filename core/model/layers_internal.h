/* What the built-in layers' files share (layers.c: the table, argument
 * parsing and most layers; layers_rnn.c: the recurrent ones).  Not part
 * of the ABI. */
#ifndef WI_MODEL_LAYERS_INTERNAL_H
#define WI_MODEL_LAYERS_INTERNAL_H

#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/module.h>
#include <weightinit/rng.h>
#include <weightinit/tensor.h>

#include "base/internal.h"

enum arg_kind {
    A_SIZE,         /* int >= min */
    A_INT,          /* any int */
    A_INT_OR_NULL,  /* int or null */
    A_BOOL,
    A_FLOAT,        /* int or float */
    A_FLOAT_OR_NULL,
    A_TUPLE,        /* int or list of `spatial` ints, each >= min */
    A_PADDING,      /* A_TUPLE or "valid"/"same" */
    A_CHOICE,       /* one of choices */
    A_SHAPE         /* int or list of ints >= 0; [] is a 0-d shape */
};

struct arg_spec {
    const char *name;
    enum arg_kind kind;
    const char *dflt; /* JSON text; NULL = required */
    int64_t min;
    const char *const *choices;
};

struct arg_val {
    int is_null;
    int64_t i;
    double d;
    int64_t v[WI_MAX_DIMS];
    int n;
    const char *s; /* borrowed from the JSON value */
};

struct layer_build {
    wi_module_t *m;
    const struct arg_spec *args; /* the layer's, for error paths */
    const struct arg_val *v;
    int spatial; /* the layer_def's: conv dims, or RNN gates per unit */
    wi_generator_t *g;
    const char *source;
    const char *path;
    wi_error_t *err;
};

#define NO_CHOICES NULL

/* err = code at the node's argument arg (fmt with one %s, detail). */
WI_INTERNAL int wi_priv_layer_fail(struct layer_build *b, int code, const char *arg,
                                   const char *fmt, const char *detail);
/* A new zeroed tensor; a shape too large names the model file and the
 * argument `blame` it came from.  NULL with b->err. */
WI_INTERNAL wi_tensor_t *wi_priv_layer_tensor(struct layer_build *b, const char *blame,
                                              const char *name, wi_dtype_t dtype,
                                              int ndim, const int64_t *shape);

/* layers_rnn.c: RNN's, LSTM's and GRU's arguments, and their builder
 * (b->spatial: the gates per hidden unit). */
WI_INTERNAL extern const struct arg_spec wi_priv_rnn_args[];
WI_INTERNAL extern const struct arg_spec wi_priv_lstm_args[];
WI_INTERNAL extern const struct arg_spec wi_priv_gru_args[];
WI_INTERNAL int wi_priv_build_rnn(struct layer_build *b);

#endif
