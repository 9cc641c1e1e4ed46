/* An example initializer plugin, built the way a user builds one: a single
 * .c file that includes only <weightinit/plugin.h> and calls weightinit
 * through the host table (no libweightinit, no jansson at link time).
 *
 * "Orthogonal" is torch.nn.init.orthogonal_(weight, gain) wrapped as an
 * MMEngine initializer (MMEngine has none): OrthogonalInit(gain=1, bias=0,
 * bias_prob=None, layer=None) fills a module's weight with a (semi-)
 * orthogonal matrix and its bias with `bias`.
 *
 *   cc -shared -fPIC -fvisibility=hidden -I<prefix>/include \
 *      orthogonal.c -o wi_orthogonal.so -lm
 *
 * The random part is PyTorch's to the bit: the same normal_(0, 1) draws on
 * a fresh rows x cols tensor.  torch then runs LAPACK's float32 QR; this
 * file runs a Householder QR in double, so the values agree with torch's to
 * about 1e-6 (LAPACK builds do not agree with each other any better). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <weightinit/plugin.h>

typedef struct orthogonal {
    double gain;
    double bias;
    char *info; /* "OrthogonalInit: gain=1, bias=0" */
} orthogonal_t;

/* Room for Python's str() of a number ("-4.59511985013459"). */
#define REPR_SIZE 40

static void destroy(void *self_)
{
    orthogonal_t *self = self_;
    if (self)
        free(self->info);
    free(self);
}

static const char *info(void *self)
{
    return ((orthogonal_t *)self)->info;
}

/* What a non-number value is, for "got ..." in messages. */
static const char *describe(const wi_host_t *host, const wi_value_t *v)
{
    switch (host->value_kind(v)) {
    case WI_VALUE_STRING: return "a string";
    case WI_VALUE_TRUE:
    case WI_VALUE_FALSE: return "a bool";
    case WI_VALUE_NULL: return "null";
    case WI_VALUE_ARRAY: return "a list";
    default: return "an object";
    }
}

static void *create(const wi_host_t *host, const wi_value_t *args,
                    const wi_init_base_t *base, const char *source,
                    const char *path, wi_error_t *err)
{
    static const char *const keys[] = {"gain", NULL};
    char gain_repr[REPR_SIZE] = "1";
    double gain = 1.0;

    if (host->check_keys(args, keys, "Orthogonal", source, path, err) < 0)
        return NULL;
    const wi_value_t *v = host->value_get(args, "gain");
    if (v) {
        wi_value_kind_t kind = host->value_kind(v);
        if (kind != WI_VALUE_INTEGER && kind != WI_VALUE_REAL) {
            char at[WI_ERROR_PATH_LENGTH];
            snprintf(at, sizeof at, "%s%sgain", path ? path : "",
                     path && *path ? "." : "");
            host->error_set(err, WI_EINVAL, source, at,
                            "Orthogonal: gain must be a number, got %s",
                            describe(host, v));
            return NULL;
        }
        gain = host->value_number(v);
        host->value_repr(v, gain_repr, sizeof gain_repr);
    }

    orthogonal_t *self = calloc(1, sizeof *self);
    size_t size = sizeof "OrthogonalInit: gain=, bias=" + sizeof gain_repr +
                  sizeof base->bias_repr;
    if (self)
        self->info = malloc(size);
    if (!self || !self->info) {
        destroy(self);
        host->error_set(err, WI_ENOMEM, source, path, "out of memory");
        return NULL;
    }
    snprintf(self->info, size, "OrthogonalInit: gain=%s, bias=%s", gain_repr,
             base->bias_repr);
    self->gain = gain;
    self->bias = base->bias;
    return self;
}

/* Reduced QR of the m x n matrix a (row-major, m >= n) by Householder
 * reflections in double.  a is overwritten (the reflectors stay below its
 * diagonal), q (m x n) receives Q and diag[j] R[j][j]; v and beta (n each)
 * are scratch.  A column that is zero from the diagonal down gets no
 * reflection and R[j][j] = 0, as in LAPACK's geqrf. */
static void householder_qr(double *a, int64_t m, int64_t n, double *q,
                           double *diag, double *v, double *beta)
{
    for (int64_t j = 0; j < n; j++) {
        double norm = 0.0;
        for (int64_t i = j; i < m; i++)
            norm += a[i * n + j] * a[i * n + j];
        norm = sqrt(norm);
        if (norm == 0.0) {
            diag[j] = v[j] = beta[j] = 0.0;
            continue;
        }
        /* H = I - beta u u^T with u = x - alpha e1 maps x to alpha e1;
         * alpha takes the sign opposite to x0, so x0 - alpha never cancels. */
        double x0 = a[j * n + j];
        double alpha = x0 >= 0.0 ? -norm : norm;
        double u0 = x0 - alpha, utu = u0 * u0;
        for (int64_t i = j + 1; i < m; i++)
            utu += a[i * n + j] * a[i * n + j];
        v[j] = u0;
        beta[j] = 2.0 / utu;
        diag[j] = alpha;
        for (int64_t k = j + 1; k < n; k++) {
            double s = u0 * a[j * n + k];
            for (int64_t i = j + 1; i < m; i++)
                s += a[i * n + j] * a[i * n + k];
            s *= beta[j];
            a[j * n + k] -= s * u0;
            for (int64_t i = j + 1; i < m; i++)
                a[i * n + k] -= s * a[i * n + j];
        }
    }
    /* Q = H_0 H_1 ... H_{n-1} [I; 0], applying the last reflector first. */
    for (int64_t i = 0; i < m; i++)
        for (int64_t k = 0; k < n; k++)
            q[i * n + k] = i == k ? 1.0 : 0.0;
    for (int64_t j = n - 1; j >= 0; j--) {
        if (beta[j] == 0.0)
            continue;
        for (int64_t k = 0; k < n; k++) {
            double s = v[j] * q[j * n + k];
            for (int64_t i = j + 1; i < m; i++)
                s += a[i * n + j] * q[i * n + k];
            s *= beta[j];
            q[j * n + k] -= s * v[j];
            for (int64_t i = j + 1; i < m; i++)
                q[i * n + k] -= s * a[i * n + j];
        }
    }
}

