/* Fork-join over a few threads for the large-tensor fills.  Not part of
 * the ABI. */
#ifndef WI_KERNELS_PARALLEL_H
#define WI_KERNELS_PARALLEL_H

#include <weightinit/error.h>

#include "base/internal.h"

#define WI_MAX_THREADS 256

/* The thread count to use: `requested` when > 0, all online cores for 0,
 * and for -1 (a generator nobody configured) WEIGHTINIT_THREADS or else all
 * cores.  A malformed WEIGHTINIT_THREADS is WI_EINVAL. */
WI_INTERNAL int wi_threads_resolve(int requested, int *count, wi_error_t *err);

/* Runs fn(0..n-1, arg), task 0 on the calling thread, the others on new
 * threads (or on the calling thread, in order, if one cannot start);
 * returns when all are done. */
WI_INTERNAL void wi_parallel_run(int n, void (*fn)(int task, void *arg),
                                 void *arg);

#endif
