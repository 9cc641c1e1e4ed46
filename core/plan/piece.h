/* The piece writer: the one place values become bytes for a file.  Every
 * writer of tensor data (a safetensors file or stream, its shards, the
 * command's MPI ranks, a caller's sink through wi_pieces_write) lays the
 * tensors out as extents, cuts them into pieces (partition.c) and runs
 * them here.  Not part of the ABI. */
#ifndef WI_PLAN_PIECE_H
#define WI_PLAN_PIECE_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/partition.h>
#include <weightinit/tensor.h>

#include "base/internal.h"

/* Elements computed, then handed on, at a time: 256 KB of float32 stays
 * in cache between computing and copying. */
#define WI_PIECE_SUB ((int64_t)1 << 16)
/* Elements of one piece of a file written at offsets: one jump of the
 * generator each. */
#define WI_PIECE_ELEMS ((int64_t)1 << 24)
/* Elements of one piece of a stream: each thread holds one whole until
 * its turn, so they are smaller. */
#define WI_PIECE_STREAM_ELEMS ((int64_t)1 << 20)

/* Told of each piece written, under the runner's lock (progress). */
typedef void (*wi_priv_piece_done_fn)(void *ud, const wi_tensor_t *t,
                                      const wi_piece_t *p);

typedef struct wi_priv_piece_run {
    int threads;            /* wi_threads_resolve's request */
    wi_piece_sink_t sink;
    void *sink_ud;
    wi_priv_piece_done_fn done; /* may be NULL */
    void *done_ud;
    /* The sink gets the pieces' bytes in order, each piece whole (a
     * stream): the threads compute ahead and wait their turn. */
    int ordered;
} wi_priv_piece_run_t;

/* wi_pieces_write with run's settings; see partition.h. */
WI_INTERNAL int wi_priv_pieces_run(const wi_extent_t *ext, const wi_piece_t *pieces,
                                   size_t n_pieces, const wi_priv_piece_run_t *run,
                                   wi_error_t *err);

/* wi_partition with pieces of at most `elems` elements. */
WI_INTERNAL int wi_priv_partition(const wi_extent_t *ext, size_t n_ext, int rank,
                                  int size, int64_t elems, wi_piece_t **pieces,
                                  size_t *n_pieces, wi_error_t *err);

/* pwrite until all len bytes are at `at` of fd (EINTR retried): 0 or
 * an errno value. */
WI_INTERNAL int wi_priv_pwrite_all(int fd, const void *data, size_t len,
                                   uint64_t at);

#endif
