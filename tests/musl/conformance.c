/* The RNG and layer conformance checks (tests/test_rng.c and
 * tests/test_layers.c: 570 torch 1.13 outputs per profile) without
 * jansson, Check or nettle, so they can be built against another C
 * library (musl, run.sh) and prove that no value depends on glibc.
 *
 *   conformance DATA.txt PROFILE     (PROFILE: avx2 or default)
 *
 * DATA.txt is tests/musl/data/<profile>.txt (convert_golden.py).  Prints
 * "N/M outputs bit-exact" and exits 0 only when all M match. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/init.h>
#include <weightinit/rng.h>
#include <weightinit/tensor.h>

#include "model/layer_reset.h"
#include "sha256.h"

#define MAX_OPS 64
#define MAX_NAMED 8

/* One output of an op: a named tensor's little-endian bytes. */
typedef struct {
    char name[32];
    unsigned char *bytes;
    size_t size;
    int64_t shape[WI_MAX_DIMS];
    int ndim;
    const char *dtype;
} named_t;

typedef struct {
    named_t out[MAX_NAMED];
    int n;
} op_result_t;

static int fail(const char *what, int line)
{
    fprintf(stderr, "conformance: line %d: %s\n", line, what);
    exit(2);
}

static void keep(op_result_t *r, const char *name, const wi_tensor_t *t)
{
    if (r->n == MAX_NAMED)
        fail("too many outputs for one op", 0);
    named_t *o = &r->out[r->n++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->ndim = wi_tensor_ndim(t);
    memcpy(o->shape, wi_tensor_shape(t), sizeof(int64_t) * (size_t)o->ndim);
    size_t width = wi_dtype_size(wi_tensor_dtype(t));
    o->dtype = wi_tensor_dtype(t) == WI_DTYPE_I64 ? "int64" : "float32";
    o->size = (size_t)wi_tensor_nbytes(t);
    o->bytes = malloc(o->size + 1);
    const unsigned char *src = wi_tensor_const_data(t);
    /* Little-endian whatever the host: the golden sha256 is of LE bytes. */
    for (size_t i = 0; i < o->size; i += width) {
        uint64_t v = 0;
        memcpy(&v, src + i, width); /* host order into the low bytes */
        if (width == 4) {
            uint32_t u;
            memcpy(&u, src + i, 4);
            v = u;
        }
        for (size_t b = 0; b < width; b++)
            o->bytes[i + b] = (unsigned char)(v >> (8 * b));
    }
}

static wi_tensor_t *new_tensor(wi_dtype_t dtype, int ndim, const int64_t *shape)
{
    wi_error_t err;
    wi_tensor_t *t = wi_tensor_new(dtype, ndim, shape, &err);
    if (!t)
        fail(err.text, 0);
    return t;
}

/* "NDIM D0 D1 ..." */
static int read_shape(char **save, int64_t *shape)
{
    int ndim = atoi(strtok_r(NULL, " ", save));
    for (int i = 0; i < ndim; i++)
        shape[i] = strtoll(strtok_r(NULL, " ", save), NULL, 10);
    return ndim;
}

static double read_double(char **save)
{
    return strtod(strtok_r(NULL, " ", save), NULL);
}

static void check(int rc, const wi_error_t *err)
{
    if (rc < 0)
        fail(err->text, 0);
}

static void tensor_op(const char *name, char **save, wi_generator_t *g,
                      op_result_t *r)
{
    int64_t shape[WI_MAX_DIMS];
    wi_error_t err;
    if (strcmp(name, "random_int64") == 0) {
        int64_t n = strtoll(strtok_r(NULL, " ", save), NULL, 10);
        wi_tensor_t *t = new_tensor(WI_DTYPE_I64, 1, &n);
        int64_t *d = wi_tensor_data(t);
        for (int64_t i = 0; i < n; i++) /* random64 mod 2^63 */
            d[i] = (int64_t)(wi_generator_random64(g) & (UINT64_MAX >> 1));
        keep(r, "out", t);
        wi_tensor_free(t);
        return;
    }
    int ndim = read_shape(save, shape);
    wi_tensor_t *t = new_tensor(WI_DTYPE_F32, ndim, shape);
    int rc;
    if (strcmp(name, "uniform_") == 0) {
        double a = read_double(save), b = read_double(save);
        rc = wi_uniform_(t, g, a, b, &err);
    } else if (strcmp(name, "normal_") == 0) {
        double m = read_double(save), s = read_double(save);
        rc = wi_normal_(t, g, m, s, &err);
    } else if (strcmp(name, "trunc_normal_") == 0) {
        double m = read_double(save), s = read_double(save);
        double a = read_double(save), b = read_double(save);
        rc = wi_trunc_normal_(t, g, m, s, a, b, &err);
    } else if (strcmp(name, "xavier_uniform_") == 0) {
        rc = wi_xavier_uniform_(t, g, read_double(save), &err);
    } else if (strcmp(name, "xavier_normal_") == 0) {
        rc = wi_xavier_normal_(t, g, read_double(save), &err);
    } else {
        double a = read_double(save);
        const char *mode = strtok_r(NULL, " ", save);
        const char *nl = strtok_r(NULL, " ", save);
        if (strcmp(name, "kaiming_uniform_") == 0)
            rc = wi_kaiming_uniform_(t, g, a, mode, nl, &err);
        else if (strcmp(name, "kaiming_normal_") == 0)
            rc = wi_kaiming_normal_(t, g, a, mode, nl, &err);
        else
            fail(name, 0);
    }
    check(rc, &err);
    keep(r, "out", t);
    wi_tensor_free(t);
}

/* Parameters and buffers of the layer types in layers.json, made in
 * PyTorch's shapes and initialised by model/layer_reset.c (the draws) or
 * nn.init constants (the norm layers), as core/model/layers.c does. */
static wi_tensor_t *f32(int ndim, const int64_t *shape)
{
    return new_tensor(WI_DTYPE_F32, ndim, shape);
}

static void filled(op_result_t *r, const char *name, wi_dtype_t dtype,
                   int ndim, const int64_t *shape, double v)
{
    wi_error_t err;
    wi_tensor_t *t = new_tensor(dtype, ndim, shape);
    if (v != 0.0)
        check(wi_constant_(t, v, &err), &err);
    keep(r, name, t);
    wi_tensor_free(t);
}

static void keep_free(op_result_t *r, const char *name, wi_tensor_t *t)
{
    if (t) {
        keep(r, name, t);
        wi_tensor_free(t);
    }
}

static void layer_mha(char **save, wi_generator_t *g, op_result_t *r)
{
    wi_error_t err;
    int64_t e = strtoll(strtok_r(NULL, " ", save), NULL, 10);
    (void)strtok_r(NULL, " ", save); /* num_heads: no parameter depends on it */
    int bias = atoi(strtok_r(NULL, " ", save));
    int kv = atoi(strtok_r(NULL, " ", save));
    int64_t kdim = strtoll(strtok_r(NULL, " ", save), NULL, 10);
    int64_t vdim = strtoll(strtok_r(NULL, " ", save), NULL, 10);
    wi_tensor_t *w[3] = {NULL, NULL, NULL}, *in_bias = NULL, *bkv[2] = {NULL, NULL};
    int same = kdim == e && vdim == e;
    if (same) {
        int64_t s[2] = {3 * e, e};
        w[0] = f32(2, s);
    } else {
        int64_t q[2] = {e, e}, k[2] = {e, kdim}, v[2] = {e, vdim};
        w[0] = f32(2, q);
        w[1] = f32(2, k);
        w[2] = f32(2, v);
    }
    int64_t bs[1] = {3 * e}, kvs[3] = {1, 1, e}, os[2] = {e, e}, ob[1] = {e};
    if (bias)
        in_bias = f32(1, bs);
    if (kv) {
        bkv[0] = f32(3, kvs);
        bkv[1] = f32(3, kvs);
    }
    wi_tensor_t *out_w = f32(2, os), *out_b = bias ? f32(1, ob) : NULL;
    check(wi_priv_reset_linear_like(out_w, out_b, 1, g, &err), &err);
    check(wi_priv_reset_mha(w, in_bias, out_b, bkv, g, &err), &err);
    if (same) {
        keep_free(r, "in_proj_weight", w[0]);
    } else {
        keep_free(r, "q_proj_weight", w[0]);
        keep_free(r, "k_proj_weight", w[1]);
        keep_free(r, "v_proj_weight", w[2]);
    }
    keep_free(r, "in_proj_bias", in_bias);
    keep_free(r, "bias_k", bkv[0]);
    keep_free(r, "bias_v", bkv[1]);
    keep_free(r, "out_proj.weight", out_w);
    keep_free(r, "out_proj.bias", out_b);
}

static void layer_op(const char *type, char **save, wi_generator_t *g,
                     op_result_t *r)
{
    wi_error_t err;
    int64_t a = 0, b = 0, shape[WI_MAX_DIMS];
    if (strcmp(type, "MultiheadAttention") == 0) {
        layer_mha(save, g, r);
        return;
    }
    if (strcmp(type, "LayerNorm") == 0) {
        int ndim = read_shape(save, shape);
        filled(r, "weight", WI_DTYPE_F32, ndim, shape, 1.0);
        filled(r, "bias", WI_DTYPE_F32, ndim, shape, 0.0);
        return;
    }
    a = strtoll(strtok_r(NULL, " ", save), NULL, 10);
    if (strcmp(type, "BatchNorm2d") == 0) {
        filled(r, "weight", WI_DTYPE_F32, 1, &a, 1.0);
        filled(r, "bias", WI_DTYPE_F32, 1, &a, 0.0);
        filled(r, "running_mean", WI_DTYPE_F32, 1, &a, 0.0);
        filled(r, "running_var", WI_DTYPE_F32, 1, &a, 1.0);
        filled(r, "num_batches_tracked", WI_DTYPE_I64, 0, NULL, 0.0);
        return;
    }
    b = strtoll(strtok_r(NULL, " ", save), NULL, 10);
    if (strcmp(type, "GroupNorm") == 0) {
        filled(r, "weight", WI_DTYPE_F32, 1, &b, 1.0);
        filled(r, "bias", WI_DTYPE_F32, 1, &b, 0.0);
        return;
    }
    if (strcmp(type, "Embedding") == 0) {
        const char *p = strtok_r(NULL, " ", save);
        int64_t pad = strcmp(p, "none") == 0 ? -1 : strtoll(p, NULL, 10);
        if (strcmp(p, "none") != 0 && pad < 0)
            pad += a;
        int64_t s[2] = {a, b};
        wi_tensor_t *w = f32(2, s);
        check(wi_priv_reset_embedding(w, pad, g, &err), &err);
        keep_free(r, "weight", w);
        return;
    }
    int64_t ws[2 + 3], bs[1];
    int ndim = 2, bias_always = 1;
    if (strcmp(type, "Linear") == 0) {
        ws[0] = b;
        ws[1] = a;
        bs[0] = b;
    } else { /* Conv2d: (out, in/groups, k); ConvTranspose2d: (in, out/groups, k) */
        int64_t k[WI_MAX_DIMS];
        int nk = read_shape(save, k);
        int64_t groups = strtoll(strtok_r(NULL, " ", save), NULL, 10);
        int transposed = strcmp(type, "ConvTranspose2d") == 0;
        if (!transposed && strcmp(type, "Conv2d") != 0)
            fail(type, 0);
        ws[0] = transposed ? a : b;
        ws[1] = (transposed ? b : a) / groups;
        for (int i = 0; i < nk; i++)
            ws[2 + i] = k[i];
        ndim = 2 + nk;
        bs[0] = b;
        bias_always = 0;
    }
    int has_bias = atoi(strtok_r(NULL, " ", save));
    wi_tensor_t *w = f32(ndim, ws), *bias = has_bias ? f32(1, bs) : NULL;
    check(wi_priv_reset_linear_like(w, bias, bias_always, g, &err), &err);
    keep_free(r, "weight", w);
    keep_free(r, "bias", bias);
}

static void free_results(op_result_t *res, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < res[i].n; k++)
            free(res[i].out[k].bytes);
        res[i].n = 0;
    }
}

