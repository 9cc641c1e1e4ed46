/* What the command prints on stderr: log records at the chosen level,
 * one-line errors, the progress bar and the notes drawn in its place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

wi_log_level_t cli_log_level = CLI_DEFAULT_LOG_LEVEL;

/* MMEngine's level names (logging's), in any case. */
static const struct {
    const char *name;
    wi_log_level_t level;
} level_names[] = {{"error", WI_LOG_ERROR},
                   {"warning", WI_LOG_WARNING},
                   {"info", WI_LOG_INFO},
                   {"debug", WI_LOG_DEBUG}};

int cli_set_log_level(const char *name)
{
    for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
        if (strcasecmp(name, level_names[i].name) == 0) {
            cli_log_level = level_names[i].level;
            return 0;
        }
    cli_errorf("--log-level: expected error, warning, info or debug, got '%s'", name);
    return -1;
}

int cli_show_progress(void)
{
    return cli_log_level <= WI_LOG_WARNING && isatty(STDERR_FILENO);
}

static const char *level_name(wi_log_level_t level)
{
    switch (level) {
    case WI_LOG_DEBUG: return "DEBUG";
    case WI_LOG_INFO: return "INFO";
    case WI_LOG_WARNING: return "WARNING";
    default: return "ERROR";
    }
}

static const char *level_colour(wi_log_level_t level)
{
    switch (level) {
    case WI_LOG_WARNING: return "\033[33m";
    case WI_LOG_ERROR: return "\033[31m";
    default: return "";
    }
}

/* One record; text is printed as it is (escaped by the caller). */
void cli_log_escaped(wi_log_level_t level, const char *text)
{
    if (level < cli_log_level)
        return;
    cli_progress_clear();
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%m/%d %H:%M:%S", &tm);
    int colour = isatty(STDERR_FILENO) && level_colour(level)[0];
    fprintf(stderr, "%s - weightinit - %s%s%s - %s\n", stamp,
            colour ? level_colour(level) : "", level_name(level),
            colour ? "\033[0m" : "", text);
}

/* The library's records: their own line breaks stay (MMEngine's
 * multi-line warnings), every other control byte is escaped. */
void cli_log(wi_log_level_t level, const char *message, void *ud)
{
    (void)ud;
    if (level < cli_log_level)
        return;
    char *text = cli_escape(message, 1);
    cli_log_escaped(level, text ? text : "(out of memory)");
    free(text);
}

void cli_logf(wi_log_level_t level, const char *fmt, ...)
{
    va_list ap, again;
    if (level < cli_log_level)
        return;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *line = n >= 0 ? malloc((size_t)n + 1) : NULL, *text = NULL;
    if (line) {
        vsnprintf(line, (size_t)n + 1, fmt, again);
        text = cli_escape(line, 0);
    }
    va_end(again);
    va_end(ap);
    cli_log_escaped(level, text ? text : "(out of memory)");
    free(text);
    free(line);
}

/* Ranks but 0 under mpirun (cli_mpi.c): their copies of rank 0's
 * messages are not printed. */
int cli_quiet_errors;

void cli_error(const wi_error_t *err)
{
    char line[1200];
    if (cli_quiet_errors)
        return;
    cli_progress_clear();
    fputs("weightinit: error: ", stderr);
    cli_fputs_escaped(wi_error_format(err, line, sizeof line), 0, stderr);
    fputc('\n', stderr);
}

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    if (cli_quiet_errors)
        return;
    va_start(ap, fmt);
    cli_progress_clear();
    fputs("weightinit: error: ", stderr);
    cli_vprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The progress bar: drawn on stderr (a terminal: cmd_init installs it
 * only there), redrawn in place at most 10 times a second, erased when
 * the task ends or anything else is printed. */
static struct {
    int shown;
    double start, last;
} bar;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_clear(void)
{
    if (bar.shown)
        fputs("\r\033[K", stderr);
    bar.shown = 0;
}

void cli_progress_note(const char *text)
{
    if (!cli_show_progress())
        return;
    fprintf(stderr, "\r%s\033[K", text);
    bar.shown = 1;
}

/* "340 M": a count with an SI prefix. */
static char *format_count(uint64_t n, char *buf, size_t size)
{
    static const char *const prefixes[] = {"k", "M", "G", "T"};
    if (n < 1000) {
        snprintf(buf, size, "%llu", (unsigned long long)n);
        return buf;
    }
    double v = (double)n / 1000.0;
    size_t u = 0;
    while (v >= 999.5 && u + 1 < sizeof prefixes / sizeof *prefixes) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, size, v < 10 ? "%.1f %s" : "%.0f %s", v, prefixes[u]);
    return buf;
}

void cli_task_progress(const wi_task_progress_t *p, void *ud)
{
    (void)ud;
    double t = now_s();
    if (p->finished) {
        cli_progress_clear();
        bar.start = 0;
        return;
    }
    if (bar.start == 0 || (p->bytes_done == 0 && p->tensors_done == 0))
        bar.start = t;
    if (bar.shown && t - bar.last < 0.1)
        return;
    bar.last = t;
    enum { WIDTH = 30 };
    char line[WIDTH + 200], done[32], total[32], rate[32], count[32];
    double frac = p->bytes_total ? (double)p->bytes_done / (double)p->bytes_total : 0;
    int fill = (int)(frac * WIDTH + 0.5);
    fill = fill > WIDTH ? WIDTH : fill;
    size_t n = 0;
    line[n++] = '[';
    for (int i = 0; i < WIDTH; i++)
        line[n++] = i < fill - 1 || (i == fill - 1 && fill == WIDTH) ? '='
                    : i == fill - 1                                   ? '>'
                                                                      : ' ';
    line[n++] = ']';
    n += (size_t)snprintf(line + n, sizeof line - n, " %s",
                          cli_format_bytes(p->bytes_done, done, sizeof done));
    if (p->bytes_total)
        n += (size_t)snprintf(line + n, sizeof line - n, " / %s",
                              cli_format_bytes(p->bytes_total, total, sizeof total));
    if (p->params_total)
        n += (size_t)snprintf(line + n, sizeof line - n, "  %s params",
                              format_count(p->params_done, count, sizeof count));
    double dt = t - bar.start, speed = dt > 0.05 ? (double)p->bytes_done / dt : 0;
    if (speed > 0) {
        n += (size_t)snprintf(line + n, sizeof line - n, "  %s/s",
                              cli_format_bytes((uint64_t)speed, rate, sizeof rate));
        if (p->bytes_total > p->bytes_done)
            snprintf(line + n, sizeof line - n, "  ETA %.0f s",
                     (double)(p->bytes_total - p->bytes_done) / speed + 0.5);
    }
    fprintf(stderr, "\r%s\033[K", line);
    bar.shown = 1;
}

static struct timespec started;

void cli_start_clock(void)
{
    clock_gettime(CLOCK_MONOTONIC, &started);
}

char *cli_elapsed(char *buf, size_t size)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double s = (double)(now.tv_sec - started.tv_sec) +
               (double)(now.tv_nsec - started.tv_nsec) / 1e9;
    snprintf(buf, size, s < 1 ? "%.3f s" : "%.1f s", s);
    return buf;
}

char *cli_format_bytes(uint64_t n, char *buf, size_t size)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
    if (n < 1000) {
        snprintf(buf, size, "%llu bytes", (unsigned long long)n);
        return buf;
    }
    double v = (double)n / 1000.0;
    size_t u = 0;
    while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
    return buf;
}
