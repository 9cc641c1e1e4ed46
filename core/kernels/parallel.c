/* A small fork-join over threads for the large-tensor fills, and the
 * thread count a run resolves (--threads, WEIGHTINIT_THREADS, cores). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernels/parallel.h"

static int env_threads = -2; /* -2 malformed, 0 all cores, else the count */
static char env_text[32];
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    const char *s = getenv("WEIGHTINIT_THREADS");
    if (!s || !*s) {
        env_threads = 0;
        return;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno == 0 && *end == '\0' && v >= 0 && v <= WI_MAX_THREADS)
        env_threads = (int)v;
    snprintf(env_text, sizeof env_text, "%.31s", s);
}

static pthread_once_t cores_once = PTHREAD_ONCE_INIT;
static int cores;

/* glibc's sysconf reads /sys/devices/system/cpu/online on every call:
 * asked once per process, not once per tensor write. */
static void read_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cores = n < 1 ? 1 : n > WI_MAX_THREADS ? WI_MAX_THREADS : (int)n;
}

static int online_cores(void)
{
    pthread_once(&cores_once, read_cores);
    return cores;
}

int wi_threads_resolve(int requested, int *count, wi_error_t *err)
{
    if (requested < 0) {
        pthread_once(&env_once, read_env);
        if (env_threads == -2)
            return wi_error_set(err, WI_EINVAL, NULL, NULL,
                                "WEIGHTINIT_THREADS=%s: expected a thread "
                                "count from 0 (all cores) to %d",
                                env_text, WI_MAX_THREADS);
        requested = env_threads;
    }
    *count = requested == 0 ? online_cores()
             : requested > WI_MAX_THREADS ? WI_MAX_THREADS
                                          : requested;
    return 0;
}

typedef struct {
    void (*fn)(int, void *);
    void *arg;
    int task;
} job_t;

static void *job_main(void *p)
{
    job_t *j = p;
    j->fn(j->task, j->arg);
    return NULL;
}

void wi_parallel_run(int n, void (*fn)(int task, void *arg), void *arg)
{
    pthread_t tid[WI_MAX_THREADS];
    job_t jobs[WI_MAX_THREADS];
    int started[WI_MAX_THREADS] = {0};
    for (int t = 1; t < n; t++) {
        jobs[t] = (job_t){fn, arg, t};
        started[t] = pthread_create(&tid[t], NULL, job_main, &jobs[t]) == 0;
    }
    fn(0, arg);
    for (int t = 1; t < n; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn(t, arg);
    }
}
