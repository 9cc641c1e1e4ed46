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
#include "plan/record.h"
#include "tensor/convert.h"
#include "tensor/tensor_internal.h"
#include "write/write_internal.h"

#define CHUNK ((int64_t)1 << 24) /* elements of one piece: one jump */
#define SUB ((int64_t)1 << 16)   /* elements computed, then written */

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

static int pwrite_all(int fd, const void *data, size_t len, uint64_t at)
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

/* A deferred piece, SUB elements at a time through buf: computed from
 * its record (or its view's source's record, then converted). */
static int computed_piece(job_t *j, const piece_t *p, void *buf, float *fbuf,
                          wi_error_t *err, int *io_errno)
{
    wi_rng_profile_t profile = WI_RNG_AVX2;
    const wi_tensor_t *src = wi_priv_tensor_view_source(p->t, &profile);
    const wi_priv_rec_t *r = wi_priv_tensor_rec(src ? src : p->t); /* F32, or zeros */
    size_t es = wi_dtype_size(wi_tensor_dtype(p->t));
    float *vals = src ? fbuf : buf;
    wi_priv_rec_cursor_t c;
    if (r && wi_priv_rec_cursor_start(&c, r, p->begin, 1, err) < 0)
        return -1;
    if (!r) /* zeros in any dtype (a view's too) */
        memset(buf, 0, (size_t)SUB * es);
    for (int64_t done = 0; done < p->count; done += SUB) {
        int64_t cnt = p->count - done < SUB ? p->count - done : SUB;
        if (r && wi_priv_rec_cursor_next(&c, vals, cnt, err) < 0)
            return -1;
        if (r && src &&
            wi_priv_convert_f32(wi_tensor_dtype(p->t), profile, vals, buf, (size_t)cnt) < 0)
            return wi_error_set(err, WI_EUNSUPPORTED, NULL, NULL, "unsupported dtype"), -1;
        *io_errno = pwrite_all(j->fd, buf, (size_t)cnt * es,
                               p->at + (uint64_t)done * es);
        if (*io_errno)
            return -1;
    }
    return 0;
}

/* One piece, outside the lock. */
static int do_piece(job_t *j, const piece_t *p, void *buf, float *fbuf,
                    wi_error_t *err, int *io_errno)
{
    if (wi_tensor_is_deferred(p->t))
        return computed_piece(j, p, buf, fbuf, err, io_errno);
    size_t es = wi_dtype_size(wi_tensor_dtype(p->t));
    const char *data = (const char *)wi_tensor_const_data(p->t) + (size_t)p->begin * es;
    *io_errno = pwrite_all(j->fd, data, (size_t)p->count * es, p->at);
    return *io_errno ? -1 : 0;
}

static void worker(int task, void *arg)
{
    (void)task;
    job_t *j = arg;
    /* Bytes as wide as any dtype; a view's float32 values before
     * conversion. */
    void *buf = malloc((size_t)SUB * 8);
    float *fbuf = malloc((size_t)SUB * sizeof *fbuf);
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
