/* torch.save's zip format, read through libzip: data.pkl, the byteorder
 * record and one record per storage, inside the archive's folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/pickle.h"
#include "checkpoint/pth_internal.h"

static int zip_fail(struct wi_priv_pth *p, int zcode, const char *what)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, zcode);
    const char *why = zcode == ZIP_ER_NOZIP
                          ? "no end of central directory record: truncated "
                            "download or not a zip archive"
                          : zip_error_strerror(&ze);
    wi_priv_pth_fail(p, WI_EFORMAT, NULL, "%s: %s", what, why);
    zip_error_fini(&ze);
    return WI_EFORMAT;
}

static int zip_open_blob(struct wi_priv_pth *p)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src =
        zip_source_buffer_create(p->blob->data, p->blob->len, 0, &ze);
    if (src && !(p->za = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    int code = zip_error_code_zip(&ze);
    zip_error_fini(&ze);
    if (!p->za)
        return zip_fail(p, code, "cannot read the torch.save zip archive");
    return 0;
}

/* torch's reader takes the folder from the first entry and refuses any
 * entry outside it. */
static int find_prefix(struct wi_priv_pth *p)
{
    zip_int64_t n = zip_get_num_entries(p->za, 0);
    const char *first = n > 0 ? zip_get_name(p->za, 0, ZIP_FL_ENC_RAW) : NULL;
    if (!first)
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "the zip archive is empty: not a torch.save "
                                "file");
    const char *slash = strchr(first, '/');
    if (!slash || slash == first)
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "file in archive is not in a subdirectory: "
                                "'%.100s' (not a torch.save file)",
                                first);
    size_t plen = (size_t)(slash - first) + 1;
    if (!(p->prefix = strndup(first, plen)))
        return wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
    for (zip_int64_t i = 1; i < n; i++) {
        const char *name = zip_get_name(p->za, (zip_uint64_t)i,
                                        ZIP_FL_ENC_RAW);
        if (!name || strncmp(name, p->prefix, plen) != 0)
            return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                    "file in archive is not in the "
                                    "subdirectory '%s': '%.100s'",
                                    p->prefix, name ? name : "?");
    }
    return 0;
}

/* Index of prefix + rel, or -1. */
static zip_int64_t locate(struct wi_priv_pth *p, const char *rel)
{
    char name[1024];
    if ((size_t)snprintf(name, sizeof name, "%s%s", p->prefix, rel) >=
        sizeof name)
        return -1;
    return zip_name_locate(p->za, name, ZIP_FL_ENC_RAW);
}

/* Reads record rel (which must hold exactly `expect` bytes unless expect
 * is SIZE_MAX; at most `limit` bytes) into a new buffer. */
static int read_record(struct wi_priv_pth *p, const char *rel, const char *key,
                       size_t expect, uint64_t limit, uint8_t **out,
                       size_t *len)
{
    zip_int64_t idx = locate(p, rel);
    zip_stat_t st;
    if (idx < 0)
        return wi_priv_pth_fail(p, WI_EFORMAT, key,
                                "the zip archive has no record '%s%s'%s",
                                p->prefix, rel,
                                strcmp(rel, "data.pkl") == 0
                                    ? ": not a torch.save file"
                                    : " (truncated or corrupt file?)");
    if (zip_stat_index(p->za, (zip_uint64_t)idx, 0, &st) < 0 ||
        !(st.valid & ZIP_STAT_SIZE))
        return zip_fail(p, zip_error_code_zip(zip_get_error(p->za)),
                        "cannot read the zip directory");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
        st.encryption_method != ZIP_EM_NONE)
        return wi_priv_pth_fail(p, WI_EUNSUPPORTED, key,
                                "record '%s%s' is encrypted", p->prefix, rel);
    if (expect != SIZE_MAX && st.size != expect)
        return wi_priv_pth_fail(p, WI_EFORMAT, key,
                                "record '%s%s' holds %llu bytes but its "
                                "storage needs %zu (truncated or corrupt "
                                "file?)",
                                p->prefix, rel, (unsigned long long)st.size,
                                expect);
    if (st.size > limit || st.size > SIZE_MAX - 1)
        return wi_priv_pth_fail(p, WI_EUNSUPPORTED, key,
                                "record '%s%s' of %llu bytes is larger than "
                                "the %llu-byte limit",
                                p->prefix, rel, (unsigned long long)st.size,
                                (unsigned long long)limit);
    zip_flags_t flags = 0;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Let mutated records past the CRC check, to reach the pickle VM. */
    if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE)
        flags = ZIP_FL_COMPRESSED;