/* "out OPINDEX NAME DTYPE NDIM D... NUMEL SHA" against what op OPINDEX made. */
static int check_out(char **save, op_result_t *res, int n_ops,
                     const char *file, const char *kase)
{
    int idx = atoi(strtok_r(NULL, " ", save));
    const char *name = strtok_r(NULL, " ", save);
    const char *dtype = strtok_r(NULL, " ", save);
    int64_t shape[WI_MAX_DIMS];
    int ndim = read_shape(save, shape);
    (void)strtok_r(NULL, " ", save); /* numel: implied by the shape */
    const char *sha = strtok_r(NULL, " \n", save);
    const named_t *o = NULL;
    for (int k = 0; idx >= 0 && idx < n_ops && k < res[idx].n; k++)
        if (strcmp(res[idx].out[k].name, name) == 0)
            o = &res[idx].out[k];
    if (!o) {
        fprintf(stderr, "%s %s: op %d produced no '%s'\n", file, kase, idx, name);
        return 0;
    }
    char hex[65];
    wi_musl_sha256_hex(o->bytes, o->size, hex);
    int ok = strcmp(o->dtype, dtype) == 0 && o->ndim == ndim &&
             memcmp(o->shape, shape, sizeof(int64_t) * (size_t)ndim) == 0 &&
             strcmp(hex, sha) == 0;
    if (!ok)
        fprintf(stderr, "%s %s: op %d '%s' differs from torch\n", file, kase,
                idx, name);
    return ok;
}

