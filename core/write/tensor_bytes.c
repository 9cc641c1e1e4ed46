/* What the writers write: a tensor in memory as it is, a deferred one
 * (tensor.h) computed a piece at a time, so writing a model needs one
 * piece of memory whatever its size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <weightinit/state_dict.h>

#include "write/write_internal.h"

const void *wi_priv_tensor_bytes(const wi_tensor_t *t, int64_t begin,
                                 int64_t count, void *scratch,
                                 wi_error_t *err)
{
    size_t es = wi_dtype_size(wi_tensor_dtype(t));
    if (!wi_tensor_is_deferred(t))
        return (const char *)wi_tensor_const_data(t) + (size_t)begin * es;
    return wi_tensor_read(t, begin, count, scratch, err) < 0 ? NULL : scratch;
}

void *wi_priv_piece_buffer(const wi_state_dict_t *sd, int *none)
{
    size_t widest = 0;
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        size_t es = wi_dtype_size(wi_tensor_dtype(t));
        if (wi_tensor_is_deferred(t) && es > widest)
            widest = es;
    }
    *none = widest == 0;
    return widest ? malloc((size_t)WI_WRITE_PIECE * widest) : NULL;
}

uint64_t wi_priv_state_dict_bytes(const wi_state_dict_t *sd)
{
    uint64_t total = 0;
    for (size_t i = 0; i < wi_state_dict_size(sd); i++)
        total += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
    return total;
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
