/* The piece writer (piece.h): threads take the next piece, compute it
 * 256 KB at a time through the tensor cursor and hand the bytes to a
 * sink, so computing and copying use every core and the copy reads
 * cache, not memory.  A stream's pieces are handed on in order. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/parallel.h"
#include "plan/piece.h"
#include "tensor/read.h"

/* Most threads computing ahead of a stream: each holds a piece. */
#define MAX_ORDERED_THREADS 8

/* Gets bytes [at, at + len) of the piece (at counted from its start);
 * returns 0, or an errno value that stops the piece. */
typedef int (*emit_fn)(void *ud, uint64_t at, const void *data, size_t len);

/* Elements [begin, begin + count) of t, handed to emit in order.  buf
 * holds WI_PIECE_SUB elements of 8 bytes, fbuf WI_PIECE_SUB floats.  0;
 * -1 with *io set (emit's errno) or err filled. */
static int compute_piece(const wi_tensor_t *t, int64_t begin, int64_t count,
                         void *buf, float *fbuf, emit_fn emit, void *ud,
                         wi_error_t *err, int *io)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(t));
    wi_priv_tensor_cursor_t c;
    /* One thread: the pieces are what runs in parallel. */
    if (wi_priv_tensor_cursor_start(&c, t, begin, 1, err) < 0)
        return -1;
    for (int64_t done = 0; done < count; done += WI_PIECE_SUB) {
        int64_t cnt = count - done < WI_PIECE_SUB ? count - done : WI_PIECE_SUB;
        const void *bytes;
        if (wi_priv_tensor_cursor_next(&c, cnt, buf, fbuf, &bytes, err) < 0)
            return -1;
        if ((*io = emit(ud, (uint64_t)done * es, bytes, (size_t)cnt * es)) != 0)
            return -1;
    }
    return 0;
}

typedef struct {
    const wi_extent_t *ext;
    const wi_piece_t *pieces;
    size_t n, next;
    const wi_priv_piece_run_t *run;
    pthread_mutex_t lock; /* next, turn, the first error */
    pthread_cond_t turned;
    size_t turn; /* ordered: the piece the sink gets next */
    int failed, io_errno;
    wi_error_t error;
} job_t;

/* One worker's buffers: a part's bytes as wide as any dtype, a view's
 * float32 values before conversion, and (ordered) a whole piece. */
typedef struct {
    void *buf;
    float *fbuf;
    char *hold;
    size_t hold_size;
} bufs_t;

/* Hands bytes to the sink at their file offset. */
struct to_sink {
    const job_t *j;
    const wi_piece_t *p;
};

static int emit_sink(void *ud, uint64_t at, const void *data, size_t len)
{
    struct to_sink *e = ud;
    return e->j->run->sink(e->j->run->sink_ud, e->p->file, e->p->offset + at, data, len);
}

static int emit_hold(void *ud, uint64_t at, const void *data, size_t len)
{
    memcpy((char *)ud + at, data, len);
    return 0;
}

static int compute(job_t *j, const wi_piece_t *p, bufs_t *b, wi_error_t *err, int *io)
{
    const wi_tensor_t *t = j->ext[p->extent].tensor;
    if (p->begin < 0 || p->count < 0 || p->begin > wi_tensor_numel(t) - p->count)
        return wi_error_set(err, WI_EINVAL, NULL, NULL, "a piece outside its tensor");
    if (!j->run->ordered) {
        struct to_sink e = {j, p};
        return compute_piece(t, p->begin, p->count, b->buf, b->fbuf, emit_sink, &e,
                             err, io);
    }
    size_t need = (size_t)p->count * wi_dtype_size(wi_tensor_dtype(t));
    if (need > b->hold_size) {
        free(b->hold);
        b->hold_size = 0;
        if (!(b->hold = malloc(need)))
            return wi_error_set(err, WI_ENOMEM, NULL, NULL,
                                "out of memory for a write buffer");
        b->hold_size = need;
    }
    return compute_piece(t, p->begin, p->count, b->buf, b->fbuf, emit_hold, b->hold,
                         err, io);
}

/* Ordered: waits (lock held) for piece idx's turn, hands it on without
 * the lock, and passes the turn on. */
static int hand_on(job_t *j, size_t idx, const wi_piece_t *p, const bufs_t *b, int *io)
{
    while (!j->failed && j->turn != idx)
        pthread_cond_wait(&j->turned, &j->lock);
    if (j->failed)
        return 0; /* another piece failed first: its error stands */
    pthread_mutex_unlock(&j->lock);
    size_t len = (size_t)p->count * wi_dtype_size(wi_tensor_dtype(j->ext[p->extent].tensor));
    *io = j->run->sink(j->run->sink_ud, p->file, p->offset, b->hold, len);
    pthread_mutex_lock(&j->lock);
    j->turn++;
    pthread_cond_broadcast(&j->turned);
    return *io ? -1 : 0;
}

