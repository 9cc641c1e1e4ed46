/* torch.save's legacy stream (before PyTorch 1.6): magic number,
 * protocol and sys_info pickles, the object, then the storages' bytes. */
#include <string.h>

#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/pickle.h"
#include "checkpoint/pth_internal.h"

/* Python's int 0x1950a86a20f9469cfc6c as LONG1 bytes. */
static const uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                  0x20, 0x6a, 0xa8, 0x50, 0x19};

static int run(struct wi_priv_pth *p, size_t *pos, const char *what,
               wi_priv_pval_t **out)
{
    return wi_priv_pickle_run(p->vm, p->blob->data, p->blob->len, pos, 6,
                              p->source, what, out, p->err);
}

/* Magic number, protocol version, sys_info. */
static int legacy_preamble(struct wi_priv_pth *p, size_t *pos)
{
    wi_priv_pval_t *v;
    if (run(p, pos, "legacy torch.save stream: magic number pickle", &v) < 0)
        return WI_EFORMAT;
    if (v->kind != WI_PK_BIGINT || v->u.str.len != sizeof magic ||
        memcmp(v->u.str.data, magic, sizeof magic) != 0)
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "invalid magic number; corrupt file? (a pickle "
                                "that is not a torch.save checkpoint)");
    if (run(p, pos, "legacy torch.save stream: protocol version pickle",
            &v) < 0)
        return WI_EFORMAT;
    if (v->kind != WI_PK_INT || v->u.i != 1001)
        return wi_priv_pth_fail(p, WI_EUNSUPPORTED, NULL,
                                "legacy torch.save protocol version is not 1001");
    if (run(p, pos, "legacy torch.save stream: sys_info pickle", &v) < 0)
        return WI_EFORMAT;
    const wi_priv_pval_t *le = wi_priv_pdict_get(v, "little_endian");
    if (v->kind != WI_PK_DICT || (le && le->kind != WI_PK_BOOL))
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "legacy torch.save sys_info is not a dict with "
                                "a boolean little_endian");
    p->swap = (le ? (int)le->u.i : 1) != WI_HOST_LITTLE_ENDIAN;
    return 0;
}

/* After the key list: per key, an int64 element count and raw bytes. */
static int legacy_storages(struct wi_priv_pth *p, size_t pos,
                           const wi_priv_pval_t *keys)
{
    const uint8_t *d = p->blob->data;
    size_t len = p->blob->len;
    if (keys->kind != WI_PK_LIST)
        return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                "legacy torch.save storage key list is %s, not "
                                "a list",
                                wi_priv_pval_kind(keys));
    for (size_t i = 0; i < keys->u.seq.len; i++) {
        const wi_priv_pval_t *k = keys->u.seq.items[i];
        const wi_priv_storage_t *st =
            k->kind == WI_PK_STR ? wi_priv_pickle_find_storage(p->vm,
                                                               k->u.str.data)
                                 : NULL;
        if (!st)
            return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                    "legacy torch.save storage key %zu is not "
                                    "a storage of the object pickle",
                                    i);
        uint64_t nbytes, numel;
        if (len - pos < 8)
            return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                    "truncated file: the size of storage '%s' "
                                    "is missing at byte %zu",
                                    st->key, pos);
        memcpy(&numel, d + pos, 8);
        if (p->swap)
            wi_priv_swap_elements(&numel, 8, 8);
        pos += 8;
        if (numel != (uint64_t)st->numel)
            return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                    "storage '%s' has wrong size: expected "
                                    "%lld got %llu",
                                    st->key, (long long)st->numel,
                                    (unsigned long long)numel);
        if (wi_priv_pth_storage_nbytes(p, st, &nbytes) < 0)
            return WI_EFORMAT;
        if (nbytes > len - pos)
            return wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                                    "truncated file: storage '%s' needs %llu "
                                    "bytes at byte %zu, only %zu left",
                                    st->key, (unsigned long long)nbytes, pos,
                                    len - pos);
        p->sb[st->index].data = d + pos;
        p->sb[st->index].nbytes = (size_t)nbytes;
        pos += (size_t)nbytes;
    }
    return 0;
}

static int legacy_load(struct wi_priv_pth *p, const wi_priv_storage_t *st,
                       const char *key)
{
    return wi_priv_pth_fail(p, WI_EFORMAT, key,
                            "storage '%s' has no data in the file (missing "
                            "from the storage key list)",
                            st->key);
}

wi_state_dict_t *wi_priv_pth_legacy_select(wi_priv_blob_t *blob,
                                           const char *source,
                                           wi_priv_select_t *sel,
                                           wi_error_t *err)
{
    struct wi_priv_pth p = {.source = source, .blob = blob, .err = err,
                            .sel = sel};
    p.cap = wi_priv_output_cap(blob->len);
    wi_state_dict_t *sd = NULL;
    wi_priv_pval_t *root, *keys;
    size_t pos = 0;
    if (!(p.vm = wi_priv_pickle_new())) {
        wi_priv_pth_fail(&p, WI_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if (legacy_preamble(&p, &pos) < 0 ||
        run(&p, &pos, "legacy torch.save stream: object pickle", &root) < 0 ||
        run(&p, &pos, "legacy torch.save stream: storage key list", &keys) <
            0 ||
        wi_priv_pth_alloc_sbytes(&p) < 0 || legacy_storages(&p, pos, keys) < 0)
        goto done;
    sd = wi_priv_pth_extract(&p, root, legacy_load);
done:
    wi_priv_pth_free(&p);
    return sd;
}