/* torch.nn.init.orthogonal_(w, gain) (torch/nn/init.py). */
static int orthogonal_(const wi_host_t *host, wi_tensor_t *w, const char *name,
                       const char *module, wi_generator_t *g, double gain,
                       wi_error_t *err)
{
    int ndim = host->tensor_ndim(w);
    if (ndim < 2)
        return host->error_set(err, WI_EINVAL, NULL, NULL,
                               "Only tensors with 2 or more dimensions are "
                               "supported: '%s' of %s has %d dimension%s",
                               name, module, ndim, ndim == 1 ? "" : "s");
    int64_t numel = host->tensor_numel(w);
    if (numel == 0)
        return 0; /* no-op, no draws */
    int64_t rows = host->tensor_shape(w)[0], cols = numel / rows;

    /* flattened = tensor.new(rows, cols).normal_(0, 1): a fresh contiguous
     * tensor, so normal_ takes the fill path for >= 16 elements and the
     * per-element path (with the generator's cached normal) below. */
    const int64_t shape[2] = {rows, cols};
    wi_tensor_t *flat = host->tensor_new(WI_DTYPE_F32, 2, shape, err);
    if (!flat)
        return err && err->code ? err->code : WI_ENOMEM;
    int rc = host->normal_(flat, g, 0.0, 1.0, err);
    if (rc < 0) {
        host->tensor_free(flat);
        return rc;
    }

    /* if rows < cols: flattened.t_(), so the QR always sees a tall m x n. */
    int wide = rows < cols;
    int64_t m = wide ? cols : rows, n = wide ? rows : cols;
    /* 2 m n + 3 n doubles; a product that overflows size_t is a size no
     * malloc could give either. */
    size_t count, bytes;
    int too_big = __builtin_mul_overflow((size_t)m, (size_t)n, &count) ||
                  __builtin_mul_overflow(count, (size_t)2, &count) ||
                  __builtin_add_overflow(count, 3 * (size_t)n, &count) ||
                  __builtin_mul_overflow(count, sizeof(double), &bytes);
    double *a = too_big ? NULL : malloc(bytes);
    const float *x = a ? host->tensor_data(flat) : NULL;
    if (!x) {
        free(a);
        host->tensor_free(flat);
        return host->error_set(err, WI_ENOMEM, NULL, NULL,
                               "out of memory for the QR of '%s' of %s "
                               "(%lld x %lld)", name, module, (long long)m,
                               (long long)n);
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            a[wide ? c * n + r : r * n + c] = x[r * cols + c];
    host->tensor_free(flat);

    double *q = a + m * n, *diag = q + m * n;
    householder_qr(a, m, n, q, diag, diag + n, diag + 2 * n);

    /* q *= sign(diag(r)) column-wise (sign(0) = 0 zeroes the column), then
     * transpose back, copy into w (torch's float32 Q rounded once) and
     * w.mul_(gain): a float multiply by float(gain), as ATen does. */
    float *out = host->tensor_data(w);
    if (!out) {
        free(a);
        return host->error_set(err, WI_ENOMEM, NULL, NULL,
                               "out of memory for the values of '%s' of %s",
                               name, module);
    }
    const float fgain = (float)gain;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            int64_t i = wide ? c : r, j = wide ? r : c;
            double s = diag[j] > 0.0 ? 1.0 : diag[j] < 0.0 ? -1.0 : 0.0;
            out[r * cols + c] = (float)(q[i * n + j] * s) * fgain;
        }
    free(a);
    host->tensor_bump_version(w);
    return 0;
}

static int init_module(void *self_, const wi_host_t *host, wi_module_t *m,
                       wi_context_t *ctx, wi_error_t *err)
{
    const orthogonal_t *self = self_;
    wi_tensor_t *w = host->module_find_parameter(m, "weight");
    wi_tensor_t *b = host->module_find_parameter(m, "bias");
    int rc = 0;
    if (w)
        rc = orthogonal_(host, w, "weight", host->module_type(m),
                         host->context_generator(ctx), self->gain, err);
    if (rc == 0 && b)
        rc = host->constant_(b, self->bias, err);
    return rc;
}

static const wi_initializer_type_t orthogonal_type = {
    sizeof(wi_initializer_type_t), "Orthogonal", WI_INIT_BASE_ARGS, create,
    init_module, NULL, info, destroy, NULL};

static int register_types(const wi_host_t *host, wi_plugin_t *plugin,
                          wi_error_t *err)
{
    return host->register_initializer(plugin, &orthogonal_type, err);
}

WI_PLUGIN_DEFINE("orthogonal", "0.1.0", register_types)
