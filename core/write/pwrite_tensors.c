/* The parallel writer of a file's tensor bytes.  Pieces are independent:
 * a deferred tensor's piece is computed from its record with the
 * generator positioned by jump-ahead (a few bits: pieces start at
 * multiples of 2^24 elements), so any thread can take any piece, and the
 * page-cache copy of one piece overlaps the computing of the next.
 * Within a piece, values are computed 256 KB at a time and written from
 * the cache they were computed in: the copy into the page cache reads
 * L2, not memory. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weightinit/state_dict.h>

#include "kernels/parallel.h"
#include "plan/piece.h"
#include "write/write_internal.h"

#define CHUNK ((int64_t)1 << 24) /* elements of one piece: one jump */

typedef struct {
    int fd;
    const wi_state_dict_t *sd;
    wi_priv_progress_t *pr;
    pthread_mutex_t lock; /* the cursor, the progress, the first error */
    size_t tensor;        /* the next piece: tensor index ... */
    int64_t pos;          /* ... and its first element */
    uint64_t offset;      /* where that tensor's bytes start in fd */
    int failed;
    int io_errno;      /* a failed pwrite's errno, else 0 */
    wi_error_t error;  /* a failed computation's */
} job_t;

typedef struct {
    const wi_tensor_t *t;
    int64_t begin, count;
    uint64_t at; /* file offset of the piece */
    int last;    /* the tensor's last piece */
} piece_t;

/* Takes the next piece under the lock; 0 when none is left. */
static int next_piece(job_t *j, piece_t *p)
{
    while (j->tensor < wi_state_dict_size(j->sd)) {
        const wi_tensor_t *t = wi_state_dict_tensor(j->sd, j->tensor);
        int64_t n = wi_tensor_numel(t);
        size_t es = wi_dtype_size(wi_tensor_dtype(t));
        if (j->pos < n || (n == 0 && j->pos == 0)) {
            int64_t cnt = n - j->pos < CHUNK ? n - j->pos : CHUNK;
            *p = (piece_t){t, j->pos, cnt, j->offset + (uint64_t)j->pos * es,
                           j->pos + cnt == n};
            j->pos += cnt;
            if (n == 0)
                j->pos = 1; /* an empty tensor is one empty piece */
            return 1;
        }
        j->offset += wi_tensor_nbytes(t);
        j->tensor++;
        j->pos = 0;
    }
    return 0;
}

/* pwrites the piece's bytes at their place in the file. */
struct emit_ctx {
    int fd;
    uint64_t at;
};

static int emit(void *ud, uint64_t at, const void *data, size_t len)
{
    struct emit_ctx *e = ud;
    return wi_priv_pwrite_all(e->fd, data, len, e->at + at);
}

/* One piece, outside the lock. */
static int do_piece(job_t *j, const piece_t *p, void *buf, float *fbuf,
                    wi_error_t *err, int *io_errno)
{
    struct emit_ctx e = {j->fd, p->at};
    return wi_priv_compute_piece(p->t, p->begin, p->count, buf, fbuf, emit, &e, err,
                                 io_errno);
}

static void worker(int task, void *arg)
{
    (void)task;
    job_t *j = arg;
    /* Bytes as wide as any dtype; a view's float32 values before
     * conversion. */
    void *buf = malloc((size_t)WI_PIECE_SUB * 8);
    float *fbuf = malloc((size_t)WI_PIECE_SUB * sizeof *fbuf);
    piece_t p;
    pthread_mutex_lock(&j->lock);
    while (!j->failed && next_piece(j, &p)) {
        pthread_mutex_unlock(&j->lock);
        wi_error_t err = {0};
        int io = 0;
        int rc = buf && fbuf ? do_piece(j, &p, buf, fbuf, &err, &io)
                     : wi_error_set(&err, WI_ENOMEM, NULL, NULL,
                                    "out of memory for a write buffer");
        pthread_mutex_lock(&j->lock);
        if (rc < 0 && !j->failed) {
            j->failed = 1;
            j->io_errno = io;
            j->error = err;
        } else if (rc == 0) {
            size_t es = wi_dtype_size(wi_tensor_dtype(p.t));
            wi_priv_progress_add(j->pr, (uint64_t)p.count * es, (uint64_t)p.count,
                                 p.last);
        }
    }
    pthread_mutex_unlock(&j->lock);
    free(buf);
    free(fbuf);
}

int wi_priv_pwrite_tensors(int fd, uint64_t base, const wi_state_dict_t *sd,
                           wi_priv_progress_t *pr, const char *name,
                           wi_error_t *err)
{
    int threads;
    int rc = wi_threads_resolve(pr ? pr->threads : -1, &threads, err);
    if (rc < 0)
        return rc;
    job_t j = {.fd = fd, .sd = sd, .pr = pr, .offset = base};
    pthread_mutex_init(&j.lock, NULL);
    wi_parallel_run(threads, worker, &j);
    pthread_mutex_destroy(&j.lock);
    if (!j.failed)
        return 0;
    if (j.io_errno)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(j.io_errno));
    if (err) {
        *err = j.error;
        if (!err->source[0])
            snprintf(err->source, sizeof err->source, "%s", name ? name : "");
    }
    return j.error.code ? j.error.code : WI_ENOMEM;
}
