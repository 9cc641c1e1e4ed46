/* Replays an op file written by gen.py (the layout of tests/data/rng) with
 * weightinit's public API under one RNG profile and thread count, and
 * says for every output whether weightinit gives the same bytes as the
 * torch build that wrote the file (issue 17 item 2: "equal to which
 * existing profile").  Not part of the suites; build against a build dir:
 *
 *   cc -O2 -Iinclude -o /tmp/wi_replay tests/refs/torch2/wi_replay.c \
 *      -Lbuild/core -lweightinit -ljansson -lnettle
 *   LD_LIBRARY_PATH=build/core /tmp/wi_replay FILE.json avx2|default [THREADS]
 *
 * Ops weightinit's API has no function for (module constructors, eye_,
 * dirac_, orthogonal_, sparse_, a transposed view) are counted as
 * "not replayed"; so is every later output of their case, since the
 * generator would no longer stand where torch's did. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include <weightinit/init.h>
#include <weightinit/rng.h>
#include <weightinit/tensor.h>

static void hex_sha256(const void *p, size_t n, char out[65])
{
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, n, p);
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static double num(const json_t *op, const char *k)
{
    return json_number_value(json_object_get(op, k));
}

static const char *str(const json_t *op, const char *k)
{
    return json_string_value(json_object_get(op, k));
}

/* Runs one tensor op; returns its sha256 in `hex`, 1 if replayed, 0 if
 * weightinit has no such function. */
static int run(wi_generator_t *g, const json_t *op, char hex[65])
{
    const char *name = str(op, "op");
    if (strcmp(name, "random_int64") == 0) {
        int64_t n = (int64_t)num(op, "n");
        uint64_t *v = malloc((size_t)n * 8 + 8);
        for (int64_t i = 0; i < n; i++)
            v[i] = wi_generator_random64(g) & (UINT64_MAX >> 1);
        hex_sha256(v, (size_t)n * 8, hex);
        free(v);
        return 1;
    }
    if (json_object_get(op, "layout") || strncmp(name, "nn.", 3) == 0)
        return 0;
    const json_t *js = json_object_get(op, "shape");
    int64_t shape[8];
    int nd = (int)json_array_size(js);
    for (int i = 0; i < nd; i++)
        shape[i] = json_integer_value(json_array_get(js, (size_t)i));
    wi_error_t err;
    wi_error_clear(&err);
    wi_tensor_t *t = wi_tensor_new(WI_DTYPE_F32, nd, shape, &err);
    int rc;
    if (strcmp(name, "uniform_") == 0)
        rc = wi_uniform_(t, g, num(op, "from"), num(op, "to"), &err);
    else if (strcmp(name, "normal_") == 0)
        rc = wi_normal_(t, g, num(op, "mean"), num(op, "std"), &err);
    else if (strcmp(name, "trunc_normal_") == 0)
        rc = wi_trunc_normal_(t, g, num(op, "mean"), num(op, "std"), num(op, "a"),
                              num(op, "b"), &err);
    else if (strcmp(name, "xavier_uniform_") == 0)
        rc = wi_xavier_uniform_(t, g, num(op, "gain"), &err);
    else if (strcmp(name, "xavier_normal_") == 0)
        rc = wi_xavier_normal_(t, g, num(op, "gain"), &err);
    else if (strcmp(name, "kaiming_uniform_") == 0)
        rc = wi_kaiming_uniform_(t, g, num(op, "a"), str(op, "mode"),
                                 str(op, "nonlinearity"), &err);
    else if (strcmp(name, "kaiming_normal_") == 0)
        rc = wi_kaiming_normal_(t, g, num(op, "a"), str(op, "mode"),
                                str(op, "nonlinearity"), &err);
    else if (strcmp(name, "constant_") == 0)
        rc = wi_constant_(t, num(op, "val"), &err);
    else if (strcmp(name, "ones_") == 0)
        rc = wi_ones_(t, &err);
    else if (strcmp(name, "zeros_") == 0)
        rc = wi_zeros_(t, &err);
    else {
        wi_tensor_free(t);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "wi_replay: %s: %s\n", name, err.text);
        exit(1);
    }
    hex_sha256(wi_tensor_const_data(t), (size_t)wi_tensor_nbytes(t), hex);
    wi_tensor_free(t);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: wi_replay FILE.json avx2|default [THREADS]\n");
        return 2;
    }
    wi_rng_profile_t prof;
    wi_error_t perr;
    if (wi_rng_profile_from_name(argv[2], &prof, &perr) < 0) {
        fprintf(stderr, "wi_replay: %s\n", perr.text);
        return 2;
    }
    json_error_t je;
    json_t *root = json_load_file(argv[1], 0, &je);
    if (!root) {
        fprintf(stderr, "wi_replay: %s: %s\n", argv[1], je.text);
        return 2;
    }
    int same = 0, differ = 0, skipped = 0;
    const json_t *cases = json_object_get(root, "cases");
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *k = json_array_get(cases, c);
        const json_t *ops = json_object_get(k, "ops");
        size_t n = json_array_size(ops);
        char (*hex)[65] = calloc(n, 65);
        int *ok = calloc(n, sizeof *ok);
        wi_generator_t *g = wi_generator_new(0, prof);
        wi_generator_set_threads(g, argc > 3 ? atoi(argv[3]) : 1);
        int in_step = 1;
        for (size_t i = 0; i < n && in_step; i++) {
            const json_t *op = json_array_get(ops, i);
            const json_t *seed = json_object_get(op, "seed");
            if (strcmp(str(op, "op"), "manual_seed") == 0)
                wi_generator_manual_seed(g, json_is_integer(seed)
                    ? (uint64_t)json_integer_value(seed)
                    : strtoull(json_string_value(seed), NULL, 10));
            else
                in_step = ok[i] = run(g, op, hex[i]);
        }
        const json_t *outs = json_object_get(k, "outputs");
        for (size_t o = 0; o < json_array_size(outs); o++) {
            const json_t *out = json_array_get(outs, o);
            size_t i = (size_t)json_integer_value(json_object_get(out, "op_index"));
            if (!ok[i]) {
                skipped++;
                continue;
            }
            int eq = strcmp(hex[i], str(out, "sha256")) == 0;
            same += eq;
            differ += !eq;
            if (!eq)
                printf("DIFFERS %s | op %zu %s (%lld elements)\n",
                       str(k, "name"), i, str(json_array_get(ops, i), "op"),
                       (long long)json_integer_value(json_object_get(out, "numel")));
        }
        wi_generator_free(g);
        free(hex);
        free(ok);
    }
    printf("%s under profile %s: %d outputs same, %d differ, %d not replayed\n",
           argv[1], argv[2], same, differ, skipped);
    json_decref(root);
    return 0;
}
