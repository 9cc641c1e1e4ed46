/* Dividing a write among processes (partition.h).  A rank's share is a
 * contiguous run of the output's bytes, so each writes few, large
 * regions (what parallel file systems stripe well) and positions its
 * generators with one jump per piece of 2^24 elements. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <weightinit/partition.h>

#include "kernels/parallel.h"
#include "plan/piece.h"
#include "tensor/tensor_internal.h"

#define CHUNK ((int64_t)1 << 24) /* elements of one piece: one jump */
#define MAX_HEADER (100u * 1000u * 1000u)

static int grow(wi_extent_t **out, size_t *n, size_t more, wi_error_t *err)
{
    wi_extent_t *p = realloc(*out, (*n + more + 1) * sizeof *p);
    if (!p)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    *out = p;
    return 0;
}

int wi_extents_packed(const wi_state_dict_t *sd, size_t file, uint64_t base,
                      wi_extent_t **out, size_t *n, wi_error_t *err)
{
    size_t count = wi_state_dict_size(sd);
    if (grow(out, n, count, err) < 0)
        return WI_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        (*out)[(*n)++] = (wi_extent_t){t, file, base};
        base += wi_tensor_nbytes(t);
    }
    return 0;
}

static int read_at(int fd, void *buf, size_t len, uint64_t at)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
        at += (uint64_t)r;
    }
    return 0;
}

/* The header's JSON text (a new string), base = its first data byte. */
static char *read_header(int fd, const char *name, uint64_t *base,
                         wi_error_t *err)
{
    uint8_t len8[8];
    uint64_t hlen = 0;
    errno = 0;
    if (read_at(fd, len8, 8, 0) < 0) {
        wi_error_set(err, errno ? WI_EIO : WI_EFORMAT, name, NULL,
                     "cannot read the safetensors header: %s",
                     errno ? strerror(errno) : "file shorter than 8 bytes");
        return NULL;
    }
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len8[i];
    char *text = hlen <= MAX_HEADER ? malloc((size_t)hlen + 1) : NULL;
    if (!text) {
        wi_error_set(err, hlen <= MAX_HEADER ? WI_ENOMEM : WI_EFORMAT, name,
                     NULL, "safetensors header of %llu bytes",
                     (unsigned long long)hlen);
        return NULL;
    }
    if (read_at(fd, text, (size_t)hlen, 8) < 0) {
        free(text);
        wi_error_set(err, WI_EFORMAT, name, NULL, "truncated safetensors header");
        return NULL;
    }
    text[hlen] = '\0';
    *base = 8 + hlen;
    return text;
}

/* One header entry: its tensor in sd, checked against it. */
static int header_extent(const char *name, const char *key, json_t *v,
                         const wi_state_dict_t *sd, size_t file, uint64_t base,
                         wi_extent_t *out, wi_error_t *err)
{
    const char *dtype = NULL;
    json_int_t b = -1, e = -1;
    const wi_tensor_t *t = wi_state_dict_find(sd, key);
    if (json_unpack(v, "{s:s, s:[II]}", "dtype", &dtype, "data_offsets", &b, &e) < 0)
        return wi_error_set(err, WI_EFORMAT, name, key,
                            "expected {\"dtype\", \"data_offsets\": [begin, end]}");
    if (!t)
        return wi_error_set(err, WI_EFORMAT, name, key,
                            "a tensor the state dict does not have");
    if (strcmp(dtype, wi_dtype_name(wi_tensor_dtype(t))) != 0 || b < 0 ||
        e - b != (json_int_t)wi_tensor_nbytes(t))
        return wi_error_set(err, WI_EFORMAT, name, key,
                            "the header says %s of %lld bytes, the state dict "
                            "%s of %llu", dtype, (long long)(e - b),
                            wi_dtype_name(wi_tensor_dtype(t)),
                            (unsigned long long)wi_tensor_nbytes(t));
    *out = (wi_extent_t){t, file, base + (uint64_t)b};
    return 0;
}

int wi_extents_from_safetensors(int fd, const char *name,
                                const wi_state_dict_t *sd, size_t file,
                                wi_extent_t **out, size_t *n, wi_error_t *err)
{
    uint64_t base;
    char *text = read_header(fd, name, &base, err);
    if (!text)
        return err ? err->code : WI_EFORMAT;
    json_error_t je;
    json_t *h = json_loads(text, 0, &je);
    free(text);
    if (!json_is_object(h)) {
        json_decref(h);
        return wi_error_set(err, WI_EFORMAT, name, NULL,
                            "the safetensors header is not a JSON object");
    }
    int rc = grow(out, n, json_object_size(h), err);
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        if (rc < 0)
            break;
        if (strcmp(key, "__metadata__") == 0)
            continue;
        rc = header_extent(name, key, v, sd, file, base, &(*out)[*n], err);
        *n += rc == 0;
    }
    json_decref(h);
    return rc;
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

