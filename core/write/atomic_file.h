/* Write-then-rename files: a writer never leaves a partial file at the
 * target path.  Internal. */
#ifndef WI_ATOMIC_FILE_H
#define WI_ATOMIC_FILE_H

#include <stdio.h>

#include "base/internal.h"

#include <weightinit/error.h>

typedef struct wi_priv_atomic {
    char *path; /* the target */
    char *tmp;  /* a hidden temporary beside it */
    FILE *fp;
} wi_priv_atomic_t;

/* Creates the temporary file in the target's folder. */
WI_INTERNAL int wi_priv_atomic_open(wi_priv_atomic_t *f, const char *path, wi_error_t *err);
/* Flushes, syncs and renames onto the target; aborts on any failure. */
WI_INTERNAL int wi_priv_atomic_commit(wi_priv_atomic_t *f, wi_error_t *err);
/* Removes the temporary file.  Safe after commit or a failed open. */
WI_INTERNAL void wi_priv_atomic_abort(wi_priv_atomic_t *f);

#endif
