/* The weightinit command: shared pieces of the subcommands. */
#ifndef WI_CLI_H
#define WI_CLI_H

#include <weightinit/weightinit.h>

/* Exit codes of cli.md: 1 the work failed, 2 bad input or command line. */
enum { EXIT_INIT_FAILED = 1, EXIT_BAD_INPUT = 2 };

/* Where in a run an error arose: with the WI_E* code it decides the exit
 * status (cli_status.c; the table in README.md). */
typedef enum cli_stage {
    CLI_STAGE_ARGS,   /* the command line */
    CLI_STAGE_INPUT,  /* reading the model, --init-cfg, plugins, a checkpoint */
    CLI_STAGE_WORK,   /* building, init_weights, Pretrained loads, downloads */
    CLI_STAGE_OUTPUT  /* writing -o, --report, convert's OUT */
} cli_stage_t;

/* The exit status for a WI_E* code raised in stage. */
int cli_status(int code, cli_stage_t stage);
/* Prints err as one line and returns its exit status. */
int cli_fail(const wi_error_t *err, cli_stage_t stage);

/* Set by -q / -v: the lowest level printed. */
extern wi_log_level_t cli_log_level;
/* 1: cli_error / cli_errorf print nothing (ranks but 0 under mpirun). */
extern int cli_quiet_errors;

/* The log callback: "MM/DD HH:MM:SS - weightinit - LEVEL - message". */
void cli_log(wi_log_level_t level, const char *message, void *ud);
/* Prints "weightinit: error: <one line>" to stderr. */
void cli_error(const wi_error_t *err);
/* The progress bar on stderr for writes and downloads, installed only
 * when stderr is a terminal (and not -q):
 * "[=====>    ] 1.2 GB / 6.2 GB  340 M params  410 MB/s  ETA 12 s".
 * cli_progress_clear erases a visible bar (the log and errors call it). */
void cli_task_progress(const wi_task_progress_t *p, void *ud);
void cli_progress_clear(void);
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Plugins load in the order of docs/plugins.md: the built-in folder,
 * the --plugin files (cli_load_plugins: 0, or -1 with err), a model's
 * "plugins", then $WEIGHTINIT_PLUGIN_PATH (cli_load_plugin_path, which
 * then warns about every plugin that failed to load). */
int cli_load_plugins(const char *const *paths, int n, wi_error_t *err);
void cli_load_plugin_path(void);

/* "0.031 s": the time since cli_start_clock (called first in main). */
void cli_start_clock(void);
char *cli_elapsed(char *buf, size_t size);
/* "1.2 MB": a byte count as a person reads it (SI units, like du --si). */
char *cli_format_bytes(uint64_t n, char *buf, size_t size);

/* A process an MPI launcher started (cli_launch.c): the variable that
 * says so and its value, the number of ranks and this one's (-1: the
 * launcher does not say). */
typedef struct {
    const char *var, *value;
    long size, rank;
} cli_launch_t;
/* 1 with *l filled when launched (mpirun, mpiexec, srun), else 0. */
int cli_launched(cli_launch_t *l);
/* For a command that cannot share its work among ranks (init built
 * without MPI; a command every rank runs on its own files, as a job
 * array, does not ask): 0 when not
 * launched or launched alone; else exit 2, after one line on rank 0
 * naming the launcher's variable and why (`why`: "this weightinit was
 * built without MPI"). */
int cli_refuse_ranks(const char *command, const char *why);

/* SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ: remove the temporary
 * outputs, then die of the signal. */
void cli_catch_signals(void);
/* Opens an output of g; "-" is standard output (refused on a terminal
 * when binary).  NULL after printing the error, *status = exit status. */
FILE *cli_open_output(wi_output_group_t *g, const char *path, int binary,
                      int *status);
/* How messages name an output: "standard output" for "-". */
const char *cli_output_name(const char *path);
/* The checkpoint format an output path names by its extension; standard
 * output ("-"), a FIFO or a character device (written to directly, often
 * without an extension: /dev/null) get safetensors.  Any other name
 * without a known extension: -1 with err listing the formats. */
int cli_output_format(const char *path, wi_checkpoint_format_t *fmt,
                      wi_error_t *err);

/* --max-shard-size writes several files beside path (-o, convert's
 * OUT, named what in messages): 0, or exit 2 after the message for no
 * path, "-", a FIFO or a device. */
int cli_check_sharded_output(const char *path, const char *what);

/* weightinit plan (cli_plan.c): the write observer's record of a run and
 * its output (docs/plan.md). */
typedef struct cli_plan cli_plan_t;
cli_plan_t *cli_plan_new(void);
void cli_plan_free(cli_plan_t *p);
/* Notes every parameter's construction writes and installs the write
 * observer on ctx; -1 when out of memory. */
int cli_plan_observe(cli_plan_t *p, wi_module_t *root, wi_context_t *ctx);
/* The plan of root after initialisation (new reference, NULL for OOM). */
json_t *cli_plan_json(cli_plan_t *p, wi_module_t *root, const wi_diagnostics_t *d);
void cli_plan_print(const json_t *plan, FILE *out);
/* The checkpoint metadata's "weightinit.provenance": compact JSON of
 * {name: {"source", "writer"}} for each parameter (malloc'd, NULL for
 * OOM): the init_cfg path of the last write (or "construction",
 * "init_weights") and the report's text for it.  Never what the plan
 * computed lazily: the bytes stay the eager path's. */
char *cli_plan_provenance(const json_t *plan);
#define CLI_PROVENANCE_KEY "weightinit.provenance"

int cmd_init(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif
