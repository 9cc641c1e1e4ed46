/* The weightinit command: shared pieces of the subcommands. */
#ifndef WI_CLI_H
#define WI_CLI_H

#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>
#include <weightinit/weightinit.h>

/* Exit codes (docs/cli.md, "Errors and exit status"): 1 the work failed, 2 bad input or
 * command line. */
enum { EXIT_INIT_FAILED = 1, EXIT_BAD_INPUT = 2 };

/* Where in a run an error arose: with the WI_E* code it decides the exit
 * status (cli_status.c; the table in docs/cli.md). */
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

/* The lowest level printed: --log-level error|warning|info|debug
 * (MMEngine's names), -q = error, -v = debug.  The default, warning,
 * keeps warnings, the progress bar and the summary line and leaves out
 * the per-parameter records (info): docs/cli.md says why. */
#define CLI_DEFAULT_LOG_LEVEL WI_LOG_WARNING
extern wi_log_level_t cli_log_level;
/* Sets cli_log_level from a level's name (any case): 0, or -1 after
 * printing the error. */
int cli_set_log_level(const char *name);
/* 1 when the progress bar and the notes drawn in its place are shown:
 * stderr is a terminal and the level is warning or lower. */
int cli_show_progress(void);
/* 1: cli_error / cli_errorf print nothing (ranks but 0 under mpirun). */
extern int cli_quiet_errors;

/* The log callback: "MM/DD HH:MM:SS - weightinit - LEVEL - message",
 * control bytes escaped (cli_escape) but the message's own line breaks.
 * cli_logf: the command's own one-line records, everything escaped.
 * cli_log_escaped: a record the caller escaped itself (the per-parameter
 * record keeps MMEngine's line breaks between escaped names). */
void cli_log(wi_log_level_t level, const char *message, void *ud);
void cli_logf(wi_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_log_escaped(wi_log_level_t level, const char *text);
/* Prints "weightinit: error: <one line>" to stderr. */
void cli_error(const wi_error_t *err);
/* The progress bar on stderr for writes and downloads, installed only
 * when stderr is a terminal (and not -q):
 * "[=====>    ] 1.2 GB / 6.2 GB  340 M params  410 MB/s  ETA 12 s".
 * cli_progress_clear erases a visible bar (the log and errors call it). */
void cli_task_progress(const wi_task_progress_t *p, void *ud);
void cli_progress_clear(void);
/* Draws text where the bar goes ("syncing 3 files to disk..."), erased
 * like the bar; nothing unless cli_show_progress(). */
void cli_progress_note(const char *text);

/* Human output (cli_text.c): names from files may hold bytes a terminal
 * obeys, so every byte that is not printable is shown as `ls -b` does:
 * \a \b \t \n \v \f \r, \\ for a backslash, octal \ooo for the
 * others (ESC is \033), well-formed UTF-8 kept but for C1 controls.
 * keep_newlines: '\n' stays a line break.  cli_escape: malloc'd, NULL
 * when out of memory.  cli_printf / cli_vprintf: printf, then the
 * result escaped, all but one final newline (one line per call). */
char *cli_escape(const char *s, int keep_newlines);
void cli_fputs_escaped(const char *s, int keep_newlines, FILE *fp);
void cli_printf(FILE *fp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_vprintf(FILE *fp, const char *fmt, va_list ap);

/* An argument that names a file may not be empty (an unset variable):
 * 0, or exit 2 after "WHAT: expected a file name, got an empty string". */
int cli_check_path(const char *what, const char *path);
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
/* Commits g (wi_output_group_commit).  sync: g fsyncs, which takes
 * seconds for a large file after the progress bar is gone, so a note
 * "syncing N files to disk..." stands where the bar was until it is
 * done (on a terminal: cli_progress_note). */
int cli_commit(wi_output_group_t *g, int sync, wi_error_t *err);
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
/* Installs the write observer on ctx before the model is built, so that
 * construction-time init entries are recorded with their JSON paths. */
void cli_plan_watch(cli_plan_t *p, wi_context_t *ctx);
/* Notes every parameter's construction writes and installs the write
 * observer on ctx; -1 when out of memory. */
int cli_plan_observe(cli_plan_t *p, wi_module_t *root, wi_context_t *ctx);
/* Prints the plan of root after initialisation and its ties on out, as
 * JSON (json) or text, one parameter at a time (a model of millions of
 * parameters never holds the whole document).  ties is the model's
 * {"NAME": "TARGET"} (borrowed, NULL for none), already applied: a tied
 * tensor is listed once, as named_parameters() lists it, and each tie
 * is named without draws of its own.  -1 when out of memory. */
int cli_plan_print(cli_plan_t *p, wi_module_t *root, const wi_diagnostics_t *d,
                   const json_t *ties, int json, FILE *out);
/* The checkpoint metadata's "weightinit.provenance": compact JSON of
 * {name: {"source", "writer"}} for each parameter (malloc'd, NULL for
 * OOM): the init_cfg path of the last write (or "construction",
 * "init_weights") and the report's text for it.  Never what the plan
 * computed lazily: the bytes stay the eager path's. */
char *cli_plan_provenance(cli_plan_t *p, wi_module_t *root);
#define CLI_PROVENANCE_KEY "weightinit.provenance"

int cmd_init(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif
