/* Computing one piece of a tensor's values for a writer, the piece
 * handed on 256 KB at a time from a buffer that stays in cache: shared
 * by the file writer (write/pwrite_tensors.c) and the division of work
 * among processes (plan/partition.c).  Not part of the ABI. */
#ifndef WI_PLAN_PIECE_H
#define WI_PLAN_PIECE_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/tensor.h>

#include "base/internal.h"

/* Elements computed, then handed on, at a time. */
#define WI_PIECE_SUB ((int64_t)1 << 16)

/* Gets bytes [at, at + len) of the piece (at counted from its start);
 * returns 0, or an errno value that stops the piece. */
typedef int (*wi_priv_emit_fn)(void *ud, uint64_t at, const void *data,
                               size_t len);

/* Elements [begin, begin + count) of t, handed to emit in order: from
 * t's storage, or computed from its record (a deferred view: its
 * source's record, then converted; a deferred tensor without one:
 * zeros).  buf holds WI_PIECE_SUB elements of 8 bytes, fbuf
 * WI_PIECE_SUB floats.  0; -1 with *io set (emit's errno) or err filled. */
WI_INTERNAL int wi_priv_compute_piece(const wi_tensor_t *t, int64_t begin,
                                      int64_t count, void *buf, float *fbuf,
                                      wi_priv_emit_fn emit, void *ud,
                                      wi_error_t *err, int *io);

/* pwrite until all len bytes are at `at` of fd (EINTR retried): 0 or
 * an errno value. */
WI_INTERNAL int wi_priv_pwrite_all(int fd, const void *data, size_t len,
                                   uint64_t at);

#endif