int main(int argc, char **argv)
{
    wi_rng_profile_t profile;
    if (argc != 3 || wi_rng_profile_from_name(argv[2], &profile, NULL) < 0) {
        fprintf(stderr, "usage: conformance DATA.txt avx2|default\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    static op_result_t res[MAX_OPS];
    char line[1024], file[64] = "", kase[256] = "";
    int n_ops = 0, present = 0, matched = 0, lineno = 0;
    wi_generator_t *g = wi_generator_new(0, profile);
    while (fgets(line, sizeof line, in)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL, *word = strtok_r(line, " ", &save);
        if (!word || word[0] == '#')
            continue;
        if (strcmp(word, "file") == 0) {
            snprintf(file, sizeof file, "%s", strtok_r(NULL, " ", &save));
        } else if (strcmp(word, "case") == 0) {
            snprintf(kase, sizeof kase, "%s", strtok_r(NULL, " ", &save));
            n_ops = 0;
        } else if (strcmp(word, "seed") == 0) {
            wi_generator_manual_seed(g, strtoull(strtok_r(NULL, " ", &save), NULL, 10));
            n_ops++;
        } else if (strcmp(word, "op") == 0 || strcmp(word, "layer") == 0) {
            if (n_ops == MAX_OPS)
                fail("too many ops in a case", lineno);
            const char *name = strtok_r(NULL, " ", &save);
            if (word[0] == 'o')
                tensor_op(name, &save, g, &res[n_ops]);
            else
                layer_op(name, &save, g, &res[n_ops]);
            n_ops++;
        } else if (strcmp(word, "out") == 0) {
            present++;
            matched += check_out(&save, res, n_ops, file, kase);
        } else if (strcmp(word, "end") == 0) {
            free_results(res, n_ops);
        } else {
            fail("unknown record", lineno);
        }
    }
    fclose(in);
    wi_generator_free(g);
    printf("%s (profile %s): %d/%d outputs bit-exact\n", argv[1], argv[2],
           matched, present);
    return matched == present && present > 0 ? 0 : 1;
}
