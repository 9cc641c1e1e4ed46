/* safetensors writer: header in the state dict's order (PyTorch
 * state_dict order, as the golden files have it), tensors packed without
 * gaps, header padded with blanks to a multiple of 8. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/checkpoint.h>

#include "write/write_internal.h"

#define MAX_HEADER (100u * 1000u * 1000u)

static json_t *tensor_entry(const wi_tensor_t *t, uint64_t begin)
{
    json_t *shape = json_array();
    for (int i = 0; shape && i < wi_tensor_ndim(t); i++)
        json_array_append_new(shape, json_integer(wi_tensor_shape(t)[i]));
    return json_pack("{s:s, s:o, s:[I,I]}", "dtype",
                     wi_dtype_name(wi_tensor_dtype(t)), "shape", shape,
                     "data_offsets", (json_int_t)begin,
                     (json_int_t)(begin + wi_tensor_nbytes(t)));
}

static char *build_header(const wi_state_dict_t *sd, const json_t *metadata,
                          size_t *len, wi_error_t *err)
{
    json_t *h = json_object();
    int bad = !h;
    if (!bad && metadata && json_object_size(metadata) > 0)
        bad = json_object_set(h, "__metadata__", (json_t *)metadata) < 0;
    uint64_t offset = 0;
    for (size_t i = 0; !bad && i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        /* The header key __metadata__ is the metadata: a tensor of that
         * name would silently replace it (or be dropped by readers). */
        if (strcmp(wi_state_dict_name(sd, i), "__metadata__") == 0) {
            json_decref(h);
            wi_error_set(err, WI_EINVAL, NULL, "__metadata__",
                         "safetensors cannot hold a tensor named "
                         "'__metadata__' (the name of its metadata entry); "
                         "rename it or write .pth");
            return NULL;
        }
        bad = json_object_set_new(h, wi_state_dict_name(sd, i),
                                  tensor_entry(t, offset)) < 0;
        offset += wi_tensor_nbytes(t);
    }
    char *text = bad ? NULL : json_dumps(h, JSON_COMPACT);
    json_decref(h);
    if (!text) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "cannot build the header");
        return NULL;
    }
    size_t n = strlen(text), padded = (n + 7) & ~(size_t)7;
    char *out = realloc(text, padded + 1);
    if (!out) {
        free(text);
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *len = padded;
    return out;
}

static int write_all(FILE *fp, const void *data, uint64_t n)
{
    const char *p = data;
    while (n > 0) {
        size_t chunk = n > (1u << 26) ? (1u << 26) : (size_t)n;
        if (fwrite(p, 1, chunk, fp) != chunk)
            return -1;
        p += chunk;
        n -= chunk;
    }
    return 0;
}

/* One tensor's bytes, reported every WI_PROGRESS_STEP. */
static int write_tensor(FILE *fp, const wi_tensor_t *t, wi_priv_progress_t *pr)
{
    uint64_t n = wi_tensor_nbytes(t);
    if (!pr || !pr->ctx)
        return write_all(fp, wi_tensor_const_data(t), n);
    const char *p = wi_tensor_const_data(t);
    size_t elsize = wi_dtype_size(wi_tensor_dtype(t));
    uint64_t params = (uint64_t)wi_tensor_numel(t);
    while (n > 0) {
        size_t chunk = n > WI_PROGRESS_STEP ? WI_PROGRESS_STEP : (size_t)n;
        if (fwrite(p, 1, chunk, fp) != chunk)
            return -1;
        p += chunk;
        n -= chunk;
        uint64_t k = n > 0 ? chunk / elsize : params;
        params -= k;
        wi_priv_progress_add(pr, chunk, k, n == 0);
    }
    if (wi_tensor_nbytes(t) == 0)
        wi_priv_progress_add(pr, 0, 0, 1);
    return 0;
}

int wi_safetensors_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                         const json_t *metadata, wi_error_t *err)
{
    return wi_priv_safetensors_write(fp, name, sd, metadata, NULL, err);
}

int wi_priv_safetensors_write(FILE *fp, const char *name,
                              const wi_state_dict_t *sd, const json_t *metadata,
                              wi_priv_progress_t *pr, wi_error_t *err)
{
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1)
        return wi_error_set(err, WI_EUNSUPPORTED, name, NULL,
                            "writing safetensors needs a little-endian host");
    size_t hlen;
    char *header = build_header(sd, metadata, &hlen, err);
    if (!header) {
        if (err)
            snprintf(err->source, sizeof err->source, "%s", name ? name : "");
        return err ? err->code : WI_ENOMEM;
    }
    if (hlen > MAX_HEADER) {
        free(header);
        return wi_error_set(err, WI_EINVAL, name, NULL,
                            "header of %zu bytes exceeds safetensors' 100 MB limit",
                            hlen);
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    errno = 0;
    int bad = write_all(fp, len8, 8) < 0 || write_all(fp, header, hlen) < 0;
    for (size_t i = 0; !bad && i < wi_state_dict_size(sd); i++) {
        bad = write_tensor(fp, wi_state_dict_tensor(sd, i), pr) < 0;
    }
    int e = errno; /* fwrite's, before free or abort can change it */
    free(header);
    if (bad)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(e ? e : EIO));
    return 0;
}

int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const json_t *metadata, wi_error_t *err)
{
    return wi_checkpoint_save(path, WI_CHECKPOINT_SAFETENSORS, sd, metadata,
                              err);
}