/* Records the first failure and wakes the threads waiting their turn. */
static void fail(job_t *j, const wi_error_t *err, int io)
{
    if (j->failed)
        return;
    j->failed = 1;
    j->io_errno = io;
    j->error = *err;
    pthread_cond_broadcast(&j->turned);
}

static void worker(int task, void *arg)
{
    (void)task;
    job_t *j = arg;
    bufs_t b = {malloc((size_t)WI_PIECE_SUB * 8),
                malloc((size_t)WI_PIECE_SUB * sizeof(float)), NULL, 0};
    pthread_mutex_lock(&j->lock);
    while (!j->failed && j->next < j->n) {
        size_t idx = j->next++;
        const wi_piece_t *p = &j->pieces[idx];
        pthread_mutex_unlock(&j->lock);
        wi_error_t err = {0};
        int io = 0;
        int rc = b.buf && b.fbuf ? compute(j, p, &b, &err, &io)
                                 : wi_error_set(&err, WI_ENOMEM, NULL, NULL,
                                                "out of memory for a write buffer");
        pthread_mutex_lock(&j->lock);
        if (rc == 0 && j->run->ordered)
            rc = hand_on(j, idx, p, &b, &io);
        if (rc < 0)
            fail(j, &err, io);
        else if (!j->failed && j->run->done)
            j->run->done(j->run->done_ud, j->ext[p->extent].tensor, p);
    }
    pthread_mutex_unlock(&j->lock);
    free(b.buf);
    free(b.fbuf);
    free(b.hold);
}

int wi_priv_pieces_run(const wi_extent_t *ext, const wi_piece_t *pieces,
                       size_t n_pieces, const wi_priv_piece_run_t *run,
                       wi_error_t *err)
{
    int count;
    int rc = wi_threads_resolve(run->threads, &count, err);
    if (rc < 0)
        return rc;
    if (run->ordered && count > MAX_ORDERED_THREADS)
        count = MAX_ORDERED_THREADS;
    if ((size_t)count > n_pieces)
        count = n_pieces ? (int)n_pieces : 1;
    job_t j = {.ext = ext, .pieces = pieces, .n = n_pieces, .run = run};
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.turned, NULL);
    wi_parallel_run(count, worker, &j);
    pthread_cond_destroy(&j.turned);
    pthread_mutex_destroy(&j.lock);
    if (!j.failed)
        return 0;
    if (j.io_errno)
        return wi_error_set(err, WI_EIO, NULL, NULL, "cannot write: %s",
                            strerror(j.io_errno));
    if (err)
        *err = j.error;
    return j.error.code ? j.error.code : WI_ENOMEM;
}

int wi_pieces_write(const wi_extent_t *ext, const wi_piece_t *pieces,
                    size_t n_pieces, int threads, wi_piece_sink_t sink,
                    void *ud, wi_error_t *err)
{
    wi_priv_piece_run_t run = {.threads = threads, .sink = sink, .sink_ud = ud};
    return wi_priv_pieces_run(ext, pieces, n_pieces, &run, err);
}

struct fds {
    const int *fd;
    size_t n;
};

static int pwrite_sink(void *ud, size_t file, uint64_t offset,
                       const void *data, size_t len)
{
    const struct fds *f = ud;
    return file < f->n ? wi_priv_pwrite_all(f->fd[file], data, len, offset) : EBADF;
}

int wi_pieces_pwrite(const wi_extent_t *ext, const wi_piece_t *pieces,
                     size_t n_pieces, int threads, const int *fds,
                     size_t n_fds, wi_error_t *err)
{
    for (size_t i = 0; i < n_pieces; i++)
        if (pieces[i].file >= n_fds)
            return wi_error_set(err, WI_EINVAL, NULL, NULL,
                                "a piece of file %zu, of %zu files",
                                pieces[i].file, n_fds);
    struct fds f = {fds, n_fds};
    return wi_pieces_write(ext, pieces, n_pieces, threads, pwrite_sink, &f, err);
}

int wi_priv_pwrite_all(int fd, const void *data, size_t len, uint64_t at)
{
    const char *p = data;
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        ssize_t w = pwrite(fd, p, chunk, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        len -= (size_t)w;
        at += (uint64_t)w;
    }
    return 0;
}
