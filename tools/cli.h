/* The weightinit command: shared pieces of the subcommands. */
#ifndef WI_CLI_H
#define WI_CLI_H

#include <weightinit/weightinit.h>

/* Exit codes of cli.md. */
enum { EXIT_INIT_FAILED = 1, EXIT_BAD_INPUT = 2 };

/* Set by -q / -v: the lowest level printed. */
extern wi_log_level_t cli_log_level;

/* The log callback: "MM/DD HH:MM:SS - weightinit - LEVEL - message". */
void cli_log(wi_log_level_t level, const char *message, void *ud);
/* Prints "weightinit: error: <one line>" to stderr. */
void cli_error(const wi_error_t *err);
/* A download progress bar on stderr (installed only on a terminal). */
void cli_progress(uint64_t done, uint64_t total, void *ud);
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads the --plugin files (errors are fatal: exit 2), then the search
 * path (failures are warnings).  Returns 0 or -1. */
int cli_load_plugins(const char *const *paths, int n);

/* SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ: remove the temporary
 * outputs, then die of the signal. */
void cli_catch_signals(void);
/* Opens an output of g; "-" is standard output (refused on a terminal
 * when binary).  NULL after printing the error, *status = exit status. */
FILE *cli_open_output(wi_output_group_t *g, const char *path, int binary,
                      int *status);
/* How messages name an output: "standard output" for "-". */
const char *cli_output_name(const char *path);
/* The exit status for a failed output call: 2 for a path that may not be
 * written (WI_EINVAL), else 1. */
int cli_output_status(const wi_error_t *err);

int cmd_init(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif
