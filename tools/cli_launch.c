/* Whether an MPI launcher (mpirun, mpiexec, srun) started this process
 * as one rank of several: the launchers say so in the environment.  A
 * command that cannot share its work among ranks must then refuse, or
 * every rank would run the whole job, each writing a whole output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* The variable's value as a count or rank (>= 0), or -1. */
static long env_number(const char *name)
{
    const char *s = getenv(name);
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end ? -1 : v;
}

/* The launchers' size and rank variables: Open MPI, MPICH's Hydra (and
 * Intel MPI, Slurm's PMI-2), MVAPICH2, Hydra's ranks on this node. */
static const char *const vars[][2] = {
    {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
    {"PMI_SIZE", "PMI_RANK"},
    {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"},
    {"MPI_LOCALNRANKS", "MPI_LOCALRANKID"}};

int cli_launched(cli_launch_t *l)
{
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i][0])) {
            *l = (cli_launch_t){vars[i][0], getenv(vars[i][0]),
                                env_number(vars[i][0]), env_number(vars[i][1])};
            return 1;
        }
    /* PMIx (Slurm's --mpi=pmix, PRRTE) gives the rank only; Slurm's
     * step says how many. */
    if (!getenv("PMIX_RANK"))
        return 0;
    const char *var = getenv("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "PMIX_RANK";
    *l = (cli_launch_t){var, getenv(var), env_number("SLURM_STEP_NUM_TASKS"),
                        env_number("PMIX_RANK")};
    return 1;
}

int cli_refuse_ranks(const char *command, const char *why)
{
    cli_launch_t l;
    if (!cli_launched(&l) || l.size == 1)
        return 0; /* alone (a size we cannot read is taken as several) */
    if (l.rank > 0)
        return EXIT_BAD_INPUT; /* one line is enough: rank 0 prints it */
    char size[32] = "several";
    if (l.size > 1)
        snprintf(size, sizeof size, "%ld", l.size);
    cli_errorf("%s: started as one of %s ranks by an MPI launcher (%s=%.20s), but "
               "%s: each rank would write the whole output; run one process "
               "(without mpirun or srun)%s", command, size, l.var, l.value, why,
               WI_HAVE_MPI ? "" : ", or build with -Dmpi=enabled (docs/mpi.md)");
    return EXIT_BAD_INPUT;
}
