/* Dividing the writing of a state dict among processes (MPI ranks, a
 * job array, the tensor-parallel ranks of a training framework), with
 * no communication but every process holding the same plan.
 *
 * A tensor of the write plan (tensor.h, "Deferred values") can compute
 * any range of its values on its own: the generator is positioned by
 * jump-ahead.  So when every process builds the same model with the same
 * seed and runs the same init, each can compute just its share, and the
 * bytes are those one process would write, for any number of processes.
 *
 * The pieces:
 *   - an extent says where one tensor's bytes go: a file (an index the
 *     caller gives meaning to) and a byte offset in it;
 *     wi_extents_packed() gives those of one safetensors file from its
 *     state dict, wi_extents_from_safetensors() reads them from a file's
 *     header (for shards written by another process);
 *   - wi_partition() cuts the extents' bytes into `size` contiguous,
 *     balanced shares (in the extents' order) and returns rank's pieces;
 *     deterministic: every process gets the same answer for a rank;
 *   - wi_pieces_write() computes pieces and hands their bytes to a sink
 *     (a pwrite, an MPI_File_write_at, a memcpy into the caller's memory)
 *     with the threads of the caller's choosing; wi_pieces_pwrite() is it
 *     with pwrite on one file descriptor per file.
 *   - wi_tensor_digest() hashes what decides a tensor's values, so the
 *     processes can check that they do hold the same plan (the same
 *     model, seed, profile, dtype, init) before writing.
 * To compute an arbitrary range straight into memory (a tensor-parallel
 * shard of rows of a weight), wi_tensor_read() does it for one tensor:
 * rows [r0, r1) of a [rows, cols] weight are elements [r0*cols, r1*cols).
 *
 * Nothing here uses MPI; the weightinit command's MPI glue (docs/mpi.md)
 * is built on these calls. */
#ifndef WEIGHTINIT_PARTITION_H
#define WEIGHTINIT_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include <weightinit/error.h>
#include <weightinit/state_dict.h>
#include <weightinit/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a tensor's bytes go.  tensor is borrowed (it must outlive every
 * use of the extent). */
typedef struct wi_extent {
    const wi_tensor_t *tensor;
    size_t file;     /* the caller's file number */
    uint64_t offset; /* of the tensor's first byte in that file */
} wi_extent_t;

/* Elements [begin, begin + count) of extent `extent`'s tensor, whose
 * bytes go at byte `offset` of file `file`. */
typedef struct wi_piece {
    size_t extent; /* index into the extents the pieces were cut from */
    size_t file;
    int64_t begin, count;
    uint64_t offset;
} wi_piece_t;

/* *out = a new array (the caller frees it with free()) of one extent per
 * tensor of sd, in order, packed from byte `base` of file `file` as a
 * safetensors file lays them out (base = 8 + its header's length).
 * Appends to *out / *n when they already hold extents (start with NULL
 * and 0).  0 or WI_ENOMEM (*out unchanged). */
int wi_extents_packed(const wi_state_dict_t *sd, size_t file, uint64_t base,
                      wi_extent_t **out, size_t *n, wi_error_t *err);

/* Appends to *out / *n the extents of the safetensors file open on fd
 * (named name in messages) as numbered `file`, reading its header: each
 * tensor of the header is matched by name to sd's tensor, whose dtype and
 * byte size must agree.  0, WI_EIO (cannot read), WI_EFORMAT (not a
 * safetensors header, a name sd lacks, a dtype or size that differs). */
int wi_extents_from_safetensors(int fd, const char *name,
                                const wi_state_dict_t *sd, size_t file,
                                wi_extent_t **out, size_t *n,
                                wi_error_t *err);

/* *pieces = a new array (free()) of rank's share of the extents' bytes:
 * the bytes of all extents, in order, are cut into `size` contiguous
 * ranges of nearly equal size (within 16 elements: a cut inside a tensor
 * is at a multiple of 16 of its elements, where a normal fill's blocks
 * start), and rank's range into pieces of at most 2^24 elements of one
 * tensor.  Every element of
 * every extent is in exactly one rank's pieces; a rank may get none
 * (*n_pieces = 0, *pieces NULL).  0, WI_EINVAL (rank outside
 * [0, size)), WI_ENOMEM. */
int wi_partition(const wi_extent_t *ext, size_t n_ext, int rank, int size,
                 wi_piece_t **pieces, size_t *n_pieces, wi_error_t *err);

/* Receives len bytes to be stored at byte offset of file (a piece's
 * file); called from any of the writing threads at once.  0, or an errno
 * value that stops the write. */
typedef int (*wi_piece_sink_t)(void *ud, size_t file, uint64_t offset,
                               const void *data, size_t len);

/* Computes the pieces (of ext, as wi_partition returned them) and gives
 * their bytes to sink, at most 256 KB at a time, with `threads` threads
 * (0: all cores), each taking the next piece.  The values are those the
 * whole-tensor write stored (the same bits for any division of work).
 * Tensors in memory are read, not copied.  0; WI_EIO "cannot write: "
 * + strerror when the sink failed; or the computation's error. */
int wi_pieces_write(const wi_extent_t *ext, const wi_piece_t *pieces,
                    size_t n_pieces, int threads, wi_piece_sink_t sink,
                    void *ud, wi_error_t *err);

/* wi_pieces_write with pwrite: file k's bytes go to fds[k] (n_fds of
 * them; a piece of another file is WI_EINVAL). */
int wi_pieces_pwrite(const wi_extent_t *ext, const wi_piece_t *pieces,
                     size_t n_pieces, int threads, const int *fds,
                     size_t n_fds, wi_error_t *err);

/* out = the SHA-256 digest of t's dtype, shape and values as its plan
 * holds them, computing no value: a deferred tensor's record (the fill,
 * its float parameters and the generator's position at its first draw,
 * or the constant), a deferred view's source and rounding, the bytes of
 * a tensor in memory (all of them are read).  The same digest on two
 * processes: the same bytes for every piece either computes; a
 * different one: a different plan (the same values reached another way,
 * a fill against a load of its result, also differ). */
void wi_tensor_digest(const wi_tensor_t *t, unsigned char out[32]);

#ifdef __cplusplus
}
#endif
#endif
