/* Checkpoint reading: the blobs (a file read, mapped or copied) the readers
 * share, format detection, and wi_checkpoint_load's dispatch to a reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <weightinit/checkpoint.h>

#include "base/input.h"
#include "checkpoint/checkpoint_internal.h"

static wi_priv_blob_t *blob_new(uint8_t *data, size_t len, int mapped)
{
    wi_priv_blob_t *b = malloc(sizeof *b);
    if (b) {
        b->data = data;
        b->len = len;
        atomic_init(&b->refs, 1);
        b->mapped = mapped;
    }
    return b;
}

static int open_file(const char *path, size_t *len, struct stat *st,
                     wi_error_t *err)
{
    int fd = wi_priv_open_input(path, "a checkpoint file", st, err);
    if (fd < 0)
        return fd;
    if (st->st_size == 0 || (uint64_t)st->st_size > SIZE_MAX) {
        close(fd);
        return wi_error_set(err, st->st_size ? WI_ENOMEM : WI_EFORMAT, path,
                            NULL, "cannot read checkpoint: %s",
                            st->st_size ? "the file is too large to address"
                                        : "the file is empty (0 bytes): an "
                                          "interrupted download or a failed "
                                          "save?");
    }
    *len = (size_t)st->st_size;
    return fd;
}

wi_priv_blob_t *wi_priv_blob_read(const char *path, wi_error_t *err)
{
    size_t len = 0;
    struct stat st;
    int fd = open_file(path, &len, &st, err);
    if (fd < 0)
        return NULL;
    uint8_t *data = malloc(len);
    wi_priv_blob_t *b = data ? blob_new(data, len, 0) : NULL;
    int rc = b ? wi_priv_read_input(fd, path, &st, data, len, err)
               : wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory "
                              "reading a %zu-byte checkpoint", len);
    close(fd);
    if (!b)
        free(data);
    if (rc < 0) {
        wi_priv_blob_unref(b);
        return NULL;
    }
    return b;
}

/* A private writable mapping of len bytes of fd (the caller closes fd):
 * tensors that wrap it may be written (copy-on-write), never the file. */
static wi_priv_blob_t *map_fd(int fd, size_t len, const char *name, wi_error_t *err)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        wi_error_set(err, WI_EIO, name, NULL, "cannot map checkpoint: %s",
                     strerror(errno));
        return NULL;
    }
    wi_priv_blob_t *b = blob_new(p, len, 1);
    if (!b) {
        munmap(p, len);
        wi_error_set(err, WI_ENOMEM, name, NULL, "out of memory");
    }
    return b;
}

wi_priv_blob_t *wi_priv_blob_map(const char *path, wi_error_t *err)
{
    size_t len = 0;
    struct stat st;
    int fd = open_file(path, &len, &st, err);
    if (fd < 0)
        return NULL;
    wi_priv_blob_t *b = map_fd(fd, len, path, err);
    close(fd);
    return b;
}

wi_priv_blob_t *wi_priv_blob_map_fd(int fd, const char *name, wi_error_t *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        wi_error_set(err, WI_EIO, name, NULL, "cannot read checkpoint: %s",
                     strerror(errno));
        return NULL;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        wi_error_set(err, WI_ENOMEM, name, NULL,
                     "cannot read checkpoint: the file is too large to address");
        return NULL;
    }
    /* An empty file maps nothing: its readers refuse its 0 bytes. */
    return st.st_size ? map_fd(fd, (size_t)st.st_size, name, err)
                      : wi_priv_blob_copy(NULL, 0, err);
}

wi_priv_blob_t *wi_priv_blob_copy(const void *data, size_t len,
                                  wi_error_t *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    wi_priv_blob_t *b = copy ? blob_new(copy, len, 0) : NULL;
    if (!b) {
        free(copy);
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(copy, data, len);
    return b;
}

void wi_priv_blob_ref(wi_priv_blob_t *blob)
{
    atomic_fetch_add(&blob->refs, 1);
}

void wi_priv_blob_unref(wi_priv_blob_t *blob)
{
    if (!blob || atomic_fetch_sub(&blob->refs, 1) != 1)
        return;
    if (blob->mapped)
        munmap(blob->data, blob->len);
    else
        free(blob->data);
    free(blob);
}

uint64_t wi_priv_output_cap(size_t len)
{
    uint64_t base = (uint64_t)64 << 20, cap;
    if (__builtin_mul_overflow((uint64_t)len, 16, &cap) ||
        __builtin_add_overflow(cap, base, &cap))
        return UINT64_MAX;
    return cap;
}

void wi_priv_swap_elements(void *data, size_t nbytes, size_t esize)
{
    uint8_t *p = data;
    if (esize < 2)
        return;
    for (size_t i = 0; i + esize <= nbytes; i += esize)
        for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
            uint8_t t = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = t;
        }
}

static int starts(const uint8_t *d, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(d, prefix, n) == 0;
}

