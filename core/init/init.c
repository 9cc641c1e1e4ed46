/* torch.nn.init's primitives, bit for bit: argument checks, gains and fans
 * in Python doubles, the values through the kernels or the write plan. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <weightinit/init.h>

#include "base/pyfloat.h"
#include "init/init_internal.h"
#include "kernels/mathfun.h"
#include "kernels/profile.h"
#include "math/wimath.h"
#include "rng/fill.h"
#include "rng/rng_internal.h"
#include "tensor/record.h"
#include "tensor/tensor_internal.h"

/* Scalar arithmetic follows torch/nn/init.py in Python doubles, tensor
 * arithmetic follows the ATen CPU kernels in float; see torch-rng.md. */

int wi_priv_init_check(const wi_tensor_t *t, const wi_generator_t *g, int need_g,
                       const char *fn, wi_error_t *err)
{
    if (!t || (need_g && !g))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "%s: expected a tensor%s, got NULL", fn,
                            need_g ? " and a generator" : "");
    if (wi_tensor_dtype(t) != WI_DTYPE_F32) {
        const char *name = wi_dtype_name(wi_tensor_dtype(t));
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "%s: expected a F32 tensor, found %s", fn,
                            name ? name : "an unknown dtype");
    }
    return 0;
}

/* A write of every element: a deferred tensor's storage is not
 * computed first.  NULL with err when out of memory. */
static float *f32_overwrite(wi_tensor_t *t, wi_error_t *err)
{
    return wi_priv_tensor_overwrite_data(t, err);
}

/* A whole-tensor fill: recorded on a tensor that records (the write
 * plan, tensor.h), else computed now. */
static int fill_tensor(wi_tensor_t *t, wi_generator_t *g, const wi_fill_t *f,
                       wi_error_t *err)
{
    int64_t n = wi_tensor_numel(t);
    if (wi_priv_tensor_records(t)) {
        wi_priv_rec_t *r;
        int rc = wi_priv_rec_fill(&r, g, n, f, err);
        if (rc == 0)
            wi_priv_tensor_set_rec(t, r);
        return rc;
    }
    float *a = f32_overwrite(t, err);
    return a ? wi_fill(g, a, n, f, err) : WI_ENOMEM;
}

int wi_priv_check_uniform_bounds(double from, double to, wi_error_t *err)
{
    if (!(from >= -FLT_MAX && from <= FLT_MAX))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "uniform_: expected from within the float32 "
                            "range [-FLT_MAX, FLT_MAX], found from=%.17g",
                            from);
    if (!(to >= -FLT_MAX && to <= FLT_MAX))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "uniform_: expected to within the float32 "
                            "range [-FLT_MAX, FLT_MAX], found to=%.17g",
                            to);
    if (!(from <= to))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "uniform_ expects to return a [from, to) range, "
                            "but found from=%.17g > to=%.17g",
                            from, to);
    if (!(to - from <= FLT_MAX))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "uniform_: expected to-from <= FLT_MAX, found "
                            "to=%.17g and from=%.17g (to-from=%.17g)",
                            to, from, to - from);
    return 0;
}

static int uniform_impl(wi_tensor_t *t, wi_generator_t *g, double from,
                        double to, wi_error_t *err)
{
    int rc = wi_priv_check_uniform_bounds(from, to, err);
    if (rc < 0)
        return rc;
    wi_fill_t f = {.kind = WI_FILL_UNIFORM, .from = (float)from};
    f.range = (float)to - f.from;
    return fill_tensor(t, g, &f, err);
}

