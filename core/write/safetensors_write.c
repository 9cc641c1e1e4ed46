/* safetensors writer: header in the state dict's order (PyTorch
 * state_dict order, as the golden files have it), tensors packed without
 * gaps, header padded with blanks to a multiple of 8. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
static int header_text(wi_priv_buf_t *b, const wi_state_dict_t *sd,
                       const json_t *metadata)
{
    wi_priv_buf_puts(b, "{");
    int first = 1;
    if (metadata && json_object_size(metadata) > 0) {
        wi_priv_buf_puts(b, "\"__metadata__\":");
        put_json(b, metadata);
        first = 0;
    }
    uint64_t offset = 0;
    for (size_t i = 0; !b->oom && i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        if (strcmp(wi_state_dict_name(sd, i), "__metadata__") == 0)
            return 0;
        if (!first)
            wi_priv_buf_puts(b, ",");
        first = 0;
        put_entry(b, wi_state_dict_name(sd, i), t, offset);
        offset += wi_tensor_nbytes(t);
    }
    wi_priv_buf_puts(b, "}");
    return 1;
}

/* The header's length, padded with blanks to a multiple of 8 (the
 * data's alignment), from a pass that only counts: a header of a million
 * tensors is written straight to the file, never held.  0 or the error. */
static int header_size(const wi_state_dict_t *sd, const json_t *metadata,
                       size_t *len, wi_error_t *err)
{
    wi_priv_buf_t b = {.count_only = 1};
    if (!header_text(&b, sd, metadata))
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
static int header_write(FILE *fp, const wi_state_dict_t *sd, const json_t *metadata,
                        size_t len)
{
    wi_priv_buf_t b = {.sink = fp};
    header_text(&b, sd, metadata);
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

/* One tensor's bytes a piece at a time (computed when deferred), each
 * piece reported.  0, 1 with errno for a failed write, or the WI_E*
 * code of a failed computation with err filled. */
static int write_tensor(FILE *fp, const wi_tensor_t *t, void *scratch,
                        wi_priv_progress_t *pr, wi_error_t *err)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(t));
    int64_t n = wi_tensor_numel(t);
    int64_t piece = pr && pr->ctx ? (int64_t)(WI_PROGRESS_STEP / es) : WI_WRITE_PIECE;
    if (piece > WI_WRITE_PIECE)
        piece = WI_WRITE_PIECE;
    for (int64_t pos = 0; pos < n; pos += piece) {
        int64_t cnt = n - pos < piece ? n - pos : piece;
        const void *p = wi_priv_tensor_bytes(t, pos, cnt, scratch, err);
        if (!p)
            return err ? err->code : WI_ENOMEM;
        if (write_all(fp, p, (uint64_t)cnt * es) < 0)
            return 1;
        if (pr && pr->ctx)
            wi_priv_progress_add(pr, (uint64_t)cnt * es, (uint64_t)cnt,
                                 pos + cnt == n);
    }
    if (n == 0 && pr && pr->ctx)
        wi_priv_progress_add(pr, 0, 0, 1);
    return 0;
}

/* A regular file: written at offsets by every thread. */
static int seekable(FILE *fp)
{
    struct stat st;
    return fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
}

/* The tensors after the header, by wi_priv_pwrite_tensors; fp's stdio
 * position then stands at the end, as if they had gone through it. */
static int write_tensors_at(FILE *fp, const char *name,
                            const wi_state_dict_t *sd, wi_priv_progress_t *pr,
                            wi_error_t *err)
{
    off_t base;
    if (fflush(fp) != 0 || (base = ftello(fp)) < 0)
        return 1;
    int rc = wi_priv_pwrite_tensors(fileno(fp), (uint64_t)base, sd, pr, name, err);
    if (rc == 0 &&
        fseeko(fp, base + (off_t)wi_priv_state_dict_bytes(sd), SEEK_SET) != 0)
        return 1;
    return rc;
}

/* Headers only: the file gets its full size, the tensor bytes a hole
 * that other writers fill (wi_context_set_headers_only). */
static int leave_hole(FILE *fp, const wi_state_dict_t *sd)
{
    off_t base, end;
    if (!seekable(fp)) {
        errno = ESPIPE;
        return 1;
    }
    if (fflush(fp) != 0 || (base = ftello(fp)) < 0)
        return 1;
    end = base + (off_t)wi_priv_state_dict_bytes(sd);
    return ftruncate(fileno(fp), end) != 0 || fseeko(fp, end, SEEK_SET) != 0;
}

int wi_safetensors_write(FILE *fp, const char *name, const wi_state_dict_t *sd,
                         const wi_value_t *metadata_v, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
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
    int rc = wi_priv_check_metadata(metadata, name, err);
    if (rc < 0)
        return rc;
    size_t hlen = 0;
    rc = header_size(sd, metadata, &hlen, err);
    if (rc < 0) {
        if (err)
            snprintf(err->source, sizeof err->source, "%s", name ? name : "");
        return rc;
    }
    if (hlen > MAX_HEADER)
        return wi_error_set(err, WI_EINVAL, name, NULL,
                            "header of %zu bytes exceeds safetensors' 100 MB limit",
                            hlen);
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    rc = wi_priv_check_space(fp, name, 8 + hlen + wi_priv_state_dict_bytes(sd), err);
    if (rc < 0)
        return rc;
    /* A regular file gets its tensors at offsets from every thread; only
     * a stream (pipe, FIFO, device) needs the in-order piece buffer. */
    int holes = pr && pr->headers_only, at_offsets = !holes && seekable(fp);
    int none = 1;
    void *scratch = holes || at_offsets ? NULL : wi_priv_piece_buffer(sd, &none);
    if (!scratch && !none)
        return wi_error_set(err, WI_ENOMEM, name, NULL,
                            "out of memory for a write buffer");
    errno = 0;
    rc = write_all(fp, len8, 8) < 0 || header_write(fp, sd, metadata, hlen) != 0;
    if (rc == 0 && holes)
        rc = leave_hole(fp, sd);
    else if (rc == 0 && at_offsets)
        rc = write_tensors_at(fp, name, sd, pr, err);
    for (size_t i = 0; rc == 0 && !holes && !at_offsets && i < wi_state_dict_size(sd); i++)
        rc = write_tensor(fp, wi_state_dict_tensor(sd, i), scratch, pr, err);
    int e = errno; /* fwrite's, before free or abort can change it */
    free(scratch);
    if (rc == 1)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(e ? e : EIO));
    if (rc < 0 && err && !err->source[0])
        /* A computation failed: say which file it was for. */
        snprintf(err->source, sizeof err->source, "%s", name ? name : "");
    return rc;
}

int wi_safetensors_save(const char *path, const wi_state_dict_t *sd,
                        const wi_value_t *metadata_v, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    return wi_checkpoint_save(path, WI_CHECKPOINT_SAFETENSORS, sd, (const wi_value_t *)metadata,
                              err);
}