const char *wi_priv_sniff_text(const uint8_t *d, size_t len)
{
    if (starts(d, len, "\xef\xbb\xbf")) /* UTF-8 byte order mark */
        d += 3, len -= 3;
    while (len && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n'))
        d++, len--;
    if (starts(d, len, "version https://git-lfs"))
        return "this is a git-lfs pointer file, not the checkpoint itself: "
               "fetch the real file (git lfs pull)";
    if (starts(d, len, "<"))
        return "this looks like an HTML page, not a checkpoint: the "
               "download probably returned an error or a login page";
    if (starts(d, len, "{") || starts(d, len, "["))
        return "this is a JSON text file, not a checkpoint (the index of a "
               "sharded checkpoint?)";
    return NULL;
}

/* safetensors: the JSON header (after the 8-byte length) starts with '{'
 * or, when a writer aligned the data with padding, whitespace. */
static int header_start(uint8_t c)
{
    return c == '{' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* What the first bytes cannot be read as, in words. */
static const char *unknown_format(const uint8_t *d, size_t len)
{
    const char *text = wi_priv_sniff_text(d, len);
    if (text)
        return text;
    if (len >= 262 && memcmp(d + 257, "ustar", 5) == 0)
        return "this is a tar archive: the tar-based torch.save format of "
               "PyTorch before 0.4 is not supported; re-save it with a "
               "recent PyTorch";
    if (starts(d, len, "PYTORCH1"))
        return "unsupported archive format from the PyTorch preview "
               "release";
    if (starts(d, len, "\x1f\x8b"))
        return "this file is gzip-compressed: decompress it first";
    return NULL;
}

const char *wi_priv_blob_format(const wi_priv_blob_t *blob)
{
    const uint8_t *d = blob->data;
    size_t len = blob->len;
    /* The order of wi_priv_checkpoint_select's tests. */
    if (starts(d, len, "PK\x03\x04") || starts(d, len, "PK\x05\x06"))
        return "torch.save";
    if (len >= 9 && header_start(d[8]))
        return "safetensors";
    return len && d[0] == 0x80 ? "torch.save" : NULL;
}

wi_state_dict_t *wi_priv_checkpoint_read(wi_priv_blob_t *blob,
                                         const char *source, wi_error_t *err)
{
    return wi_priv_checkpoint_select(blob, source, NULL, err);
}

wi_state_dict_t *wi_priv_checkpoint_select(wi_priv_blob_t *blob,
                                           const char *source,
                                           wi_priv_select_t *sel,
                                           wi_error_t *err)
{
    const uint8_t *d = blob->data;
    size_t len = blob->len;
    if (len == 0) {
        wi_error_set(err, WI_EFORMAT, source, NULL,
                     "the file is empty (0 bytes): an interrupted download "
                     "or a failed save?");
        return NULL;
    }
    /* torch.serialization._is_zipfile looks at the local header magic
     * only; PK\5\6 is an empty archive, which the zip reader explains. */
    if (starts(d, len, "PK\x03\x04") || starts(d, len, "PK\x05\x06"))
        return wi_priv_pth_zip_select(blob, source, sel, err);
    if (len >= 9 && header_start(d[8]))
        return wi_priv_safetensors_select(blob, source, sel, err);
    if (d[0] == 0x80)
        return wi_priv_pth_legacy_select(blob, source, sel, err);
    const char *why = unknown_format(d, len);
    if (why)
        wi_error_set(err, WI_EFORMAT, source, NULL, "not a checkpoint: %s",
                     why);
    else
        wi_error_set(err, WI_EFORMAT, source, NULL,
                     "not a checkpoint: unrecognised first bytes "
                     "%02x %02x %02x %02x (expected a torch.save zip, "
                     "safetensors, or a legacy torch.save pickle)%s",
                     d[0], len > 1 ? d[1] : 0, len > 2 ? d[2] : 0,
                     len > 3 ? d[3] : 0,
                     len < 9 ? "; the file is only a few bytes long: "
                               "truncated?"
                             : "");
    return NULL;
}

static wi_state_dict_t *load(const char *path, wi_priv_select_t *sel,
                             int mapped, wi_error_t *err)
{
    if (!path) {
        wi_error_set(err, WI_EINVAL, NULL, NULL, "checkpoint path is NULL");
        return NULL;
    }
    if (wi_priv_is_index(path))
        return wi_priv_index_select(path, sel, err);
    wi_priv_blob_t *blob = mapped ? wi_priv_blob_map(path, err)
                                  : wi_priv_blob_read(path, err);
    if (!blob)
        return NULL;
    wi_state_dict_t *sd = wi_priv_checkpoint_select(blob, path, sel, err);
    wi_priv_blob_unref(blob);
    return sd;
}

wi_state_dict_t *wi_checkpoint_load(const char *path, wi_error_t *err)
{
    return load(path, NULL, 0, err);
}

wi_state_dict_t *wi_checkpoint_load_mapped(const char *path, wi_error_t *err)
{
    return load(path, NULL, 1, err);
}

wi_state_dict_t *wi_checkpoint_load_key(const char *path, const char *key,
                                        char **chosen, wi_error_t *err)
{
    wi_priv_select_t sel = {key ? WI_SEL_KEY : WI_SEL_AUTO, key, NULL, NULL};
    wi_state_dict_t *sd = load(path, &sel, 0, err);
    if (sd && chosen)
        *chosen = sel.chosen;
    else
        free(sel.chosen);
    json_decref(sel.info);
    return sd;
}

wi_state_dict_t *wi_checkpoint_load_all(const char *path, wi_value_t **info_v,
                                        wi_error_t *err)
{
    json_t **info = (json_t **)info_v;
    wi_priv_select_t sel = {WI_SEL_ALL, NULL, NULL, NULL};
    wi_state_dict_t *sd = load(path, &sel, 0, err);
    free(sel.chosen);
    if (sd && info)
        *info = sel.info;
    else
        json_decref(sel.info);
    return sd;
}
