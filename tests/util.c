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

json_t *wi_test_load_manifest(const char *name, int avx2)
{
    char rel[512];
    snprintf(rel, sizeof rel, "golden/%s/manifest.avx2.json", name);
    char *p = wi_test_data_path(rel);
    int has_avx2 = access(p, R_OK) == 0;
    free(p);
    snprintf(rel, sizeof rel, "golden/%s/manifest%s.json", name,
             avx2 && has_avx2 ? ".avx2" : "");
    return wi_test_load_json(rel);
}

void wi_test_assert_state(wi_module_t *root, const char *name, int avx2)
{
    char hex[65];
    json_t *manifest = wi_test_load_manifest(name, avx2);
    json_t *want = json_object_get(manifest, "tensors");
    wi_state_dict_t *sd = wi_module_state_dict(root, NULL);
    ck_assert_int_eq(wi_state_dict_size(sd), json_array_size(want));
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        json_t *w = json_array_get(want, i);
        ck_assert_str_eq(wi_state_dict_name(sd, i),
                         json_string_value(json_object_get(w, "name")));
        wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        wi_test_sha256_hex(wi_tensor_const_data(t), wi_tensor_nbytes(t), hex);
        ck_assert_msg(strcmp(hex, json_string_value(json_object_get(w, "sha256"))) == 0,
                      "%s: %s differs from PyTorch", name, wi_state_dict_name(sd, i));
    }
    wi_state_dict_free(sd);
    json_decref(manifest);
}

static void rstrip(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

void wi_test_assert_report_json(const json_t *got, const char *name,
                                const char *root_type, const json_t *params)
{
    char rel[512];
    snprintf(rel, sizeof rel, "golden/%s/init_info_exact.json", name);
    json_t *want = wi_test_load_json(rel);
    if (json_array_size(want) == 0 && params) {
        /* No init_weights ran: names and shapes against the parameters. */
        json_decref(want);
        want = json_incref((json_t *)params);
    }
    ck_assert_msg(json_array_size(got) == json_array_size(want),
                  "%s: report has %zu entries, want %zu", name,
                  json_array_size(got), json_array_size(want));
    for (size_t i = 0; i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i);
        const char *pname = json_string_value(json_object_get(w, "name"));
        ck_assert_str_eq(json_string_value(json_object_get(g, "name")), pname);
        ck_assert_msg(json_equal(json_object_get(g, "shape"), json_object_get(w, "shape")),
                      "%s: %s shape differs", name, pname);
        const char *wi = json_string_value(json_object_get(w, "info"));
        if (!wi)
            continue;
        char expect[1024], have[1024];
        if (strcmp(wi, "not written by init_weights") == 0)
            snprintf(expect, sizeof expect, "The value is the same before and after "
                     "calling `init_weights` of %s", root_type);
        else
            snprintf(expect, sizeof expect, "%s", wi);
        snprintf(have, sizeof have, "%s", json_string_value(json_object_get(g, "info")));
        rstrip(expect);
        rstrip(have);
        ck_assert_msg(strcmp(expect, have) == 0, "%s: %s info '%s', want '%s'", name,
                      pname, have, expect);
    }
    json_decref(want);
}

static int collect_entry(const char *pname, const wi_tensor_t *t, const char *info,
                         void *ud)
{
    json_t *dims = json_array();
    for (int i = 0; i < wi_tensor_ndim(t); i++)
        json_array_append_new(dims, json_integer(wi_tensor_shape(t)[i]));
    return json_array_append_new(ud, json_pack("{s:s, s:o, s:s}", "name", pname,
                                               "shape", dims, "info", info));
}

void wi_test_assert_report(wi_module_t *root, const char *name)
{
    json_t *got = json_array();
    ck_assert_int_eq(wi_init_report(root, collect_entry, got), 0);
    wi_test_assert_report_json(got, name, wi_module_type(root), NULL);
    json_decref(got);
}

int wi_test_run_suite(Suite *s)
{
    /* The dispatch matrix (tests/meson.build) forces each instruction set;
     * one this CPU lacks is a skip, not a failure. */
    wi_error_t err;
    if (getenv("WEIGHTINIT_ISA") && !wi_kernel_isa(&err)) {
        printf("skipped: %s\n", err.text);
        srunner_free(srunner_create(s));
        return 77;
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void wi_test_assert_safetensors(const char *path, const json_t *want,
                                const char *label)
{
    size_t len;
    unsigned char *buf = (unsigned char *)wi_test_read_file(path, &len);
    ck_assert_msg(buf && len >= 8, "%s: no safetensors file at %s", label, path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    ck_assert_msg(n <= len - 8, "%s: header longer than the file", label);
    json_error_t jerr;
    json_t *header = json_loadb((char *)buf + 8, n, 0, &jerr);
    ck_assert_msg(header != NULL, "%s: bad header: %s", label, jerr.text);
    size_t k = 0;
    const char *key;
    json_t *info;
    json_object_foreach(header, key, info) {
        if (strcmp(key, "__metadata__") == 0)
            continue;
        json_t *w = json_array_get(want, k++);
        ck_assert_msg(w != NULL, "%s: extra tensor %s", label, key);
        json_t *in_file = json_object_get(w, "key_in_file");
        const char *name = json_string_value(in_file ? in_file : json_object_get(w, "name"));
        ck_assert_msg(strcmp(key, name) == 0, "%s: tensor %zu is %s, want %s", label,
                      k - 1, key, name);
        ck_assert_str_eq(json_string_value(json_object_get(info, "dtype")),
                         json_string_value(json_object_get(w, "dtype")));
        ck_assert_msg(json_equal(json_object_get(info, "shape"), json_object_get(w, "shape")),
                      "%s: %s shape differs", label, key);
        json_t *offs = json_object_get(info, "data_offsets");
        uint64_t b = (uint64_t)json_integer_value(json_array_get(offs, 0));
        uint64_t e = (uint64_t)json_integer_value(json_array_get(offs, 1));
        ck_assert(b <= e && 8 + n + e <= len);
        char hex[65];
        wi_test_sha256_hex(buf + 8 + n + b, e - b, hex);
        ck_assert_msg(strcmp(hex, json_string_value(json_object_get(w, "sha256"))) == 0,
                      "%s: %s differs from PyTorch", label, key);
    }
    ck_assert_msg(k == json_array_size(want), "%s: %zu tensors, want %zu", label, k,
                  json_array_size(want));
    json_decref(header);
    free(buf);
}

char *wi_test_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

wi_test_cmd_t wi_test_cmd(const char *const *args)
{
    wi_test_cmd_t r = {wi_test_mkdtemp(), 0, NULL};
    char errpath[512];
    snprintf(errpath, sizeof errpath, "%s.stderr", r.dir);
    char *argv[32];
    int argc = 0;
    argv[argc++] = getenv("WI_TEST_WEIGHTINIT");
    for (; *args && argc < 31; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    r.status = wi_test_run(r.dir, argv, errpath);
    r.err = wi_test_read_file(errpath, NULL);
    remove(errpath);
    return r;
}

void wi_test_cmd_free(wi_test_cmd_t *r)
{
    wi_test_rmtree(r->dir);
    free(r->dir);
    free(r->err);
}
