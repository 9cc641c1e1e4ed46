/* weightinit init under mpirun (docs/mpi.md): the MPI glue of the
 * command.  Built only with -Dmpi; without it every call below is a stub
 * that says "not under MPI" and cmd_init runs as one process. */
#ifndef WI_CLI_MPI_H
#define WI_CLI_MPI_H

#include <weightinit/weightinit.h>

#if WI_HAVE_MPI
/* Joins MPI when launched by mpirun/srun (else nothing: a plain run needs
 * no MPI runtime); ranks but 0 then print nothing but their own write
 * errors (every rank runs the same deterministic steps, so one copy of a
 * message is enough). */
void cli_mpi_start(void);
/* The number of ranks (0: not under MPI) and this one's. */
int cli_mpi_size(void);
int cli_mpi_rank(void);
/* Writes -o (safetensors: one file or shards) from every rank: rank 0
 * writes the headers and the index into g's temporaries and names them to
 * the others, every rank computes and writes its share of the tensor
 * bytes, then all agree on the status.  Every rank calls it (g holds no
 * outputs on ranks but 0; fp is rank 0's -o when not sharded).  0 when
 * every rank succeeded (rank 0 then commits g), else the error code,
 * printed once: by rank 0 for its own (through err, as without MPI), by
 * the failing rank for another's (later messages are then muted). */
int cli_mpi_save(wi_output_group_t *g, const char *path, FILE *fp,
                 wi_checkpoint_format_t fmt, const wi_state_dict_t *sd,
                 const json_t *meta, uint64_t max_shard, wi_context_t *ctx,
                 int threads, int sync, size_t *n_files, wi_error_t *err);
/* The plan every rank must share (cli_digest.c): *out = the SHA-256 of
 * meta and every tensor's name and wi_tensor_digest; 0, or -1 out of
 * memory. */
int cli_digest_plan(const wi_state_dict_t *sd, const json_t *meta,
                    unsigned char out[32]);
/* The plan as JSON text (a new string; NULL out of memory), for rank 0
 * to compare with its own. */
char *cli_digest_describe(const wi_state_dict_t *sd, const json_t *meta);
/* Rank 0: err = what differs between its plan (sd, meta) and rank's
 * description `theirs` (NULL: unknown), as one line: --seed,
 * --rng-profile, --dtype, the model or --init-cfg name, the version;
 * else the first tensor whose name, dtype, shape or values differ; else
 * the metadata key. */
void cli_digest_compare(const wi_state_dict_t *sd, const json_t *meta,
                        const char *theirs, int rank, wi_error_t *err);
/* Ends a run: agrees on the exit status with every rank (the highest),
 * leaves MPI and returns it; status unchanged when not under MPI. */
int cli_mpi_end(int status);
#else
static inline void cli_mpi_start(void) {}
static inline int cli_mpi_size(void) { return 0; }
static inline int cli_mpi_rank(void) { return 0; }
static inline int cli_mpi_save(wi_output_group_t *g, const char *path,
                               FILE *fp, wi_checkpoint_format_t fmt,
                               const wi_state_dict_t *sd, const json_t *meta,
                               uint64_t max_shard, wi_context_t *ctx,
                               int threads, int sync, size_t *n_files,
                               wi_error_t *err)
{
    return wi_error_set(err, WI_EUNSUPPORTED, path, NULL, "built without MPI");
}
static inline int cli_mpi_end(int status) { return status; }
#endif

#endif
