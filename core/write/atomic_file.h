/* One output written through a temporary and renamed: a one-file
 * wi_output_group_t (same temporary names, signal cleanup and sweeping),
 * for the library's own writes (checkpoint downloads).  Internal. */
#ifndef WI_ATOMIC_FILE_H
#define WI_ATOMIC_FILE_H

#include <stdio.h>

#include "base/internal.h"

#include <weightinit/error.h>
#include <weightinit/output.h>

typedef struct wi_priv_atomic {
    wi_output_group_t *group;
    FILE *fp; /* owned by the group */
} wi_priv_atomic_t;

/* Opens path as the only output of a new group. */
WI_INTERNAL int wi_priv_atomic_open(wi_priv_atomic_t *f, const char *path, wi_error_t *err);
/* Flushes, syncs and renames onto the target; aborts on any failure. */
WI_INTERNAL int wi_priv_atomic_commit(wi_priv_atomic_t *f, wi_error_t *err);
/* The file being written: the temporary, or the target itself when it
 * is written directly (a FIFO or device).  Borrowed; NULL after abort. */
WI_INTERNAL const char *wi_priv_atomic_temp(const wi_priv_atomic_t *f);
/* Removes the temporary file.  Safe after commit or a failed open. */
WI_INTERNAL void wi_priv_atomic_abort(wi_priv_atomic_t *f);

#endif
