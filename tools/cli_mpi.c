/* weightinit init under mpirun: every rank builds the same model and runs
 * the same init (the write plan is deterministic), so the only messages
 * are the output's file names and the statuses.  Rank 0 writes the
 * headers into its output group's temporaries; every rank writes its
 * share of the bytes (wi_partition) through MPI-IO, or pwrite with
 * WEIGHTINIT_MPI_IO=posix; rank 0 commits once all succeeded. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "cli.h"
#include "cli_mpi.h"

static struct {
    int size, rank;
    int agreed; /* the status agreement before writing is done */
    int serialize; /* MPI below MPI_THREAD_MULTIPLE: one writer at a time */
    pthread_mutex_t lock;
} mpi = {.lock = PTHREAD_MUTEX_INITIALIZER};

void cli_mpi_start(void)
{
    int provided;
    cli_launch_t l;
    if (!cli_launched(&l) ||
        MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
        return;
    MPI_Comm_size(MPI_COMM_WORLD, &mpi.size);
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi.rank);
    mpi.serialize = provided < MPI_THREAD_MULTIPLE;
    /* The MPI runtime may have installed its own handlers: ours remove
     * the temporaries when mpirun tears the job down (SIGTERM). */
    cli_catch_signals();
    if (mpi.rank > 0)
        cli_quiet_errors = 1;
}

int cli_mpi_size(void) { return mpi.size; }
int cli_mpi_rank(void) { return mpi.rank; }

/* The status agreement before writing (every rank makes it once): 0
 * when every rank got there well, else 1 with the lowest failing rank
 * in *who. */
static int agree_ready(int status, int *who)
{
    int mine = status ? mpi.rank : mpi.size, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    mpi.agreed = 1;
    *who = first;
    return first < mpi.size;
}

