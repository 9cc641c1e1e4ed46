/* Checkpoint readers: shared pieces of checkpoint.c, safetensors_read.c
 * and the pth*.c files.  Internal; not exported (the fuzzers compile the
 * sources directly to reach the from-memory entry points). */
#ifndef WI_CHECKPOINT_INTERNAL_H
#define WI_CHECKPOINT_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <weightinit/error.h>
#include <weightinit/state_dict.h>

#include "base/internal.h"

/* The bytes of a checkpoint file: a heap copy, or a private writable
 * mapping of the file (wi_checkpoint_load_mapped).  Reference counted, because tensors may point into it
 * (wi_tensor_wrap) and outlive the reader. */
typedef struct wi_priv_blob {
    uint8_t *data;
    size_t len;
    atomic_int refs;
    int mapped; /* munmap() rather than free() */
} wi_priv_blob_t;

/* Which tensors a reader hands out.  A NULL selection is MMEngine's:
 * the top-level dict, or checkpoint['state_dict'] when there is one. */
typedef enum wi_priv_sel_mode {
    WI_SEL_KEY,  /* the dict at the dotted path key ("" = top level) */
    WI_SEL_AUTO, /* state_dict, else the one top-level dict of tensors,
                  * else the top level; several candidates: an error */
    WI_SEL_ALL   /* every tensor at any depth, named by its full path */
} wi_priv_sel_mode_t;

typedef struct wi_priv_select {
    wi_priv_sel_mode_t mode;
    const char *key; /* WI_SEL_KEY */
    char *chosen;    /* out, KEY/AUTO: the path used (malloc'd) */
    json_t *info;    /* out, ALL: {"format", "structure", "metadata"} */
} wi_priv_select_t;

/* Reads path (a non-empty regular file) into memory; a file that
 * shrinks or changes while being read is an error.  NULL with err set. */
WI_INTERNAL wi_priv_blob_t *wi_priv_blob_read(const char *path,
                                              wi_error_t *err);
/* Maps path (a non-empty regular file): see wi_checkpoint_load_mapped for
 * the SIGBUS contract.  NULL with err set. */
WI_INTERNAL wi_priv_blob_t *wi_priv_blob_map(const char *path,
                                             wi_error_t *err);
/* Maps the file open on fd (for reading; any size, named name in
 * messages); fd stays the caller's.  NULL with err set. */
WI_INTERNAL wi_priv_blob_t *wi_priv_blob_map_fd(int fd, const char *name,
                                                wi_error_t *err);
/* A blob holding a copy of len bytes (len may be 0). */
WI_INTERNAL wi_priv_blob_t *wi_priv_blob_copy(const void *data, size_t len,
                                              wi_error_t *err);
WI_INTERNAL void wi_priv_blob_ref(wi_priv_blob_t *blob);
WI_INTERNAL void wi_priv_blob_unref(wi_priv_blob_t *blob);

/* Detects the format from the first bytes and reads the blob; source names
 * the file in messages.  The blob stays owned by the caller (tensors take
 * their own references). */
WI_INTERNAL wi_state_dict_t *wi_priv_checkpoint_read(wi_priv_blob_t *blob,
                                                     const char *source,
                                                     wi_error_t *err);

/* "safetensors" or "torch.save" as wi_priv_checkpoint_read would read
 * the blob (by its first bytes), or NULL when it is neither. */
WI_INTERNAL const char *wi_priv_blob_format(const wi_priv_blob_t *blob);

/* The same with a selection (NULL = MMEngine's). */
WI_INTERNAL wi_state_dict_t *wi_priv_checkpoint_select(wi_priv_blob_t *blob,
                                                       const char *source,
                                                       wi_priv_select_t *sel,
                                                       wi_error_t *err);
WI_INTERNAL wi_state_dict_t *wi_priv_safetensors_select(wi_priv_blob_t *blob,
                                                        const char *source,
                                                        wi_priv_select_t *sel,
                                                        wi_error_t *err);
/* torch.save zip format (the blob starts with PK\3\4; pth_zip.c). */
WI_INTERNAL wi_state_dict_t *wi_priv_pth_zip_select(wi_priv_blob_t *blob,
                                                    const char *source,
                                                    wi_priv_select_t *sel,
                                                    wi_error_t *err);
/* torch.save legacy stream (magic number pickle first; pth_legacy.c). */
WI_INTERNAL wi_state_dict_t *wi_priv_pth_legacy_select(wi_priv_blob_t *blob,
                                                       const char *source,
                                                       wi_priv_select_t *sel,
                                                       wi_error_t *err);

/* A sharded checkpoint's index (model.safetensors.index.json,
 * pytorch_model.bin.index.json): every shard's tensors, in weight_map
 * order, each checked to be in the shard the index names. */
WI_INTERNAL wi_state_dict_t *wi_priv_index_select(const char *path,
                                                  wi_priv_select_t *sel,
                                                  wi_error_t *err);
/* 1 when path names a sharded checkpoint's index (*.index.json). */
WI_INTERNAL int wi_priv_is_index(const char *path);

WI_INTERNAL wi_state_dict_t *wi_priv_safetensors_read(wi_priv_blob_t *blob,
                                                      const char *source,
                                                      wi_error_t *err);

/* A human hint when the bytes are not a checkpoint at all: a git-lfs
 * pointer, an HTML page, ... (static string), or NULL. */
WI_INTERNAL const char *wi_priv_sniff_text(const uint8_t *data, size_t len);

/* A loader may hand out at most this many tensor bytes for a file of len
 * bytes: views of one storage (stride 0, overlapping views) could
 * otherwise turn a small file into terabytes. */
WI_INTERNAL uint64_t wi_priv_output_cap(size_t len);

/* 1 when the host stores numbers little-endian, as checkpoints do. */
#define WI_HOST_LITTLE_ENDIAN (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* Reverses the bytes of each esize-byte element in place (esize 1, 2, 4,
 * 8 or 16; nbytes a multiple of esize). */
WI_INTERNAL void wi_priv_swap_elements(void *data, size_t nbytes,
                                       size_t esize);

#endif
