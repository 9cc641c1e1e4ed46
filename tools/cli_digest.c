/* The write plan ranks agree on under mpirun (cli_mpi.c): every rank
 * must hold the plan rank 0 holds, or the file would be half one
 * initialisation and half another under rank 0's metadata.  A plan is
 * the metadata to be written (seed, profile, dtype, model, init_cfg,
 * version, provenance) and every tensor's name and wi_tensor_digest;
 * when the digests differ, the differing rank's description tells rank
 * 0 what differs, to name it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "cli.h"
#include "cli_mpi.h"

int cli_digest_plan(const wi_state_dict_t *sd, const json_t *meta,
                    unsigned char out[32])
{
    char *text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return -1;
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, strlen(text) + 1, (const uint8_t *)text);
    free(text);
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const char *name = wi_state_dict_name(sd, i);
        unsigned char d[32];
        wi_tensor_digest(wi_state_dict_tensor(sd, i), d);
        sha256_update(&h, strlen(name) + 1, (const uint8_t *)name);
        sha256_update(&h, sizeof d, d);
    }
    sha256_digest(&h, 32, out);
    return 0;
}

/* [name, dtype, shape, digest in hex] */
static json_t *describe_tensor(const char *name, const wi_tensor_t *t)
{
    unsigned char d[32];
    char hex[65], shape[256];
    wi_tensor_digest(t, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
    return json_pack("[s, s, s, s]", name, wi_dtype_name(wi_tensor_dtype(t)), shape,
                     hex);
}

/* {"meta": meta, "tensors": [...]}: a new reference, NULL out of memory. */
static json_t *describe(const wi_state_dict_t *sd, const json_t *meta)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < wi_state_dict_size(sd); i++)
        if (json_array_append_new(list, describe_tensor(wi_state_dict_name(sd, i),
                                                        wi_state_dict_tensor(sd, i))) < 0) {
            json_decref(list);
            list = NULL;
        }
    return list ? json_pack("{s:O, s:o}", "meta", meta, "tensors", list) : NULL;
}

char *cli_digest_describe(const wi_state_dict_t *sd, const json_t *meta)
{
    json_t *d = describe(sd, meta);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    return text;
}

/* What the metadata keys a command line sets are called there. */
static const struct {
    const char *key, *what, *hint;
} options[] = {
    {"seed", "--seed", "every rank must be given the same --seed"},
    {"rng_profile", "--rng-profile", "every rank must be given the same --rng-profile"},
    {"dtype", "dtype", "every rank must be given the same --dtype"},
    {"model", "the model file", "every rank must be given the same MODEL.json"},
    {"init_cfg", "--init-cfg", "every rank must be given the same --init-cfg"},
    {"weightinit_version", "weightinit version", "every rank must run the same weightinit"},
};

static const char *text_of(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "none";
}

/* The first option whose value differs: 1 with err set, else 0. */
static int option_differs(const json_t *m0, const json_t *mr, int rank, wi_error_t *err)
{
    for (size_t i = 0; i < sizeof options / sizeof *options; i++) {
        const json_t *v0 = json_object_get(m0, options[i].key);
        const json_t *vr = json_object_get(mr, options[i].key);
        if (v0 == vr || json_equal(v0, vr))
            continue;
        wi_error_set(err, WI_EINVAL, NULL, NULL,
                     "rank %d's plan differs from rank 0's: %s %.300s, rank 0's "
                     "%.300s (%s)", rank, options[i].what, text_of(vr), text_of(v0),
                     options[i].hint);
        return 1;
    }
    return 0;
}

/* How tensor entries a (rank 0's) and b differ: 0 when they do not. */
static int entry_differs(const json_t *a, const json_t *b, size_t i, const char *model,
                         int rank, const char *hint, wi_error_t *err)
{
    const char *n0 = text_of(json_array_get(a, 0)), *nr = text_of(json_array_get(b, 0));
    if (strcmp(n0, nr) != 0) {
        wi_error_set(err, WI_EINVAL, model, NULL,
                     "rank %d's plan differs from rank 0's: tensor %zu is %.300s, "
                     "rank 0's %.300s (%s)", rank, i, nr, n0, hint);
        return 1;
    }
    for (size_t k = 1; k < 3; k++)
        if (!json_equal(json_array_get(a, k), json_array_get(b, k))) {
            wi_error_set(err, WI_EINVAL, model, n0,
                         "rank %d's plan differs from rank 0's: %s %s, rank 0's %s "
                         "(%s)", rank, k == 1 ? "dtype" : "shape",
                         text_of(json_array_get(b, k)), text_of(json_array_get(a, k)),
                         hint);
            return 1;
        }
    if (json_equal(json_array_get(a, 3), json_array_get(b, 3)))
        return 0;
    wi_error_set(err, WI_EINVAL, model, n0,
                 "rank %d's plan differs from rank 0's: other values (%s)", rank, hint);
    return 1;
}

/* The first tensor that differs, in state_dict order: 1 with err set. */
static int tensor_differs(const json_t *t0, const json_t *tr, const char *model,
                          int rank, wi_error_t *err)
{
    static const char hint[] = "every rank must read the same model files, "
                               "--init-cfg and plugins";
    size_t n0 = json_array_size(t0), nr = json_array_size(tr);
    for (size_t i = 0; i < n0 && i < nr; i++)
        if (entry_differs(json_array_get(t0, i), json_array_get(tr, i), i, model, rank,
                          hint, err))
            return 1;
    if (n0 == nr)
        return 0;
    wi_error_set(err, WI_EINVAL, model, NULL,
                 "rank %d's plan differs from rank 0's: %zu tensors, rank 0's %zu (%s)",
                 rank, nr, n0, hint);
    return 1;
}

/* A metadata key of neither kind (the provenance). */
static void meta_differs(const json_t *m0, const json_t *mr, int rank, wi_error_t *err)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)m0, key, v)
        if (!json_equal(v, json_object_get(mr, key)))
            break;
    if (!key)
        json_object_foreach((json_t *)mr, key, v)
            if (!json_object_get(m0, key))
                break;
    wi_error_set(err, WI_EINVAL, NULL, NULL,
                 "rank %d's plan differs from rank 0's: the metadata's "
                 "'%.100s' (every rank must run the same command on the same "
                 "files)", rank, key ? key : "?");
}

void cli_digest_compare(const wi_state_dict_t *sd, const json_t *meta,
                        const char *theirs, int rank, wi_error_t *err)
{
    json_error_t je;
    json_t *mine = describe(sd, meta), *other = theirs ? json_loads(theirs, 0, &je) : NULL;
    const json_t *m0 = json_object_get(mine, "meta"), *mr = json_object_get(other, "meta");
    if (!mine || !json_is_object(mr))
        wi_error_set(err, WI_EINVAL, NULL, NULL,
                     "rank %d's plan differs from rank 0's (out of memory "
                     "saying how; every rank must run the same command on the "
                     "same files)", rank);
    else if (!option_differs(m0, mr, rank, err) &&
             !tensor_differs(json_object_get(mine, "tensors"),
                             json_object_get(other, "tensors"),
                             text_of(json_object_get(m0, "model")), rank, err))
        meta_differs(m0, mr, rank, err);
    json_decref(mine);
    json_decref(other);
}
