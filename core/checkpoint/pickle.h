/* A small, safe pickle virtual machine for torch.save streams.  Internal;
 * not exported.
 *
 * It accepts only the opcodes torch's weights_only unpickler accepts (plus
 * EMPTY_SET/ADDITEMS), never imports or calls anything, and interprets only
 * an allowlist of globals (collections.OrderedDict, the torch._utils
 * rebuild functions, torch.*Storage types).  Every other GLOBAL that is
 * called (REDUCE/NEWOBJ) yields an inert "opaque" node, so that a full
 * MMEngine training checkpoint can be read and only its state_dict used;
 * the caller refuses opaque nodes where it needs real data.
 *
 * All nodes live in the VM and are freed with it; pointers into a VM stay
 * valid until wi_priv_pickle_free(). */
#ifndef WI_PICKLE_H
#define WI_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>

#include "base/internal.h"

/* Refuse pickles larger than this: a state dict's data.pkl is kilobytes to
 * a few megabytes, all tensor bytes live outside it. */
#define WI_PICKLE_MAX_BYTES ((size_t)256 << 20)
/* MARK nesting: Python's own pickler cannot produce more (recursion
 * limit 1000), so anything deeper is hostile. */
#define WI_PICKLE_MAX_DEPTH 1000

typedef enum wi_priv_pkind {
    WI_PK_NONE,
    WI_PK_BOOL,
    WI_PK_INT,
    WI_PK_BIGINT,  /* a LONG1 that does not fit int64: raw LE bytes */
    WI_PK_FLOAT,
    WI_PK_STR,
    WI_PK_TUPLE,
    WI_PK_LIST,
    WI_PK_SET,
    WI_PK_DICT,    /* dict or OrderedDict, items in insertion order */
    WI_PK_GLOBAL,  /* a class or function reference, never resolved */
    WI_PK_OPAQUE,  /* what calling a non-allowlisted global would build */
    WI_PK_STORAGE, /* a persistent id ('storage', ...) */
    WI_PK_TENSOR   /* torch._utils._rebuild_tensor_v2 and friends */
} wi_priv_pkind_t;

/* One storage, shared by every persistent id with the same key (as
 * torch.load does: the first id seen fixes type and size). */
typedef struct wi_priv_storage {
    size_t index;          /* 0, 1, ... in order of first appearance */
    const char *key;       /* "0" (zip) or a pointer value (legacy) */
    const char *type_name; /* "FloatStorage", ... */
    int dtype;             /* a wi_dtype_t, or -1 when unsupported */
    size_t esize;          /* element size in bytes */
    int64_t numel;         /* elements, as the persistent id says */
} wi_priv_storage_t;

typedef struct wi_priv_pval wi_priv_pval_t;

struct wi_priv_pval {
    wi_priv_pkind_t kind;
    union {
        int64_t i; /* BOOL, INT */
        double f;
        struct {
            const char *data; /* NUL-terminated copy (STR may hold NULs) */
            size_t len;
        } str; /* STR, BIGINT */
        struct {
            wi_priv_pval_t **items;
            size_t len, cap;
        } seq; /* TUPLE, LIST, SET */
        struct {
            wi_priv_pval_t **keys, **values;
            size_t len, cap;
            int ordered;
        } dict; /* duplicate keys are kept; lookups take the last one */
        struct {
            const char *module, *name;
            int tensor; /* OPAQUE: a tensor (subclass) we do not build */
        } global; /* GLOBAL; for OPAQUE, the global that would build it */
        wi_priv_storage_t *storage;
        struct {
            wi_priv_storage_t *storage;
            int64_t offset; /* elements */
            int ndim;
            const int64_t *size, *stride;
            /* NULL, or why the arguments are wrong: reported only if the
             * tensor is asked for, with its key (ndim is then -1) */
            const char *invalid;
        } tensor; /* validated: sizes, strides >= 0, inside the storage */
    } u;
};

typedef struct wi_priv_pickle wi_priv_pickle_t;

WI_INTERNAL wi_priv_pickle_t *wi_priv_pickle_new(void);
WI_INTERNAL void wi_priv_pickle_free(wi_priv_pickle_t *vm);

/* Runs one pickle that starts at buf[*pos] (the buffer is len bytes; the
 * stream may continue after STOP).  pid_len is the persistent id tuple
 * length: 5 for the zip format, 6 for the legacy stream.  what names the
 * stream in messages ("data.pkl"); byte positions are offsets in buf.  On
 * success *out is the value and *pos is just past STOP.  Several pickles
 * may be run on one VM (each has its own memo; storages are shared). */
WI_INTERNAL int wi_priv_pickle_run(wi_priv_pickle_t *vm, const uint8_t *buf,
                                   size_t len, size_t *pos, int pid_len,
                                   const char *source, const char *what,
                                   wi_priv_pval_t **out, wi_error_t *err);

/* How many distinct storages were seen so far. */
WI_INTERNAL size_t wi_priv_pickle_nstorages(const wi_priv_pickle_t *vm);
WI_INTERNAL wi_priv_storage_t *
wi_priv_pickle_find_storage(wi_priv_pickle_t *vm, const char *key);

/* Bytes the VM holds for its values (at most 1 GiB): a bound on how many
 * values and references a run built. */
WI_INTERNAL size_t wi_priv_pickle_memory(const wi_priv_pickle_t *vm);

/* "a dict", "an int", ... for messages. */
WI_INTERNAL const char *wi_priv_pval_kind(const wi_priv_pval_t *v);
/* The value of the last item whose key is the string key, or NULL. */
WI_INTERNAL wi_priv_pval_t *wi_priv_pdict_get(const wi_priv_pval_t *dict,
                                              const char *key);

/* A string set for de-duplicating keys: returns the slot index of key,
 * inserting it when absent (*added = 1).  Keys are borrowed. */
typedef struct wi_priv_strset {
    const char **keys;
    size_t *values;
    size_t len, cap;
} wi_priv_strset_t;
WI_INTERNAL int wi_priv_strset_put(wi_priv_strset_t *set, const char *key,
                                   size_t value, size_t *found, int *added);
/* 1 and *value when key is present, else 0. */
WI_INTERNAL int wi_priv_strset_get(const wi_priv_strset_t *set,
                                   const char *key, size_t *value);
WI_INTERNAL void wi_priv_strset_free(wi_priv_strset_t *set);

#endif
