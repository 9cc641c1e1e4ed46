#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <nettle/sha2.h>

#include "util.h"

char *wi_test_data_path(const char *rel)
{
    const char *dir = getenv("WI_TEST_DATA");
    /* No ck_assert here: suites call this while collecting cases, outside
     * any test, where Check cannot report. */
    if (!dir) {
        fprintf(stderr, "WI_TEST_DATA is not set (run the suite via meson test)\n");
        exit(2);
    }
    size_t n = strlen(dir) + 1 + strlen(rel) + 1;
    char *path = malloc(n);
    if (!path)
        abort();
    snprintf(path, n, "%s/%s", dir, rel);
    return path;
}

json_t *wi_test_load_json(const char *rel)
{
    char *path = wi_test_data_path(rel);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        ck_abort_msg("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    free(path);
    return root;
}

void wi_test_sha256_hex(const void *data, size_t n, char out[65])
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, n, data);
    sha256_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

char *wi_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (!buf)
        abort();
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int wi_test_run(const char *dir, char *const argv[], const char *errpath)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || (dir && chdir(dir) != 0))
            _exit(127);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(!WIFSIGNALED(status), "%s died of signal %d", argv[0],
                  WTERMSIG(status));
    return WEXITSTATUS(status);
}

int wi_test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

char *wi_test_mkdtemp(void)
{
    char *dir = strdup("/tmp/wi_test_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

void wi_test_rmtree(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
