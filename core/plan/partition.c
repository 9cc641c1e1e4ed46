/* Dividing a write among processes (partition.h).  A rank's share is a
 * contiguous run of the output's bytes, so each writes few, large
 * regions (what parallel file systems stripe well) and positions its
 * generators with one jump per piece of 2^24 elements. */
#include <stdlib.h>

#include <weightinit/partition.h>

#include "plan/piece.h"
#include "tensor/tensor_internal.h"

int wi_extents_packed(const wi_state_dict_t *sd, size_t file, uint64_t base,
                      wi_extent_t **out, size_t *n, wi_error_t *err)
{
    size_t count = wi_state_dict_size(sd);
    wi_extent_t *grown = realloc(*out, (*n + count + 1) * sizeof *grown);
    if (!grown)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    *out = grown;
    for (size_t i = 0; i < count; i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        (*out)[(*n)++] = (wi_extent_t){t, file, base};
        base += wi_tensor_nbytes(t);
    }
    return 0;
}

/* floor(total * r / size) without overflowing 64 bits. */
static uint64_t cut(uint64_t total, int r, int size)
{
    uint64_t q = total / (uint64_t)size, m = total % (uint64_t)size;
    return q * (uint64_t)r + m * (uint64_t)r / (uint64_t)size;
}

/* The first element of a tensor of es-byte elements, starting at global
 * byte `start`, whose first byte is at or after global byte `at`, rounded
 * up to a multiple of 16: a normal fill computes blocks of 16, and a
 * piece's later parts must start on one (tensor/record.h). */
static int64_t first_at(uint64_t at, uint64_t start, size_t es, int64_t n)
{
    if (at <= start)
        return 0;
    uint64_t e = (at - start + es - 1) / es;
    e = (e + 15) & ~(uint64_t)15;
    return e > (uint64_t)n ? n : (int64_t)e;
}

/* Adds rank's pieces of one extent: elements [lo, hi) cut every
 * `elems`. */
static int add_pieces(const wi_extent_t *x, size_t i, int64_t lo, int64_t hi,
                      int64_t elems, wi_piece_t **p, size_t *n, size_t *cap)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(x->tensor));
    for (int64_t b = lo; b < hi; b += elems) {
        if (*n == *cap) {
            size_t c = *cap ? 2 * *cap : 16;
            wi_piece_t *q = realloc(*p, c * sizeof *q);
            if (!q)
                return WI_ENOMEM;
            *p = q;
            *cap = c;
        }
        int64_t cnt = hi - b < elems ? hi - b : elems;
        (*p)[(*n)++] = (wi_piece_t){i, x->file, b, cnt,
                                    x->offset + (uint64_t)b * es};
    }
    return 0;
}

int wi_partition(const wi_extent_t *ext, size_t n_ext, int rank, int size,
                 wi_piece_t **pieces, size_t *n_pieces, wi_error_t *err)
{
    return wi_priv_partition(ext, n_ext, rank, size, WI_PIECE_ELEMS, pieces, n_pieces,
                             err);
}

int wi_priv_partition(const wi_extent_t *ext, size_t n_ext, int rank, int size,
                      int64_t elems, wi_piece_t **pieces, size_t *n_pieces,
                      wi_error_t *err)
{
    if (size < 1 || rank < 0 || rank >= size)
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "rank %d of %d: expected 0 <= rank < size", rank, size);
    uint64_t total = 0;
    for (size_t i = 0; i < n_ext; i++)
        total += wi_tensor_nbytes(ext[i].tensor);
    uint64_t lo = cut(total, rank, size), hi = cut(total, rank + 1, size);
    wi_piece_t *p = NULL;
    size_t n = 0, cap = 0;
    uint64_t start = 0; /* the global byte of extent i's first byte */
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_ext && start < hi; i++) {
        const wi_tensor_t *t = ext[i].tensor;
        size_t es = wi_dtype_size(wi_tensor_dtype(t));
        int64_t numel = wi_tensor_numel(t);
        /* An element belongs to the rank whose range holds its first
         * byte (moved to the next multiple of 16). */
        int64_t a = first_at(lo, start, es, numel), b = first_at(hi, start, es, numel);
        if (rank == size - 1)
            b = numel;
        rc = a < b ? add_pieces(&ext[i], i, a, b, elems, &p, &n, &cap) : 0;
        start += wi_tensor_nbytes(t);
    }
    if (rc < 0) {
        free(p);
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    }
    *pieces = p;
    *n_pieces = n;
    return 0;
}
