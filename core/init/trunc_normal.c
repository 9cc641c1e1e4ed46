/* torch.nn.init.trunc_normal_ of each torch: up to 2.11 the inverse-CDF
 * method (init.c, which MMEngine's own copy keeps using), and from 2.12
 * on, step for step
 * (torch/nn/init.py, _no_grad_trunc_normal_ of PR #174997): a rejection
 * sampler whose every round draws a full-size tensor and keeps the
 * values only where the element is still rejected.  Its draw count
 * depends on the values, so it is computed now, never recorded.
 *
 * p = P(a <= X <= b) decides the branch, in Python doubles:
 * - p > 0.3: normal_(mean, std) until every element lies in [f32(a),
 *   f32(b)];
 * - otherwise: uniform_(a, b) candidates, accepted where
 *   log(U) <= -0.5 ((x - mean) / std)^2 - log_peak, in float32 tensor
 *   arithmetic.  torch's log_ is MKL's vmsLn; here it is the correctly
 *   rounded logf (docs/torch-versions.md says how often they part). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <weightinit/init.h>

#include "init/init_internal.h"
#include "kernels/profile.h"
#include "math/wimath.h"
#include "rng/fill.h"
#include "rng/rng_internal.h"
#include "tensor/tensor_internal.h"

/* tensor.new_tensor(v).item() for float32: round to nearest, beyond the
 * range an infinity (no C conversion out of range). */
static float to_f32(double v)
{
    if (v >= 0x1.ffffffp127)
        return INFINITY;
    if (v <= -0x1.ffffffp127)
        return -INFINITY;
    return (float)v;
}

static int outside(float v, float lo, float hi) { return v < lo || v > hi; }

/* Where torch would loop forever (an interval of almost no probability,
 * e.g. [0, 1e30] for N(-10, 1)), stop with an error instead.  Real uses
 * end in tens of rounds: p > 0.3 leaves (1 - p)^r of the elements after
 * r rounds, and the p <= 0.3 branch accepts a candidate with the
 * interval's pdf over its peak. */
#define MAX_ROUNDS 100000

static int too_many_rounds(double mean, double std, double a, double b,
                           wi_error_t *err)
{
    return wi_error_set(err, WI_EINVAL, NULL, NULL,
                        "trunc_normal_(mean=%.17g, std=%.17g, a=%.17g, "
                        "b=%.17g): elements still rejected after %d rounds of "
                        "rejection sampling (torch >= 2.12 would not end); "
                        "expected an interval with more probability",
                        mean, std, a, b, MAX_ROUNDS);
}

/* p > 0.3: full-size normal_ rounds, torch.where(mask, fresh, result). */
static int reject_normal(float *out, int64_t n, wi_generator_t *g,
                         double mean, double std, double a, double b,
                         wi_error_t *err)
{
    const float lo = to_f32(a), hi = to_f32(b);
    /* Checks std before any draw. */
    int rc = wi_priv_normal_values(g, out, n, mean, std, err);
    float *fresh = NULL;
    for (int round = 1;; round++) {
        int64_t i = 0;
        while (rc == 0 && i < n && !outside(out[i], lo, hi))
            i++;
        if (rc < 0 || i == n)
            break;
        if (round == MAX_ROUNDS) {
            rc = too_many_rounds(mean, std, a, b, err);
            break;
        }
        if (!fresh && !(fresh = malloc((size_t)n * sizeof *fresh))) {
            rc = wi_error_set(err, WI_ENOMEM, NULL, NULL,
                              "trunc_normal_: out of memory");
            break;
        }
        rc = wi_priv_normal_values(g, fresh, n, mean, std, err);
        for (; rc == 0 && i < n; i++)
            if (outside(out[i], lo, hi))
                out[i] = fresh[i];
    }
    free(fresh);
    return rc;
}

/* The branch p <= 0.3's tensor arithmetic, in place:
 * candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak), each
 * Python scalar rounded to float32 first (as ATen's wrapped numbers). */
static void log_pdf(float *c, int64_t n, double mean, double std,
                    double log_peak)
{
    const float m = (float)mean, s = (float)std, lp = (float)log_peak;
    for (int64_t i = 0; i < n; i++) {
        float x = (c[i] - m) / s;
        c[i] = x * x * -0.5f - lp;
    }
}