int cli_mpi_end(int status)
{
    if (!mpi.size)
        return status;
    int who, all;
    if (!mpi.agreed && agree_ready(status, &who) && !status && mpi.rank == 0)
        cli_errorf("rank %d of %d failed before writing, where rank 0 did not "
                   "(out of memory on its node?); nothing was written", who,
                   mpi.size);
    MPI_Allreduce(&status, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    mpi.size = 0;
    return all;
}

/* Prints this rank's own write error, once, then mutes the rest. */
static void print_own(const wi_error_t *err)
{
    char line[1200];
    fprintf(stderr, "weightinit: error: rank %d of %d: %s\n", mpi.rank,
            mpi.size, wi_error_format(err, line, sizeof line));
    cli_quiet_errors = 1;
}

/* Rank 0: the checkpoint files among g's outputs (the -o opened before,
 * or the shards opened by the write, not their index), as pairs of the
 * temporary's path and the final name (for messages), joined by NULs
 * into *list. */
static int list_files(const wi_output_group_t *g, size_t n0, const char *path,
                      char **list, size_t *len, int *n, wi_error_t *err)
{
    size_t ilen = strlen(path) + sizeof ".index.json";
    char *index = malloc(ilen);
    *list = NULL;
    *len = 0;
    *n = 0;
    if (index)
        snprintf(index, ilen, "%s.index.json", path);
    for (size_t i = 0; index && i < wi_output_group_size(g); i++) {
        const char *name = wi_output_group_name(g, i), *tmp = wi_output_group_temp(g, i);
        if (i < n0 ? strcmp(name, path) != 0 : strcmp(name, index) == 0)
            continue;
        if (!tmp) {
            free(index);
            return wi_error_set(err, WI_EINVAL, cli_output_name(path), NULL,
                                "under mpirun -o must be a regular file "
                                "(several processes write it at offsets)");
        }
        size_t lt = strlen(tmp) + 1, ln = strlen(name) + 1;
        char *l = realloc(*list, *len + lt + ln);
        if (!l)
            break;
        memcpy(l + *len, tmp, lt);
        memcpy(l + *len + lt, name, ln);
        *list = l;
        *len += lt + ln;
        ++*n;
    }
    free(index);
    return index && *n ? 0 : wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
}

/* Rank 0 writes the headers (and index), then tells every rank the
 * files; *list / *n on every rank, or the failure's code. */
static int headers(wi_output_group_t *g, const char *path, FILE *fp,
                   wi_checkpoint_format_t fmt, const wi_state_dict_t *sd,
                   const json_t *meta, uint64_t max_shard, wi_context_t *ctx,
                   size_t *n_files, char **list, int *n, wi_error_t *err)
{
    int rc = 0;
    unsigned long long len = 0;
    size_t slen = 0;
    if (mpi.rank == 0) {
        size_t n0 = wi_output_group_size(g);
        wi_context_set_headers_only(ctx, 1);
        rc = fmt != WI_CHECKPOINT_SAFETENSORS
                 ? wi_error_set(err, WI_EUNSUPPORTED, path, NULL, "not safetensors")
             /* -o is a file here (its stream in g): stale files warned of */
             : wi_checkpoint_write_sharded(g, path, fmt, sd, (const wi_value_t *)meta, max_shard, ctx,
                                           n_files, err);
        wi_context_set_headers_only(ctx, 0);
        if (rc == 0)
            rc = list_files(g, n0, path, list, &slen, n, err);
        if (rc == 0 && fflush(NULL) != 0)
            rc = wi_error_set(err, WI_EIO, path, NULL, "cannot write: %s",
                              strerror(errno));
        len = slen;
    }
    int head[2] = {rc, *n};
    MPI_Bcast(head, 2, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (head[0] < 0)
        return mpi.rank == 0 ? head[0]
                             : wi_error_set(err, head[0], path, NULL,
                                            "rank 0 could not write the headers");
    if (mpi.rank > 0 && !(*list = malloc(len))) {
        /* A few bytes: the job cannot go on (mpirun then ends every rank,
         * whose signal handlers remove the temporaries). */
        fprintf(stderr, "weightinit: error: rank %d: out of memory\n", mpi.rank);
        MPI_Abort(MPI_COMM_WORLD, EXIT_INIT_FAILED);
    }
    MPI_Bcast(*list, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
    *n = head[1];
    return 0;
}

/* This rank's files: MPI-IO handles, or descriptors for pwrite; the
 * temporaries' paths and the names messages give them. */
typedef struct {
    int posix, n;
    MPI_File *fh;
    int *fd;
    const char **tmp, **name; /* into the list */
    char why[MPI_MAX_ERROR_STRING + 64]; /* the first MPI-IO failure */
} files_t;

/* Called by one thread at a time (mpi.lock). */
static void mpi_why(files_t *f, const char *what, int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    if (!f->why[0])
        snprintf(f->why, sizeof f->why, "%s: %.*s", what, len, text);
}

static int mpi_sink(void *ud, size_t file, uint64_t offset, const void *data,
                    size_t len)
{
    files_t *f = ud;
    MPI_Status st;
    int got = 0;
    if (mpi.serialize)
        pthread_mutex_lock(&mpi.lock);
    int rc = MPI_File_write_at(f->fh[file], (MPI_Offset)offset, data, (int)len,
                               MPI_BYTE, &st);
    if (rc == MPI_SUCCESS)
        MPI_Get_count(&st, MPI_BYTE, &got);
    if (mpi.serialize)
        pthread_mutex_unlock(&mpi.lock);
    if (rc != MPI_SUCCESS) {
        pthread_mutex_lock(&mpi.lock); /* threads may fail at once */
        mpi_why(f, "MPI_File_write_at", rc);
        pthread_mutex_unlock(&mpi.lock);
    }
    return rc != MPI_SUCCESS ? EIO : (size_t)got != len ? ENOSPC : 0;
}

/* f's n files from list (pairs of temporary and name, joined by NULs). */
static int files_list(files_t *f, const char *list, int n, wi_error_t *err)
{
    f->n = n;
    f->fh = calloc((size_t)n, sizeof *f->fh);
    f->fd = malloc((size_t)n * sizeof *f->fd);
    f->tmp = malloc((size_t)n * sizeof *f->tmp);
    f->name = malloc((size_t)n * sizeof *f->name);
    if (!f->fh || !f->fd || !f->tmp || !f->name) {
        f->n = 0;
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    }
    for (int k = 0; k < n; k++) {
        f->fh[k] = MPI_FILE_NULL;
        f->fd[k] = -1;
        f->tmp[k] = list;
        f->name[k] = list + strlen(list) + 1;
        list = f->name[k] + strlen(f->name[k]) + 1;
    }
    return 0;
}

/* Opens the n files of list on every rank (MPI_File_open is
 * collective: every rank calls it n times, whatever failed); 0 or the
 * first failure's code (each is still tried). */
static int files_open(files_t *f, const char *list, int n, wi_error_t *err)
{
    const char *mode = getenv("WEIGHTINIT_MPI_IO");
    f->posix = mode && strcmp(mode, "posix") == 0;
    int rc = files_list(f, list, n, err);
    const char *p = list;
    for (int k = 0; k < n; k++, p += strlen(p) + 1, p += strlen(p) + 1) {
        if (f->n)
            f->fd[k] = open(p, (f->posix ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (rc == 0 && f->fd[k] < 0)
            rc = wi_error_set(err, WI_EIO, p, NULL, "cannot open: %s (the output "
                              "folder must be on a file system every rank sees)",
                              strerror(errno));
        if (f->posix)
            continue;
        MPI_File fh = MPI_FILE_NULL;
        int mrc = MPI_File_open(MPI_COMM_WORLD, p, MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
        if (f->n)
            f->fh[k] = fh;
        if (mrc != MPI_SUCCESS && rc == 0) {
            mpi_why(f, "MPI_File_open", mrc);
            rc = wi_error_set(err, WI_EIO, p, NULL, "cannot open through MPI-IO: %s "
                              "(WEIGHTINIT_MPI_IO=posix writes with pwrite)", f->why);
        }
    }
    return rc;
}

/* Syncs (when asked) and closes every file; the first failure's code. */
static int files_close(files_t *f, int sync, int rc, wi_error_t *err)
{
    for (int k = 0; k < f->n; k++) {
        int bad = 0;
        if (!f->posix && f->fh[k] != MPI_FILE_NULL) {
            bad |= sync && MPI_File_sync(f->fh[k]) != MPI_SUCCESS;
            bad |= MPI_File_close(&f->fh[k]) != MPI_SUCCESS;
        }
        if (f->fd[k] >= 0) {
            bad |= f->posix && sync && fdatasync(f->fd[k]) != 0;
            bad |= close(f->fd[k]) != 0;
        }
        if (bad && rc == 0)
            rc = wi_error_set(err, WI_EIO, f->name[k], NULL, "cannot write: %s",
                              errno ? strerror(errno) : "MPI-IO sync or close failed");
    }
    free(f->fh);
    free(f->fd);
    free(f->tmp);
    free(f->name);
    return rc;
}

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* WEIGHTINIT_MPI_STATS=1: one line per rank on what it wrote (for
 * tests/bench/bench_mpi.sh and docs/mpi.md's cost model). */
static void stats(const wi_extent_t *ext, const wi_piece_t *p, size_t n,
                  double wall, double cpu)
{
    const char *on = getenv("WEIGHTINIT_MPI_STATS");
    if (!on || strcmp(on, "1") != 0)
        return;
    uint64_t bytes = 0;
    for (size_t k = 0; k < n; k++)
        bytes += (uint64_t)p[k].count * wi_dtype_size(wi_tensor_dtype(ext[p[k].extent].tensor));
    fprintf(stderr, "weightinit: rank %d of %d: %llu bytes in %zu pieces, "
            "%.3f s wall, %.3f s cpu\n", mpi.rank, mpi.size,
            (unsigned long long)bytes, n, wall, cpu);
}

/* Pieces [0, n) of one file (wi_partition's pieces are in file order),
 * so that a failure names its file. */
static int write_file(files_t *f, const wi_extent_t *ext, const wi_piece_t *p,
                      size_t n, int threads, wi_error_t *err)
{
    int rc = f->posix ? wi_pieces_pwrite(ext, p, n, threads, f->fd, (size_t)f->n, err)
                      : wi_pieces_write(ext, p, n, threads, mpi_sink, f, err);
    if (rc == WI_EIO && f->why[0])
        snprintf(err->text, sizeof err->text, "cannot write: %s", f->why);
    if (rc == WI_EIO)
        snprintf(err->source, sizeof err->source, "%s", f->name[p->file]);
    return rc;
}

/* This rank's share of every file's tensor bytes. */
static int write_share(files_t *f, const wi_state_dict_t *sd, int threads,
                       wi_error_t *err)
{
    wi_extent_t *ext = NULL;
    wi_piece_t *pieces = NULL;
    size_t n_ext = 0, n_pieces = 0;
    int rc = 0;
    for (int k = 0; rc == 0 && k < f->n; k++)
        rc = wi_extents_from_safetensors(f->fd[k], f->name[k], sd, (size_t)k, &ext,
                                         &n_ext, err);
    /* Each header tensor is one of ours; all of ours must be there, or
     * this rank built another model than rank 0 (a different file). */
    if (rc == 0 && n_ext != wi_state_dict_size(sd))
        rc = wi_error_set(err, WI_EFORMAT, f->name[0], NULL,
                          "rank 0's headers name %zu tensors, this rank's model "
                          "has %zu: every rank must read the same model files",
                          n_ext, wi_state_dict_size(sd));
    if (rc == 0)
        rc = wi_partition(ext, n_ext, mpi.rank, mpi.size, &pieces, &n_pieces, err);
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t a = 0, b = 0; rc == 0 && a < n_pieces; a = b) {
        for (b = a + 1; b < n_pieces && pieces[b].file == pieces[a].file; b++)
            ;
        rc = write_file(f, ext, pieces + a, b - a, threads, err);
    }
    if (rc == 0)
        stats(ext, pieces, n_pieces, seconds(CLOCK_MONOTONIC) - wall,
              seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu);
    free(pieces);
    free(ext);
    return rc;
}

/* Rank r sends its plan's description to rank 0 (NULL: len 0). */
static void send_plan(const char *text)
{
    unsigned long long len = text ? strlen(text) + 1 : 0;
    MPI_Send(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, 0, MPI_COMM_WORLD);
    for (unsigned long long at = 0; at < len; at += 1u << 30) {
        int part = (int)(len - at < 1u << 30 ? len - at : 1u << 30);
        MPI_Send(text + at, part, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
}

/* Rank 0 receives rank r's description: a new string, NULL when r had
 * none (its rank then aborts when out of memory for it). */
static char *recv_plan(int r)
{
    unsigned long long len = 0;
    MPI_Recv(&len, 1, MPI_UNSIGNED_LONG_LONG, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    char *text = len ? malloc(len) : NULL;
    if (len && !text) {
        fprintf(stderr, "weightinit: error: rank 0: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_INIT_FAILED);
    }
    for (unsigned long long at = 0; at < len; at += 1u << 30) {
        int part = (int)(len - at < 1u << 30 ? len - at : 1u << 30);
        MPI_Recv(text + at, part, MPI_CHAR, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return text;
}

/* Before anything is written every rank must hold rank 0's plan
 * (cli_digest.c): 0, or on every rank WI_EINVAL (rank 0 says what
 * differs, from the lowest rank that differs) or WI_ENOMEM. */
static int agree_plan(const wi_state_dict_t *sd, const json_t *meta, wi_error_t *err)
{
    unsigned char mine[32], first[32];
    int ok = cli_digest_plan(sd, meta, mine) == 0, r;
    memcpy(first, mine, sizeof first);
    MPI_Bcast(first, sizeof first, MPI_BYTE, 0, MPI_COMM_WORLD);
    int me = ok && memcmp(first, mine, sizeof mine) == 0 ? mpi.size : mpi.rank;
    MPI_Allreduce(&me, &r, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (r == mpi.size)
        return 0;
    MPI_Bcast(&ok, 1, MPI_INT, r, MPI_COMM_WORLD);
    if (!ok) {
        wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
        if (mpi.rank == r && r > 0)
            print_own(err);
        else if (mpi.rank != r)
            cli_quiet_errors = 1; /* r printed it */
        return WI_ENOMEM;
    }
    if (mpi.rank == r) {
        char *text = cli_digest_describe(sd, meta);
        send_plan(text);
        free(text);
    } else if (mpi.rank == 0) {
        char *text = recv_plan(r);
        cli_digest_compare(sd, meta, text, r, err);
        free(text);
        return WI_EINVAL;
    }
    /* Rank 0 prints it; the others are muted. */
    return wi_error_set(err, WI_EINVAL, NULL, NULL, "rank %d's plan differs", r);
}

int cli_mpi_save(wi_output_group_t *g, const char *path, FILE *fp,
                 wi_checkpoint_format_t fmt, const wi_state_dict_t *sd,
                 const json_t *meta, uint64_t max_shard, wi_context_t *ctx,
                 int threads, int sync, size_t *n_files, wi_error_t *err)
{
    int who;
    if (agree_ready(0, &who)) {
        if (mpi.rank == 0)
            cli_errorf("rank %d of %d failed before writing, where rank 0 did "
                       "not (out of memory on its node?); nothing was written",
                       who, mpi.size);
        cli_quiet_errors = 1;
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "another rank failed");
    }
    int rc = agree_plan(sd, meta, err);
    if (rc < 0)
        return rc;
    char *list = NULL;
    int n = 0;
    rc = headers(g, path, fp, fmt, sd, meta, max_shard, ctx, n_files, &list, &n, err);
    if (rc < 0) {
        free(list);
        return rc; /* rank 0 prints it; the others are muted */
    }
    files_t f = {0};
    wi_error_t mine = {0};
    rc = files_open(&f, list, n, &mine);
    if (rc == 0)
        rc = write_share(&f, sd, threads, &mine);
    rc = files_close(&f, sync, rc, &mine);
    if (rc < 0)
        print_own(&mine);
    int all;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    free(list);
    if (all < 0) {
        cli_quiet_errors = 1; /* the failing rank printed why */
        return wi_error_set(err, all, path, NULL, "a rank failed");
    }
    return 0;
}
