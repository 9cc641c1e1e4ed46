/* safetensors writer: header in the state dict's order (PyTorch
 * state_dict order, as the golden files have it), tensors packed without
 * gaps, header padded with blanks to a multiple of 8. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/checkpoint.h>
#include <weightinit/output.h>

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

int wi_safetensors_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                         const json_t *metadata, wi_error_t *err)
{
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1)
        return wi_error_set(err, WI_EUNSUPPORTED, name, NULL,
                            "writing safetensors needs a little-endian host");
    size_t hlen;
    char *header = build_header(sd, metadata, &hlen, err);
    if (!header)
        return err ? (snprintf(err->source, sizeof err->source, "%s", name ? name : ""),
                      WI_ENOMEM)
                   : WI_ENOMEM;
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
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        bad = write_all(fp, wi_tensor_const_data(t), wi_tensor_nbytes(t)) < 0;
    }
    free(header);
    if (bad)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(errno ? errno : EIO));
    return 0;
}

int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const json_t *metadata, wi_error_t *err)
{
    wi_output_group_t *g = wi_output_group_new();
    if (!g)
        return wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    wi_error_t local;
    wi_error_t *e = err ? err : &local;
    FILE *fp = wi_output_group_open(g, path, e);
    int rc = fp ? wi_safetensors_write(fp, path, sd, metadata, e) : e->code;
    if (rc == 0)
        rc = wi_output_group_commit(g, e);
    wi_output_group_free(g);
    return rc;
}