int wi_uniform_(wi_tensor_t *t, wi_generator_t *g, double from, double to,
                wi_error_t *err)
{
    int rc = wi_priv_init_check(t, g, 1, "uniform_", err);
    if (rc == 0)
        rc = uniform_impl(t, g, from, to, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

/* The per-element path's standard normal: one value of a double
 * Box-Muller pair, the other cached in the generator (normal_distribution
 * <double> in ATen's DistributionsHelper.h). */
static double standard_normal_double(wi_generator_t *g)
{
    if (g->has_next_double_normal) {
        g->has_next_double_normal = 0;
        return g->next_double_normal;
    }
    double u1 = wi_u53(wi_mt_next64(g));
    double u2 = wi_u53(wi_mt_next64(g));
    double r = sqrt(-2.0 * wi_log(1.0 - u2));
    double theta = 2.0 * M_PI * u1;
    /* torch's compiled sin/cos pair is one glibc sincos call. */
    double sn, cs;
    wi_sincos(theta, &sn, &cs);
    g->next_double_normal = r * sn;
    g->has_next_double_normal = 1;
    return r * cs;
}

static void normal_per_element(float *a, int64_t n, wi_generator_t *g,
                               double mean, double std)
{
    const int fused = wi_profile_avx2(g->profile);
    for (int64_t i = 0; i < n; i++) {
        double z = standard_normal_double(g);
        a[i] = (float)(fused ? fma(z, std, mean) : z * std + mean);
    }
}

/* normal_'s argument check, before any draw. */
static int check_std(double std, wi_error_t *err)
{
    return std >= 0.0 ? 0
                      : wi_error_set(err, WI_EINVAL, NULL, NULL,
                                     "normal_ expects std >= 0.0, but found std=%.17g",
                                     std);
}

/* normal_fill / normal_fill_AVX2: all uniforms first, then blocks of
 * 16; a ragged end redraws and retransforms the last 16. */
static wi_fill_t normal_fill(double mean, double std)
{
    return (wi_fill_t){.kind = WI_FILL_NORMAL, .mean = (float)mean, .std = (float)std};
}

int wi_priv_normal_values(wi_generator_t *g, float *a, int64_t n,
                          double mean, double std, wi_error_t *err)
{
    int rc = check_std(std, err);
    if (rc < 0)
        return rc;
    if (n >= 16) {
        wi_fill_t f = normal_fill(mean, std);
        return wi_fill(g, a, n, &f, err);
    }
    /* Values as the draws come, the cached double between them. */
    normal_per_element(a, n, g, mean, std);
    return 0;
}

static int normal_impl(wi_tensor_t *t, wi_generator_t *g, double mean,
                       double std, wi_error_t *err)
{
    int rc = check_std(std, err);
    if (rc < 0)
        return rc;
    int64_t n = wi_tensor_numel(t);
    /* Our tensors are always contiguous, so size alone picks the path:
     * blocks of 16 are recorded, the per-element path is eager. */
    if (n >= 16) {
        wi_fill_t f = normal_fill(mean, std);
        return fill_tensor(t, g, &f, err);
    }
    float *a = f32_overwrite(t, err);
    return a ? wi_priv_normal_values(g, a, n, mean, std, err) : WI_ENOMEM;
}

int wi_normal_(wi_tensor_t *t, wi_generator_t *g, double mean, double std,
               wi_error_t *err)
{
    int rc = wi_priv_init_check(t, g, 1, "normal_", err);
    if (rc == 0)
        rc = normal_impl(t, g, mean, std, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

double wi_priv_norm_cdf(double x) { return (1.0 + wi_erf(x / sqrt(2.0))) / 2.0; }

/* The last step, clamp_(min=a, max=b), converts a and b to float with
 * c10's overflow check (infinities pass).  torch raises it after drawing;
 * the error ends the run either way, so checking first draws nothing. */
static int check_clamp_bound(const char *name, double v, wi_error_t *err)
{
    char repr[40];
    if (!isfinite(v) || (v >= -FLT_MAX && v <= FLT_MAX))
        return 0;
    return wi_error_set(err, WI_EINVAL, NULL, name,
                        "trunc_normal_: %s=%s: value cannot be converted "
                        "to type float without overflow (clamp_); expected "
                        "a float32 value or an infinity",
                        name, wi_priv_format_double(v, repr, sizeof repr));
}

int wi_priv_trunc_normal_erfinv(wi_tensor_t *t, wi_generator_t *g,
                                double mean, double std, double a, double b,
                                wi_error_t *err)
{
    int rc = wi_priv_init_check(t, g, 1, "trunc_normal_", err);
    if (rc < 0)
        return rc;
    /* Python divides by std (ZeroDivisionError at 0) and a negative std
     * makes the uniform_ range empty. */
    if (!(std > 0.0))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "trunc_normal_: expected std > 0, found "
                            "std=%.17g",
                            std);
    if (!(a <= b))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "trunc_normal_: expected a <= b, found a=%.17g "
                            "> b=%.17g",
                            a, b);
    double l = wi_priv_norm_cdf((a - mean) / std);
    double u = wi_priv_norm_cdf((b - mean) / std);
    double from = 2.0 * l - 1.0, to = 2.0 * u - 1.0;
    rc = wi_priv_check_uniform_bounds(from, to, err);
    if (rc == 0)
        rc = check_clamp_bound("a", a, err);
    if (rc == 0)
        rc = check_clamp_bound("b", b, err);
    if (rc < 0)
        return rc;

    /* uniform_, erfinv_, mul_, add_, clamp_ are all elementwise in memory
     * order, so one pass gives the same values as five. */
    wi_fill_t f = {.kind = WI_FILL_TRUNC,
                   .from = (float)from,
                   .scale = (float)(std * sqrt(2.0)),
                   .shift = (float)mean,
                   .lo = (float)a,
                   .hi = (float)b};
    f.range = (float)to - f.from;
    rc = fill_tensor(t, g, &f, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

float wi_erfinv_f32(float y, wi_rng_profile_t profile)
{
    return wi_priv_erfinv_f32(y, profile);
}

int wi_constant_(wi_tensor_t *t, double val, wi_error_t *err)
{
    int rc = wi_priv_init_check(t, NULL, 0, "constant_", err);
    if (rc < 0)
        return rc;
    /* fill_ converts the Scalar with an overflow check (inf is fine). */
    if (isfinite(val) && (val < -FLT_MAX || val > FLT_MAX))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "constant_: value %.17g cannot be converted to "
                            "float32 without overflow",
                            val);
    float v = (float)val;
    int64_t n = wi_tensor_numel(t);
    if (wi_priv_tensor_records(t)) {
        wi_priv_rec_t *r = wi_priv_rec_const(n, v, err);
        if (!r)
            return WI_ENOMEM;
        wi_priv_tensor_set_rec(t, r);
    } else {
        float *a = f32_overwrite(t, err);
        if (!a)
            return WI_ENOMEM;
        for (int64_t i = 0; i < n; i++)
            a[i] = v;
    }
    wi_tensor_bump_version(t);
    return 0;
}

int wi_ones_(wi_tensor_t *t, wi_error_t *err)
{
    return wi_constant_(t, 1.0, err);
}

int wi_zeros_(wi_tensor_t *t, wi_error_t *err)
{
    return wi_constant_(t, 0.0, err);
}

static const char *const linear_gain_names[] = {
    "linear",           "conv1d",           "conv2d",
    "conv3d",           "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid",
};

int wi_calculate_gain(const char *nonlinearity, const double *param,
                      double *gain, wi_error_t *err)
{
    if (!nonlinearity)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "calculate_gain: expected a nonlinearity name, "
                            "got NULL");
    for (size_t i = 0;
         i < sizeof linear_gain_names / sizeof linear_gain_names[0]; i++) {
        if (strcmp(nonlinearity, linear_gain_names[i]) == 0) {
            *gain = 1.0;
            return 0;
        }
    }
    if (strcmp(nonlinearity, "tanh") == 0) {
        *gain = 5.0 / 3;
    } else if (strcmp(nonlinearity, "relu") == 0) {
        *gain = sqrt(2.0);
    } else if (strcmp(nonlinearity, "leaky_relu") == 0) {
        double slope = param ? *param : 0.01;
        /* Python's float ** 2 is libm pow, which is not always x * x (the
         * compiler's rewrite of pow(x, 2.0)): glibc's pow, core/math. */
        double square = wi_pow(slope, 2.0);
        /* ... and raises OverflowError when a finite base overflows (an
         * infinite one is no error: inf ** 2 is inf, the gain 0). */
        if (isinf(square) && isfinite(slope)) {
            char repr[40];
            return wi_error_set(err, WI_EINVAL, NULL, "param",
                                "calculate_gain('leaky_relu'): expected a "
                                "negative_slope whose square fits a double "
                                "(|negative_slope| < 1.3407807929942597e+154), "
                                "found %s: "
                                "torch raises OverflowError (34, 'Numerical "
                                "result out of range') at negative_slope ** 2",
                                wi_priv_format_double(slope, repr, sizeof repr));
        }
        *gain = sqrt(2.0 / (1 + square));
    } else if (strcmp(nonlinearity, "selu") == 0) {
        *gain = 3.0 / 4;
    } else {
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "Unsupported nonlinearity '%s'; expected one of "
                            "linear, conv1d, conv2d, conv3d, conv_transpose1d, "
                            "conv_transpose2d, conv_transpose3d, sigmoid, "
                            "tanh, relu, leaky_relu, selu",
                            nonlinearity);
    }
    return 0;
}

int wi_calculate_fan_in_and_fan_out(const wi_tensor_t *t, int64_t *fan_in,
                                    int64_t *fan_out, wi_error_t *err)
{
    if (!t)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "calculate_fan_in_and_fan_out: expected a "
                            "tensor, got NULL");
    int ndim = wi_tensor_ndim(t);
    const int64_t *shape = wi_tensor_shape(t);
    if (ndim < 2) {
        char buf[64];
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "Fan in and fan out can not be computed for "
                            "tensor with fewer than 2 dimensions (found "
                            "shape %s)",
                            wi_shape_format(ndim, shape, buf, sizeof buf));
    }
    /* A zero-sized dimension lets the other sizes exceed int64 together. */
    int64_t rf = 1, in, out;
    int overflow = 0;
    for (int i = 2; i < ndim; i++)
        overflow |= __builtin_mul_overflow(rf, shape[i], &rf);
    overflow |= __builtin_mul_overflow(shape[1], rf, &in);
    overflow |= __builtin_mul_overflow(shape[0], rf, &out);
    if (overflow) {
        char buf[256];
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "fan_in/fan_out of a tensor of shape %s do not "
                            "fit in 64 bits",
                            wi_shape_format(ndim, shape, buf, sizeof buf));
    }
    *fan_in = in;
    *fan_out = out;
    return 0;
}

