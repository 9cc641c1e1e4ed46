#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

wi_log_level_t cli_log_level = WI_LOG_INFO;

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

void cli_log(wi_log_level_t level, const char *message, void *ud)
{
    (void)ud;
    if (level < cli_log_level)
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%m/%d %H:%M:%S", &tm);
    int colour = isatty(STDERR_FILENO) && level_colour(level)[0];
    fprintf(stderr, "%s - weightinit - %s%s%s - %s\n", stamp,
            colour ? level_colour(level) : "", level_name(level),
            colour ? "\033[0m" : "", message);
}

void cli_error(const wi_error_t *err)
{
    char line[1200];
    fprintf(stderr, "weightinit: error: %s\n",
            wi_error_format(err, line, sizeof line));
}

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weightinit: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_progress(uint64_t done, uint64_t total, void *ud)
{
    static uint64_t last = UINT64_MAX;
    (void)ud;
    if (total == 0 || done == last)
        return;
    last = done;
    int width = 40, filled = (int)((double)done / (double)total * width);
    fprintf(stderr, "\r%5.1f%% [%.*s%*s] %llu/%llu bytes", 100.0 * (double)done / (double)total,
            filled, "########################################", width - filled, "",
            (unsigned long long)done, (unsigned long long)total);
    if (done >= total)
        fputc('\n', stderr);
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
