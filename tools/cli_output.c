/* Outputs of the command: `-` for standard output, exit codes for the
 * output errors, and the signal handlers that remove temporaries. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Removes the temporaries, then dies of the same signal (default action),
 * so the shell sees 128+sig as for any killed command. */
static void on_signal(int sig)
{
    wi_output_remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_catch_signals(void)
{
    /* SIGPIPE: `-o - | head` ends the run; SIGXFSZ: a file size limit. */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* An ignored signal (nohup, a shell's background job) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

const char *cli_output_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "standard output" : path;
}

FILE *cli_open_output(wi_output_group_t *g, const char *path, int binary,
                      int *status)
{
    wi_error_t err;
    FILE *fp = NULL;
    if (strcmp(path, "-") != 0) {
        fp = wi_output_group_open(g, path, &err);
    } else if (binary && isatty(STDOUT_FILENO)) {
        cli_errorf("-: standard output is a terminal; refusing to write a binary "
                   "checkpoint to it (redirect it, or name a file)");
        *status = EXIT_BAD_INPUT;
        return NULL;
    } else if (wi_output_group_add_stream(g, stdout, "standard output", &err) == 0) {
        fp = stdout;
    }
    if (!fp) {
        cli_error(&err);
        *status = cli_status(err.code, CLI_STAGE_OUTPUT);
    }
    return fp;
}

int cli_output_format(const char *path, wi_checkpoint_format_t *fmt,
                      wi_error_t *err)
{
    struct stat st;
    if (wi_checkpoint_format_from_path(path, fmt, err) == 0)
        return 0;
    if (strcmp(path, "-") == 0 ||
        (stat(path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))) {
        *fmt = WI_CHECKPOINT_SAFETENSORS;
        return 0;
    }
    return -1;
}

int cli_check_sharded_output(const char *path, const char *what)
{
    struct stat st;
    if (!path) {
        cli_errorf("--max-shard-size: needs %s DIR/NAME.safetensors (or .pth, "
                   ".pt, .bin)", what);
        return EXIT_BAD_INPUT;
    }
    if (strcmp(path, "-") == 0 ||
        (stat(path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))) {
        cli_errorf("%s: --max-shard-size writes several files beside %s; name a "
                   "file in a folder, not %s", cli_output_name(path), what,
                   strcmp(path, "-") == 0 ? "standard output" : "a FIFO or a device");
        return EXIT_BAD_INPUT;
    }
    return 0;
}

int cli_check_path(const char *what, const char *path)
{
    if (path && !*path) {
        cli_errorf("%s: expected a file name, got an empty string", what);
        return EXIT_BAD_INPUT;
    }
    return 0;
}

int cli_commit(wi_output_group_t *g, int sync, wi_error_t *err)
{
    size_t files = 0;
    for (size_t i = 0; i < wi_output_group_size(g); i++)
        files += wi_output_group_temp(g, i) != NULL;
    if (sync && files) {
        char note[64];
        snprintf(note, sizeof note, "syncing %zu file%s to disk...", files,
                 files == 1 ? "" : "s");
        cli_progress_note(note);
    }
    int rc = wi_output_group_commit(g, err);
    cli_progress_clear();
    return rc;
}
