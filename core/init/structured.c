/* nn.init's structured fills: eye_ and dirac_ (no draws) and sparse_
 * (normal_, then per column a randperm of the rows whose first entries
 * are zeroed), as torch/nn/init.py writes them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/init.h>

#include "init/init_internal.h"
#include "tensor/tensor_internal.h"

int wi_eye_(wi_tensor_t *t, wi_error_t *err)
{
    int rc = wi_priv_init_check(t, NULL, 0, "eye_", err);
    if (rc < 0)
        return rc;
    if (wi_tensor_ndim(t) != 2)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "eye_: Only tensors with 2 dimensions are supported");
    float *a = wi_priv_tensor_overwrite_data(t, err);
    if (!a)
        return WI_ENOMEM;
    int64_t rows = wi_tensor_shape(t)[0], cols = wi_tensor_shape(t)[1];
    memset(a, 0, (size_t)wi_tensor_nbytes(t));
    for (int64_t i = 0; i < rows && i < cols; i++)
        a[i * cols + i] = 1.0f;
    wi_tensor_bump_version(t);
    return 0;
}

int wi_dirac_(wi_tensor_t *t, int64_t groups, wi_error_t *err)
{
    int rc = wi_priv_init_check(t, NULL, 0, "dirac_", err);
    if (rc < 0)
        return rc;
    int nd = wi_tensor_ndim(t);
    const int64_t *s = wi_tensor_shape(t);
    if (nd < 3 || nd > 5)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "dirac_: Only tensors with 3, 4, or 5 dimensions are "
                            "supported");
    if (groups < 1 || s[0] % groups != 0)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "dirac_: dim 0 must be divisible by groups (groups=%lld)",
                            (long long)groups);
    float *a = wi_priv_tensor_overwrite_data(t, err);
    if (!a)
        return WI_ENOMEM;
    memset(a, 0, (size_t)wi_tensor_nbytes(t));
    int64_t per_group = s[0] / groups, min_dim = per_group < s[1] ? per_group : s[1];
    /* The element strides after the first two dimensions, and the centre. */
    int64_t inner = 1, centre = 0;
    for (int k = nd - 1; k >= 2; k--) {
        centre += (s[k] / 2) * inner;
        inner *= s[k];
    }
    for (int64_t g = 0; g < groups; g++)
        for (int64_t d = 0; d < min_dim; d++)
            a[((g * per_group + d) * s[1] + d) * inner + centre] = 1.0f;
    wi_tensor_bump_version(t);
    return 0;
}

/* torch.randperm(n) on the CPU generator (randperm_cpu for n below
 * 2^32 / 20): a Fisher-Yates pass with random() % (n - i).  perm holds
 * n entries. */
static void randperm(wi_generator_t *g, int64_t n, int64_t *perm)
{
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = 0; i < n - 1; i++) {
        int64_t z = (int64_t)(wi_generator_random32(g) % (uint64_t)(n - i));
        int64_t sav = perm[i];
        perm[i] = perm[z + i];
        perm[z + i] = sav;
    }
}

/* How many rows row_indices[:num_zeros] holds: Python's slice of a
 * list of `rows`, num_zeros = math.ceil(sparsity * rows). */
static int64_t zeroed_rows(double sparsity, int64_t rows)
{
    double k = ceil(sparsity * (double)rows);
    if (k < 0)
        k = (double)rows + k;
    return k < 0 ? 0 : k > (double)rows ? rows : (int64_t)k;
}

int wi_sparse_(wi_tensor_t *t, wi_generator_t *g, double sparsity, double std,
               wi_error_t *err)
{
    int rc = wi_priv_init_check(t, g, 1, "sparse_", err);
    if (rc < 0)
        return rc;
    if (wi_tensor_ndim(t) != 2)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "sparse_: Only tensors with 2 dimensions are supported");
    if (!isfinite(sparsity * (double)wi_tensor_shape(t)[0]))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "sparse_: sparsity %.17g gives no number of rows", sparsity);
    int64_t rows = wi_tensor_shape(t)[0], cols = wi_tensor_shape(t)[1];
    int64_t zeros = zeroed_rows(sparsity, rows);
    int64_t *perm = malloc((size_t)(rows ? rows : 1) * sizeof *perm);
    if (!perm)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "sparse_: out of memory");
    /* The rows are zeroed in memory, so the values are computed now. */
    rc = wi_normal_(t, g, 0.0, std, err);
    float *a = rc == 0 ? wi_tensor_data(t) : NULL;
    if (rc == 0 && !a)
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "sparse_: out of memory");
    for (int64_t c = 0; rc == 0 && c < cols; c++) {
        randperm(g, rows, perm);
        for (int64_t i = 0; i < zeros; i++)
            a[perm[i] * cols + c] = 0.0f;
    }
    free(perm);
    return rc;
}
