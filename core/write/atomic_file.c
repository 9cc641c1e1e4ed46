/* One output through a temporary renamed into place on commit (a one-file
 * output group), for the library's own writes such as downloads. */
#include <string.h>

#include "write/atomic_file.h"

int wi_priv_atomic_open(wi_priv_atomic_t *f, const char *path, wi_error_t *err)
{
    wi_error_t local;
    err = err ? err : &local;
    memset(f, 0, sizeof *f);
    if (!(f->group = wi_output_group_new()))
        return wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    if (!(f->fp = wi_output_group_open(f->group, path, err))) {
        int rc = err->code;
        wi_priv_atomic_abort(f);
        return rc;
    }
    return 0;
}

int wi_priv_atomic_commit(wi_priv_atomic_t *f, wi_error_t *err)
{
    int rc = wi_output_group_commit(f->group, err);
    wi_priv_atomic_abort(f);
    return rc;
}

void wi_priv_atomic_abort(wi_priv_atomic_t *f)
{
    wi_output_group_free(f->group);
    memset(f, 0, sizeof *f);
}
