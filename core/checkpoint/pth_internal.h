/* The torch.save reader's parts: pth.c builds tensors from the pickle's
 * storages, pth_select.c chooses the tensors to hand out, pth_zip.c and
 * pth_legacy.c read the two file formats.  Internal; not exported. */
#ifndef WI_PTH_INTERNAL_H
#define WI_PTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <zip.h>

#include <weightinit/error.h>
#include <weightinit/state_dict.h>

#include "base/internal.h"
#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/pickle.h"

/* The bytes of one storage, as far as the reader got them. */
struct wi_priv_pth_sbytes {
    const uint8_t *data; /* NULL until loaded */
    uint8_t *owned;      /* heap copy (zip records), freed by the reader */
    size_t nbytes;
    size_t users; /* tensors of the selected dict still to be built */
    /* the shared buffer (one reference is the reader's; pth.c) */
    struct wi_priv_pth_block *block;
};

/* One torch.save file being read. */
struct wi_priv_pth {
    const char *source;
    wi_priv_blob_t *blob;
    wi_error_t *err;
    wi_priv_pickle_t *vm;
    int swap; /* the file's byte order is not the host's */
    uint64_t out, cap;
    struct wi_priv_pth_sbytes *sb;
    /* zip */
    zip_t *za;
    char *prefix; /* "archive/" */
    int torchscript;
    wi_priv_select_t *sel; /* NULL: MMEngine's choice */
};

/* Reads the bytes of storage st, which the tensor at key needs, into
 * p->sb (the format's reader: pth_zip.c, pth_legacy.c). */
typedef int (*wi_priv_pth_load_fn)(struct wi_priv_pth *p,
                                   const wi_priv_storage_t *st,
                                   const char *key);

/* Sets p->err in p->source at key and returns code (pth.c). */
WI_INTERNAL int wi_priv_pth_fail(struct wi_priv_pth *p, int code,
                                 const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An opaque value where data was needed: name the global that would
 * have built it (pth.c). */
WI_INTERNAL int wi_priv_pth_refuse_opaque(struct wi_priv_pth *p,
                                          const char *key,
                                          const wi_priv_pval_t *v);

/* The tensor v, named key, its storage read with load when no tensor
 * read it before (pth.c).  NULL with p->err set. */
WI_INTERNAL wi_tensor_t *wi_priv_pth_materialize(struct wi_priv_pth *p,
                                                 const char *key,
                                                 const wi_priv_pval_t *v,
                                                 wi_priv_pth_load_fn load);

/* p->sb for the VM's storages (pth.c). */
WI_INTERNAL int wi_priv_pth_alloc_sbytes(struct wi_priv_pth *p);
/* Frees what p holds, not p (pth.c). */
WI_INTERNAL void wi_priv_pth_free(struct wi_priv_pth *p);
/* The bytes of storage st in *nbytes, or WI_EFORMAT when they would not
 * fit in memory (pth.c). */
WI_INTERNAL int wi_priv_pth_storage_nbytes(struct wi_priv_pth *p,
                                           const wi_priv_storage_t *st,
                                           uint64_t *nbytes);

/* The state dict p->sel selects from the unpickled root (MMEngine's
 * choice when p->sel is NULL; pth_select.c); p->sb must be allocated.
 * NULL with p->err set. */
WI_INTERNAL wi_state_dict_t *wi_priv_pth_extract(struct wi_priv_pth *p,
                                                 const wi_priv_pval_t *root,
                                                 wi_priv_pth_load_fn load);

#endif
