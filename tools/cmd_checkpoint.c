/* weightinit inspect FILE and weightinit convert IN OUT.safetensors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct stats {
    double mean, std, min, max;
};

/* mean, unbiased std (torch.std), min and max over the values as float. */
static int tensor_stats(const wi_tensor_t *t, struct stats *s, wi_error_t *err)
{
    wi_tensor_t *f = wi_tensor_new(WI_DTYPE_F32, wi_tensor_ndim(t), wi_tensor_shape(t), err);
    if (!f || wi_tensor_copy_(f, t, err) < 0) {
        wi_tensor_free(f);
        return -1;
    }
    const float *v = wi_tensor_data(f);
    int64_t n = wi_tensor_numel(f);
    double sum = 0, sq = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        sum += v[i];
        s->min = v[i] < s->min ? v[i] : s->min;
        s->max = v[i] > s->max ? v[i] : s->max;
    }
    s->mean = n ? sum / (double)n : NAN;
    for (int64_t i = 0; i < n; i++)
        sq += (v[i] - s->mean) * (v[i] - s->mean);
    s->std = n > 1 ? sqrt(sq / (double)(n - 1)) : NAN;
    wi_tensor_free(f);
    return 0;
}

/* Parses `COMMAND FILE [OUT]` (nargs files) and reads the checkpoint.
 * Returns the state dict, or NULL with *status set (0 after --help). */
static wi_state_dict_t *read_args(int argc, char **argv, int nargs,
                                  const char *usage, int *status)
{
    *status = 0;
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        puts(usage);
        return NULL;
    }
    if (argc != nargs + 1) {
        cli_errorf("%s: expected %d argument%s (%s)", argv[0], nargs,
                   nargs > 1 ? "s" : "", usage);
        *status = EXIT_BAD_INPUT;
        return NULL;
    }
    wi_error_t err;
    wi_state_dict_t *sd = wi_checkpoint_load(argv[1], &err);
    if (!sd) {
        cli_error(&err);
        *status = EXIT_INIT_FAILED;
    }
    return sd;
}

int cmd_inspect(int argc, char **argv)
{
    int status;
    wi_state_dict_t *sd = read_args(argc, argv, 1, "usage: weightinit inspect "
                                    "FILE (.safetensors or .pth)", &status);
    if (!sd)
        return status;
    wi_error_t err;
    printf("%-40s %-5s %-18s %12s %12s %12s %12s\n", "name", "dtype", "shape",
           "mean", "std", "min", "max");
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        char shape[256];
        struct stats s;
        wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
        if (tensor_stats(t, &s, &err) < 0) {
            cli_error(&err);
            status = EXIT_INIT_FAILED;
            break;
        }
        printf("%-40s %-5s %-18s %12.6g %12.6g %12.6g %12.6g\n",
               wi_state_dict_name(sd, i), wi_dtype_name(wi_tensor_dtype(t)), shape,
               s.mean, s.std, s.min, s.max);
    }
    printf("%zu tensors\n", wi_state_dict_size(sd));
    wi_state_dict_free(sd);
    return status;
}

int cmd_convert(int argc, char **argv)
{
    int status;
    wi_state_dict_t *sd = read_args(argc, argv, 2, "usage: weightinit convert "
                                    "IN OUT.safetensors (OUT - = standard output)",
                                    &status);
    if (!sd)
        return status;
    wi_error_t err;
    const char *base = strrchr(argv[1], '/');
    json_t *meta = json_pack("{s:s, s:s, s:s}", "format", "pt", "converted_from",
                             base ? base + 1 : argv[1], "weightinit_version",
                             wi_version());
    /* IN is an input: OUT may not be it (convert x.pth x.pth). */
    wi_output_group_t *g = wi_output_group_new();
    FILE *fp = NULL;
    status = EXIT_INIT_FAILED;
    if (!g || !meta)
        cli_errorf("out of memory");
    else if (wi_output_group_add_input(g, argv[1], &err) < 0)
        cli_error(&err);
    else
        fp = cli_open_output(g, argv[2], 1, &status);
    if (fp && (wi_safetensors_write(fp, cli_output_name(argv[2]), sd, meta, &err) < 0 ||
               wi_output_group_commit(g, &err) < 0))
        cli_error(&err);
    else if (fp)
        status = 0;
    wi_output_group_free(g);
    json_decref(meta);
    wi_state_dict_free(sd);
    return status;
}