/* accept_buf.uniform_().log_().gt(candidates) where *pending: n draws. */
static int still_pending(wi_generator_t *g, float *u, const float *cand,
                         uint8_t *pending, int64_t n, int *any,
                         wi_error_t *err)
{
    const wi_fill_t unit = {.kind = WI_FILL_UNIFORM, .from = 0.0f,
                            .range = 1.0f};
    int rc = wi_fill(g, u, n, &unit, err);
    *any = 0;
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        pending[i] = pending[i] && wi_logf_cr_u24(u[i]) > cand[i];
        *any |= pending[i];
    }
    return rc;
}

/* p <= 0.3: uniform candidates with an acceptance test. */
static int reject_uniform(float *out, int64_t n, wi_generator_t *g,
                          double mean, double std, double a, double b,
                          wi_error_t *err)
{
    const double mode = fmax(a, fmin(mean, b));
    const double z = (mode - mean) / std, log_peak = -0.5 * (z * z);
    const wi_fill_t cand_fill = {.kind = WI_FILL_UNIFORM, .from = (float)a,
                                 .range = (float)b - (float)a};
    float *cand = malloc((size_t)n * sizeof *cand);
    float *u = malloc((size_t)n * sizeof *u);
    uint8_t *pending = malloc((size_t)n);
    if (!cand || !u || !pending) {
        free(cand), free(u), free(pending);
        return wi_error_set(err, WI_ENOMEM, NULL, NULL,
                            "trunc_normal_: out of memory");
    }
    int rc = wi_fill(g, out, n, &cand_fill, err), any = 0;
    for (int64_t i = 0; i < n; i++)
        cand[i] = out[i], pending[i] = 1;
    log_pdf(cand, n, mean, std, log_peak);
    if (rc == 0)
        rc = still_pending(g, u, cand, pending, n, &any, err);
    for (int round = 1; rc == 0 && any; round++) {
        if (round == MAX_ROUNDS) {
            rc = too_many_rounds(mean, std, a, b, err);
            break;
        }
        rc = wi_fill(g, cand, n, &cand_fill, err);
        for (int64_t i = 0; rc == 0 && i < n; i++)
            if (pending[i])
                out[i] = cand[i];
        log_pdf(cand, n, mean, std, log_peak);
        if (rc == 0)
            rc = still_pending(g, u, cand, pending, n, &any, err);
    }
    free(cand), free(u), free(pending);
    return rc;
}

/* torch >= 2.12's: the checks in torch's order, then the branch. */
static int trunc_reject(wi_tensor_t *t, wi_generator_t *g, double mean,
                        double std, double a, double b, wi_error_t *err)
{
    /* Python's division by std raises at 0 (and NaN compares false). */
    if (!(std != 0.0) || isnan(mean) || isnan(a) || isnan(b))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "trunc_normal_: expected std != 0 and no NaN, "
                            "found mean=%.17g, std=%.17g, a=%.17g, b=%.17g",
                            mean, std, a, b);
    const double p = wi_priv_norm_cdf((b - mean) / std) - wi_priv_norm_cdf((a - mean) / std);
    if (!(p > 0.3)) {
        int rc = wi_priv_check_uniform_bounds(a, b, err);
        if (rc < 0)
            return rc;
    }
    float *out = wi_priv_tensor_overwrite_data(t, err);
    if (!out)
        return WI_ENOMEM;
    int64_t n = wi_tensor_numel(t);
    if (n == 0)
        return 0;
    return p > 0.3 ? reject_normal(out, n, g, mean, std, a, b, err)
                   : reject_uniform(out, n, g, mean, std, a, b, err);
}

int wi_trunc_normal_(wi_tensor_t *t, wi_generator_t *g, double mean,
                     double std, double a, double b, wi_error_t *err)
{
    if (!t || !g || !wi_profile_trunc_rejection(g->profile) ||
        wi_tensor_dtype(t) != WI_DTYPE_F32) /* its argument errors */
        return wi_priv_trunc_normal_erfinv(t, g, mean, std, a, b, err);
    int rc = trunc_reject(t, g, mean, std, a, b, err);
    if (rc == 0)
        wi_tensor_bump_version(t);
    return rc;
}