#endif
    uint8_t *buf = malloc(st.size ? (size_t)st.size : 1);
    zip_file_t *zf = buf ? zip_fopen_index(p->za, (zip_uint64_t)idx, flags)
                         : NULL;
    zip_int64_t got = 0, r = 0;
    while (zf && (uint64_t)got < st.size &&
           (r = zip_fread(zf, buf + got, st.size - (zip_uint64_t)got)) > 0)
        got += r;
    int ok = zf && r >= 0 && (uint64_t)got == st.size;
    char why[128];
    snprintf(why, sizeof why, "%s",
             !buf ? "out of memory"
             : zf ? (r < 0 ? zip_file_strerror(zf) : "the record is short")
                  : zip_strerror(p->za));
    if (zf)
        zip_fclose(zf);
    if (!ok) {
        free(buf);
        return wi_priv_pth_fail(p, buf ? WI_EFORMAT : WI_ENOMEM, key,
                                "cannot read record '%s%s': %s (truncated or "
                                "corrupt file?)",
                                p->prefix, rel, why);
    }
    *out = buf;
    *len = (size_t)st.size;
    return 0;
}

static int zip_load(struct wi_priv_pth *p, const wi_priv_storage_t *st,
                    const char *key)
{
    struct wi_priv_pth_sbytes *sb = &p->sb[st->index];
    char rel[512];
    uint64_t nbytes;
    if (wi_priv_pth_storage_nbytes(p, st, &nbytes) < 0)
        return WI_EFORMAT;
    if ((size_t)snprintf(rel, sizeof rel, "data/%s", st->key) >= sizeof rel)
        return wi_priv_pth_fail(p, WI_EFORMAT, key,
                                "storage key '%.64s...' is too long", st->key);
    if (read_record(p, rel, key, (size_t)nbytes, p->cap, &sb->owned,
                    &sb->nbytes) < 0)
        return WI_EFORMAT;
    sb->data = sb->owned;
    return 0;
}

/* "little" (or absent: files before pytorch#101688) or "big". */
static int read_byteorder(struct wi_priv_pth *p)
{
    uint8_t *buf;
    size_t len;
    if (locate(p, "byteorder") < 0)
        return 0;
    if (read_record(p, "byteorder", NULL, SIZE_MAX, 64, &buf, &len) < 0)
        return WI_EFORMAT;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    int big = len == 3 && memcmp(buf, "big", 3) == 0;
    int little = len == 6 && memcmp(buf, "little", 6) == 0;
    free(buf);
    if (!big && !little)
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "record '%sbyteorder' is neither 'little' nor "
                                "'big'",
                                p->prefix);
    p->swap = big == WI_HOST_LITTLE_ENDIAN;
    return 0;
}

wi_state_dict_t *wi_priv_pth_zip_select(wi_priv_blob_t *blob,
                                        const char *source,
                                        wi_priv_select_t *sel, wi_error_t *err)
{
    struct wi_priv_pth p = {.source = source, .blob = blob, .err = err,
                            .sel = sel};
    p.cap = wi_priv_output_cap(blob->len);
    wi_state_dict_t *sd = NULL;
    uint8_t *pkl = NULL;
    size_t pkl_len = 0, pos = 0;
    wi_priv_pval_t *root;
    if (zip_open_blob(&p) < 0 || find_prefix(&p) < 0 ||
        read_record(&p, "data.pkl", NULL, SIZE_MAX, WI_PICKLE_MAX_BYTES, &pkl,
                    &pkl_len) < 0 ||
        read_byteorder(&p) < 0)
        goto done;
    p.torchscript = locate(&p, "constants.pkl") >= 0;
    if (!(p.vm = wi_priv_pickle_new())) {
        wi_priv_pth_fail(&p, WI_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if (wi_priv_pickle_run(p.vm, pkl, pkl_len, &pos, 5, source, "data.pkl",
                           &root, err) < 0 ||
        wi_priv_pth_alloc_sbytes(&p) < 0)
        goto done;
    sd = wi_priv_pth_extract(&p, root, zip_load);
done:
    free(pkl);
    wi_priv_pth_free(&p);
    return sd;
}
