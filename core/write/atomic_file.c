#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "write/atomic_file.h"

int wi_priv_atomic_open(wi_priv_atomic_t *f, const char *path, wi_error_t *err)
{
    memset(f, 0, sizeof *f);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 16;
    f->path = strdup(path);
    f->tmp = malloc(n);
    if (!f->path || !f->tmp) {
        wi_priv_atomic_abort(f);
        return wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    }
    snprintf(f->tmp, n, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        int e = errno;
        free(f->tmp);
        f->tmp = NULL;
        wi_priv_atomic_abort(f);
        return wi_error_set(err, WI_EIO, path, NULL,
                            "cannot create a file in its folder: %s",
                            strerror(e));
    }
    /* mkstemp makes the file 0600; the result should look like any file
     * the user creates (0666 less the umask). */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        int e = errno;
        close(fd);
        wi_priv_atomic_abort(f);
        return wi_error_set(err, WI_EIO, path, NULL, "cannot set permissions: %s",
                            strerror(e));
    }
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        wi_priv_atomic_abort(f);
        return wi_error_set(err, WI_EIO, path, NULL, "cannot open: %s",
                            strerror(errno));
    }
    return 0;
}

int wi_priv_atomic_commit(wi_priv_atomic_t *f, wi_error_t *err)
{
    int bad = fflush(f->fp) != 0 || ferror(f->fp) || fsync(fileno(f->fp)) != 0;
    int e = errno;
    bad |= fclose(f->fp) != 0;
    f->fp = NULL;
    if (!bad && rename(f->tmp, f->path) == 0) {
        free(f->tmp);
        f->tmp = NULL;
        wi_priv_atomic_abort(f);
        return 0;
    }
    if (!bad)
        e = errno;
    wi_error_set(err, WI_EIO, f->path, NULL, "cannot write: %s", strerror(e));
    wi_priv_atomic_abort(f);
    return WI_EIO;
}

void wi_priv_atomic_abort(wi_priv_atomic_t *f)
{
    if (f->fp)
        fclose(f->fp);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    free(f->path);
    memset(f, 0, sizeof *f);
}