/* _calculate_correct_fan; mode is compared lower-cased as in PyTorch. */
static int parse_mode(const char *mode, int *use_fan_in, wi_error_t *err)
{
    char low[16];
    size_t i = 0;
    for (; mode && mode[i] && i < sizeof low - 1; i++) {
        char ch = mode[i];
        low[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    low[i] = '\0';
    if (mode && !mode[i]) {
        if (strcmp(low, "fan_in") == 0) {
            *use_fan_in = 1;
            return 0;
        }
        if (strcmp(low, "fan_out") == 0) {
            *use_fan_in = 0;
            return 0;
        }
    }
    return wi_error_set(err, WI_EINVAL, NULL, NULL,
                        "Mode '%s' not supported, please use one of fan_in, "
                        "fan_out",
                        mode ? mode : "(null)");
}

static int xavier_std(const wi_tensor_t *t, double gain, const char *fn,
                      double *std, wi_error_t *err)
{
    int64_t fan_in, fan_out, sum;
    int rc = wi_calculate_fan_in_and_fan_out(t, &fan_in, &fan_out, err);
    if (rc < 0)
        return rc;
    if (__builtin_add_overflow(fan_in, fan_out, &sum) || sum == 0)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "%s: expected fan_in + fan_out > 0, found "
                            "fan_in=%lld, fan_out=%lld",
                            fn, (long long)fan_in, (long long)fan_out);
    *std = gain * sqrt(2.0 / (double)sum);
    return 0;
}

int wi_xavier_uniform_(wi_tensor_t *t, wi_generator_t *g, double gain,
                       wi_error_t *err)
{
    double std = 0.0;
    int rc = wi_priv_init_check(t, g, 1, "xavier_uniform_", err);
    if (rc == 0)
        rc = xavier_std(t, gain, "xavier_uniform_", &std, err);
    if (rc < 0)
        return rc;
    double a = sqrt(3.0) * std;
    rc = uniform_impl(t, g, -a, a, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

int wi_xavier_normal_(wi_tensor_t *t, wi_generator_t *g, double gain,
                      wi_error_t *err)
{
    double std = 0.0;
    int rc = wi_priv_init_check(t, g, 1, "xavier_normal_", err);
    if (rc == 0)
        rc = xavier_std(t, gain, "xavier_normal_", &std, err);
    if (rc < 0)
        return rc;
    rc = normal_impl(t, g, 0.0, std, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

static int has_zero_dim(const wi_tensor_t *t)
{
    const int64_t *shape = wi_tensor_shape(t);
    for (int i = 0; i < wi_tensor_ndim(t); i++)
        if (shape[i] == 0)
            return 1;
    return 0;
}

/* Sets *std, or *skip when PyTorch returns early for a zero-sized
 * dimension.  Arguments are validated first, even for such a tensor. */
static int kaiming_std(const wi_tensor_t *t, double a, const char *mode,
                       const char *nonlinearity, double *std, int *skip,
                       wi_error_t *err)
{
    int use_fan_in = 1;
    double gain = 1.0;
    int rc = parse_mode(mode, &use_fan_in, err);
    if (rc == 0)
        rc = wi_calculate_gain(nonlinearity, &a, &gain, err);
    if (rc < 0 && err && strcmp(err->path, "param") == 0)
        snprintf(err->path, sizeof err->path, "a"); /* kaiming_'s name */
    if (rc < 0)
        return rc;
    *skip = has_zero_dim(t);
    if (*skip)
        return 0;
    int64_t fan_in, fan_out;
    rc = wi_calculate_fan_in_and_fan_out(t, &fan_in, &fan_out, err);
    if (rc < 0)
        return rc;
    *std = gain / sqrt((double)(use_fan_in ? fan_in : fan_out));
    return 0;
}

int wi_kaiming_uniform_(wi_tensor_t *t, wi_generator_t *g, double a,
                        const char *mode, const char *nonlinearity,
                        wi_error_t *err)
{
    double std = 0.0;
    int skip = 0;
    int rc = wi_priv_init_check(t, g, 1, "kaiming_uniform_", err);
    if (rc == 0)
        rc = kaiming_std(t, a, mode, nonlinearity, &std, &skip, err);
    if (rc < 0 || skip)
        return rc;
    double bound = sqrt(3.0) * std;
    rc = uniform_impl(t, g, -bound, bound, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}

int wi_kaiming_normal_(wi_tensor_t *t, wi_generator_t *g, double a,
                       const char *mode, const char *nonlinearity,
                       wi_error_t *err)
{
    double std = 0.0;
    int skip = 0;
    int rc = wi_priv_init_check(t, g, 1, "kaiming_normal_", err);
    if (rc == 0)
        rc = kaiming_std(t, a, mode, nonlinearity, &std, &skip, err);
    if (rc < 0 || skip)
        return rc;
    rc = normal_impl(t, g, 0.0, std, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}