/* Adds rank's pieces of one extent: elements [lo, hi) cut at CHUNK. */
static int add_pieces(const wi_extent_t *x, size_t i, int64_t lo, int64_t hi,
                      wi_piece_t **p, size_t *n, size_t *cap)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(x->tensor));
    for (int64_t b = lo; b < hi; b += CHUNK) {
        if (*n == *cap) {
            size_t c = *cap ? 2 * *cap : 16;
            wi_piece_t *q = realloc(*p, c * sizeof *q);
            if (!q)
                return WI_ENOMEM;
            *p = q;
            *cap = c;
        }
        int64_t cnt = hi - b < CHUNK ? hi - b : CHUNK;
        (*p)[(*n)++] = (wi_piece_t){i, x->file, b, cnt,
                                    x->offset + (uint64_t)b * es};
    }
    return 0;
}

int wi_partition(const wi_extent_t *ext, size_t n_ext, int rank, int size,
                 wi_piece_t **pieces, size_t *n_pieces, wi_error_t *err)
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
        rc = a < b ? add_pieces(&ext[i], i, a, b, &p, &n, &cap) : 0;
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

typedef struct {
    const wi_extent_t *ext;
    const wi_piece_t *pieces;
    size_t n, next;
    wi_piece_sink_t sink;
    void *ud;
    pthread_mutex_t lock; /* next and the first error */
    int failed, io_errno;
    wi_error_t error;
} job_t;

/* Hands the piece's bytes to the caller's sink at their file offset. */
struct emit_ctx {
    job_t *j;
    const wi_piece_t *p;
};

static int emit(void *ud, uint64_t at, const void *data, size_t len)
{
    struct emit_ctx *e = ud;
    return e->j->sink(e->j->ud, e->p->file, e->p->offset + at, data, len);
}

static int do_piece(job_t *j, const wi_piece_t *p, void *buf, float *fbuf,
                    wi_error_t *err, int *io)
{
    const wi_tensor_t *t = j->ext[p->extent].tensor;
    if (p->begin < 0 || p->count < 0 || p->begin + p->count > wi_tensor_numel(t))
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "a piece outside its tensor");
    struct emit_ctx e = {j, p};
    return wi_priv_compute_piece(t, p->begin, p->count, buf, fbuf, emit, &e, err, io);
}

static void worker(int task, void *arg)
{
    (void)task;
    job_t *j = arg;
    /* Bytes as wide as any dtype; a view's float32 values before
     * conversion (plan/piece.h). */
    void *buf = malloc((size_t)WI_PIECE_SUB * 8);
    float *fbuf = malloc((size_t)WI_PIECE_SUB * sizeof *fbuf);
    pthread_mutex_lock(&j->lock);
    while (!j->failed && j->next < j->n) {
        const wi_piece_t *p = &j->pieces[j->next++];
        pthread_mutex_unlock(&j->lock);
        wi_error_t err = {0};
        int io = 0;
        int rc = buf && fbuf ? do_piece(j, p, buf, fbuf, &err, &io)
                     : wi_error_set(&err, WI_ENOMEM, NULL, NULL,
                                    "out of memory for a write buffer");
        pthread_mutex_lock(&j->lock);
        if (rc < 0 && !j->failed) {
            j->failed = 1;
            j->io_errno = io;
            j->error = err;
        }
    }
    pthread_mutex_unlock(&j->lock);
    free(buf);
    free(fbuf);
}

int wi_pieces_write(const wi_extent_t *ext, const wi_piece_t *pieces,
                    size_t n_pieces, int threads, wi_piece_sink_t sink,
                    void *ud, wi_error_t *err)
{
    int count;
    int rc = wi_threads_resolve(threads, &count, err);
    if (rc < 0)
        return rc;
    job_t j = {.ext = ext, .pieces = pieces, .n = n_pieces, .sink = sink, .ud = ud};
    pthread_mutex_init(&j.lock, NULL);
    wi_parallel_run(count < (int)n_pieces ? count : (int)(n_pieces ? n_pieces : 1),
                    worker, &j);
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
