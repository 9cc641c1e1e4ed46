/* safetensors writer: header in the state dict's order (PyTorch
 * state_dict order, as the golden files have it), tensors packed without
 * gaps, header padded with blanks to a multiple of 8. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/checkpoint_write.h>

#include "base/buf.h"
#include "write/write_internal.h"

#define MAX_HEADER (100u * 1000u * 1000u)

static int append(const char *text, size_t n, void *ud)
{
    wi_priv_buf_put(ud, text, n);
    return ((wi_priv_buf_t *)ud)->oom ? -1 : 0;
}

/* A JSON value as json_dumps(JSON_COMPACT) writes it inside an object,
 * appended to b (jansson escapes it). */
static void put_json(wi_priv_buf_t *b, const json_t *v)
{
    if (!v || json_dump_callback(v, append, b, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
        b->oom = 1;
}

/* "name":{"dtype":..,"shape":[..],"data_offsets":[b,e]} */
static void put_entry(wi_priv_buf_t *b, const char *name, const wi_tensor_t *t,
                      uint64_t begin)
{
    json_t *key = json_string(name);
    put_json(b, key);
    json_decref(key);
    char num[48];
    wi_priv_buf_puts(b, ":{\"dtype\":\"");
    wi_priv_buf_puts(b, wi_dtype_name(wi_tensor_dtype(t)));
    wi_priv_buf_puts(b, "\",\"shape\":[");
    for (int i = 0; i < wi_tensor_ndim(t); i++) {
        snprintf(num, sizeof num, "%s%lld", i ? "," : "",
                 (long long)wi_tensor_shape(t)[i]);
        wi_priv_buf_puts(b, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}",
             (unsigned long long)begin,
             (unsigned long long)(begin + wi_tensor_nbytes(t)));
    wi_priv_buf_puts(b, num);
}

/* Appends the header's JSON to b; 0 when a tensor is named
 * __metadata__ (the header key of the metadata: such a tensor would
 * silently replace it, or be dropped by readers). */
static int header_text(wi_priv_buf_t *b, const wi_priv_layout_t *l,
                       const json_t *metadata)
{
    const wi_state_dict_t *sd = l->sd;
    wi_priv_buf_puts(b, "{");
    int first = 1;
    if (metadata && json_object_size(metadata) > 0) {
        wi_priv_buf_puts(b, "\"__metadata__\":");
        put_json(b, metadata);
        first = 0;
    }
    for (size_t i = 0; !b->oom && i < l->n_ext; i++) {
        if (strcmp(wi_state_dict_name(sd, i), "__metadata__") == 0)
            return 0;
        if (!first)
            wi_priv_buf_puts(b, ",");
        first = 0;
        put_entry(b, wi_state_dict_name(sd, i), l->ext[i].tensor, l->ext[i].offset);
    }
    wi_priv_buf_puts(b, "}");
    return 1;
}

/* The header's length, padded with blanks to a multiple of 8 (the
 * data's alignment), from a pass that only counts: a header of a million
 * tensors is written straight to the file, never held.  0 or the error. */
static int header_size(const wi_priv_layout_t *l, const json_t *metadata,
                       size_t *len, wi_error_t *err)
{
    wi_priv_buf_t b = {.count_only = 1};
    if (!header_text(&b, l, metadata))
        return wi_error_set(err, WI_EINVAL, NULL, "__metadata__",
                            "safetensors cannot hold a tensor named "
                            "'__metadata__' (the name of its metadata entry); "
                            "rename it or write .pth");
    if (b.oom)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "cannot build the header");
    *len = (b.len + 7) & ~(size_t)7;
    return 0;
}

/* Writes the header of length len (header_size) to fp: 0, or 1 with
 * errno for a failed write. */
static int header_write(FILE *fp, const wi_priv_layout_t *l, const json_t *metadata,
                        size_t len)
{
    wi_priv_buf_t b = {.sink = fp};
    header_text(&b, l, metadata);
    while (!b.oom && b.len < len)
        wi_priv_buf_puts(&b, " ");
    return b.oom || b.len != len;
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
                         const wi_value_t *metadata_v, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    return wi_priv_safetensors_write(fp, name, sd, metadata, NULL, err);
}

/* The header (length, JSON) of l at fp's position, then the data.  0,
 * or the error. */
static int write_file(FILE *fp, const char *name, const wi_priv_layout_t *l,
                      const json_t *metadata, wi_priv_progress_t *pr, wi_error_t *err)
{
    size_t hlen = 0;
    int rc = header_size(l, metadata, &hlen, err);
    if (rc < 0) {
        if (err)
            snprintf(err->source, sizeof err->source, "%s", name ? name : "");
        return rc;
    }
    if (hlen > MAX_HEADER)
        return wi_error_set(err, WI_EINVAL, name, NULL,
                            "header of %zu bytes exceeds safetensors' 100 MB limit",
                            hlen);
    rc = wi_priv_check_space(fp, name, 8 + hlen + l->bytes, err);
    if (rc < 0)
        return rc;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    errno = 0;
    if (write_all(fp, len8, 8) < 0 || header_write(fp, l, metadata, hlen) != 0)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(errno ? errno : EIO));
    return wi_priv_write_tensor_data(fp, name, l, pr, err);
}

int wi_priv_safetensors_write(FILE *fp, const char *name,
                              const wi_state_dict_t *sd, const json_t *metadata,
                              wi_priv_progress_t *pr, wi_error_t *err)
{
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1)
        return wi_error_set(err, WI_EUNSUPPORTED, name, NULL,
                            "writing safetensors needs a little-endian host");
    int rc = wi_priv_check_metadata(metadata, name, err);
    if (rc < 0)
        return rc;
    wi_priv_layout_t l;
    rc = wi_priv_layout(&l, sd, err);
    if (rc == 0)
        rc = write_file(fp, name, &l, metadata, pr, err);
    wi_priv_layout_free(&l);
    return rc;
}

int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const wi_value_t *metadata_v, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    return wi_checkpoint_save(path, WI_CHECKPOINT_SAFETENSORS, sd, (const wi_value_t *)metadata,
                              err);
}
