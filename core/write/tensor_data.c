/* A file's tensor bytes, after its header: the layout (one extent per
 * tensor, packed) cut into pieces and run by the piece writer
 * (plan/piece.h): at offsets by every thread into a regular file, in
 * order into a stream, or left as a hole for other writers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <weightinit/partition.h>
#include <weightinit/state_dict.h>

#include "plan/piece.h"
#include "write/write_internal.h"

/* Progress: a piece's bytes and elements, its tensor when it was the
 * last piece. */
static void piece_done(void *ud, const wi_tensor_t *t, const wi_piece_t *p)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(t));
    wi_priv_progress_add(ud, (uint64_t)p->count * es, (uint64_t)p->count,
                         p->begin + p->count == wi_tensor_numel(t));
}

/* The layout's offsets count from the first tensor byte. */
struct at_base {
    int fd;
    uint64_t base;
};

static int fd_sink(void *ud, size_t file, uint64_t offset, const void *data, size_t len)
{
    const struct at_base *a = ud;
    (void)file;
    return wi_priv_pwrite_all(a->fd, data, len, a->base + offset);
}

static int stream_sink(void *ud, size_t file, uint64_t offset, const void *data,
                       size_t len)
{
    (void)file;
    (void)offset; /* ordered: the pieces come in the file's order */
    return fwrite(data, 1, len, ud) == len ? 0 : errno ? errno : EIO;
}

/* A regular file: written at offsets by every thread.  Headers only:
 * the file gets its full size, the tensor bytes a hole that other
 * writers fill (wi_context_set_headers_only). */
static int seekable(FILE *fp)
{
    struct stat st;
    return fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
}

/* The tensors with no element: done before any piece (they have none). */
static void empty_tensors_done(wi_priv_progress_t *pr, const wi_state_dict_t *sd)
{
    uint64_t empty = 0;
    for (size_t i = 0; pr && pr->ctx && i < wi_state_dict_size(sd); i++)
        empty += wi_tensor_numel(wi_state_dict_tensor(sd, i)) == 0;
    if (empty)
        wi_priv_progress_add(pr, 0, 0, empty);
}

/* Runs l's pieces: at offsets from base into a regular file, else in
 * order into the stream. */
static int run(FILE *fp, int at_offsets, uint64_t base, const wi_priv_layout_t *l,
               wi_priv_progress_t *pr, wi_error_t *err)
{
    wi_piece_t *pieces = NULL;
    size_t n = 0;
    struct at_base fd = {fileno(fp), base};
    int rc = wi_priv_partition(l->ext, l->n_ext, 0, 1,
                               at_offsets ? WI_PIECE_ELEMS : WI_PIECE_STREAM_ELEMS,
                               &pieces, &n, err);
    wi_priv_piece_run_t r = {
        .threads = pr ? pr->threads : -1,
        .sink = at_offsets ? fd_sink : stream_sink,
        .sink_ud = at_offsets ? (void *)&fd : (void *)fp,
        .done = pr && pr->ctx ? piece_done : NULL,
        .done_ud = pr,
        .ordered = !at_offsets,
    };
    empty_tensors_done(pr, l->sd);
    if (rc == 0)
        rc = wi_priv_pieces_run(l->ext, pieces, n, &r, err);
    free(pieces);
    return rc;
}

/* The data of a regular file at offsets, fp's stdio position then at
 * their end as if they had gone through it; or a hole (headers only). */
static int at_offsets(FILE *fp, const wi_priv_layout_t *l, int hole,
                      wi_priv_progress_t *pr, wi_error_t *err)
{
    off_t base;
    if (fflush(fp) != 0 || (base = ftello(fp)) < 0)
        return -1;
    off_t end = base + (off_t)l->bytes;
    int rc = hole ? (ftruncate(fileno(fp), end) != 0 ? -1 : 0)
                  : run(fp, 1, (uint64_t)base, l, pr, err);
    return rc == 0 && fseeko(fp, end, SEEK_SET) != 0 ? -1 : rc;
}

int wi_priv_write_tensor_data(FILE *fp, const char *name, const wi_priv_layout_t *l,
                              wi_priv_progress_t *pr, wi_error_t *err)
{
    int hole = pr && pr->headers_only, seek = seekable(fp);
    errno = hole && !seek ? ESPIPE : 0;
    int rc = hole && !seek ? -1
             : seek        ? at_offsets(fp, l, hole, pr, err)
                           : run(fp, 0, 0, l, pr, err);
    if (rc == -1)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(errno ? errno : EIO));
    if (rc < 0 && err && !err->source[0])
        /* A computation failed: say which file it was for. */
        snprintf(err->source, sizeof err->source, "%s", name ? name : "");
    return rc;
}

int wi_priv_layout(wi_priv_layout_t *l, const wi_state_dict_t *sd, wi_error_t *err)
{
    *l = (wi_priv_layout_t){.sd = sd};
    int rc = wi_extents_packed(sd, 0, 0, &l->ext, &l->n_ext, err);
    if (rc == 0 && l->n_ext > 0) {
        const wi_extent_t *last = &l->ext[l->n_ext - 1];
        l->bytes = last->offset + wi_tensor_nbytes(last->tensor);
    }
    return rc;
}

uint64_t wi_priv_state_dict_bytes(const wi_state_dict_t *sd)
{
    uint64_t total = 0;
    for (size_t i = 0; i < wi_state_dict_size(sd); i++)
        total += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
    return total;
}

void wi_priv_layout_free(wi_priv_layout_t *l)
{
    free(l->ext);
    l->ext = NULL;
}

int wi_priv_check_space(FILE *fp, const char *name, uint64_t bytes,
                        wi_error_t *err)
{
    struct stat st;
    struct statvfs vfs;
    int fd = fp ? fileno(fp) : -1;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        fstatvfs(fd, &vfs) != 0)
        return 0;
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    if (bytes <= avail)
        return 0;
    return wi_error_set(err, WI_EIO, name, NULL,
                        "cannot write %llu bytes, its file system has %llu "
                        "free: %s",
                        (unsigned long long)bytes, (unsigned long long)avail,
                        strerror(ENOSPC));
}
