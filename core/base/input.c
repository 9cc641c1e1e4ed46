/* Opening and reading input files (model, init_cfg, checkpoints): a FIFO,
 * directory, device or socket is refused with what it is, never a hang. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/input.h"

/* What a non-regular file is, in the words of ls -l and file(1). */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "is a directory";
    if (S_ISFIFO(mode))
        return "is a FIFO (a named or anonymous pipe)";
    if (S_ISCHR(mode))
        return "is a character device";
    if (S_ISBLK(mode))
        return "is a block device";
    if (S_ISSOCK(mode))
        return "is a socket";
    return "is not a regular file";
}

static int open_failed(const char *path, const char *what, int e,
                       wi_error_t *err)
{
    if (e == ENOENT)
        return wi_error_set(err, WI_EFILE, path, NULL, "%s can not be found.",
                            path);
    (void)what;
    return wi_error_set(err, WI_EFILE, path, NULL, "cannot open: %s",
                        strerror(e));
}

static int not_regular(const char *path, const char *what, mode_t mode,
                       wi_error_t *err)
{
    return wi_error_set(err, WI_EFILE, path, NULL, "%s, not %s",
                        file_kind(mode), what);
}

int wi_priv_open_input(const char *path, const char *what, struct stat *st,
                       wi_error_t *err)
{
    /* stat first, so a device is refused without running its driver's
     * open; fstat again after the open, in case the path changed. */
    if (stat(path, st) != 0)
        return open_failed(path, what, errno, err);
    if (!S_ISREG(st->st_mode))
        return not_regular(path, what, st->st_mode, err);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return open_failed(path, what, errno, err);
    int flags;
    if (fstat(fd, st) != 0 || (flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return open_failed(path, what, e, err);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return not_regular(path, what, st->st_mode, err);
    }
    return fd;
}

static int changed(const char *path, wi_error_t *err)
{
    return wi_error_set(err, WI_EIO, path, NULL,
                        "the file changed while being read (truncated or "
                        "rewritten by another process?)");
}

int wi_priv_read_input(int fd, const char *path, const struct stat *st,
                       void *buf, size_t len, wi_error_t *err)
{
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < ((size_t)1 << 30) ? len - done
                                                      : (size_t)1 << 30;
        ssize_t n = pread(fd, (char *)buf + done, chunk, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return wi_error_set(err, WI_EIO, path, NULL, "cannot read: %s",
                                strerror(errno));
        if (n == 0)
            return changed(path, err);
        done += (size_t)n;
    }
    struct stat now;
    if (fstat(fd, &now) != 0)
        return wi_error_set(err, WI_EIO, path, NULL, "cannot read: %s",
                            strerror(errno));
    if (now.st_size != st->st_size ||
        now.st_mtim.tv_sec != st->st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
        return changed(path, err);
    return 0;
}

json_t *wi_priv_load_json_input(const char *path, const char *what,
                                size_t flags, wi_error_t *err)
{
    struct stat st;
    int fd = wi_priv_open_input(path, what, &st, err);
    if (fd < 0)
        return NULL;
    if ((uint64_t)st.st_size > WI_JSON_FILE_MAX) {
        close(fd);
        wi_error_set(err, WI_EFILE, path, NULL,
                     "%lld bytes, more than the %zu MiB limit for %s", (long long)st.st_size,
                     WI_JSON_FILE_MAX >> 20, what);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len ? len : 1);
    int rc = buf ? wi_priv_read_input(fd, path, &st, buf, len, err)
                 : wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    close(fd);
    json_t *root = NULL;
    json_error_t jerr;
    if (rc == 0 && !(root = json_loadb(buf, len, flags, &jerr))) {
        wi_error_set(err, WI_EINVAL, path, NULL, "%s", jerr.text);
        if (err && jerr.line > 0) {
            err->line = jerr.line;
            err->column = jerr.column;
        }
    }
    free(buf);
    return root;
}
