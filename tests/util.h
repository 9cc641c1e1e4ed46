/* Helpers shared by the Check suites. */
#ifndef WI_TESTS_UTIL_H
#define WI_TESTS_UTIL_H

#include <stddef.h>

#include <check.h>
#include <jansson.h>
#include <weightinit/weightinit.h>

/* A new (malloc'd) path: $WI_TEST_DATA/rel.  Aborts the test when
 * WI_TEST_DATA is unset. */
char *wi_test_data_path(const char *rel);

/* Loads $WI_TEST_DATA/rel as JSON (new reference); aborts the test with
 * jansson's message on failure. */
json_t *wi_test_load_json(const char *rel);

/* Lower-case hex sha256 of n bytes, NUL-terminated into out. */
void wi_test_sha256_hex(const void *data, size_t n, char out[65]);

/* Reads a whole file (malloc'd, NUL-terminated); NULL when unreadable. */
char *wi_test_read_file(const char *path, size_t *len);

/* Runs argv (argv[0] a path) with the working folder dir and stderr sent
 * to errpath; returns the exit status, failing the test on a signal. */
int wi_test_run(const char *dir, char *const argv[], const char *errpath);

/* A weightinit command run in a fresh temporary folder: its exit status
 * and stderr.  wi_test_cmd runs $WI_TEST_WEIGHTINIT with args (NULL-
 * terminated, at most 30); free with wi_test_cmd_free, which removes the
 * folder. */
typedef struct wi_test_cmd {
    char *dir;
    int status;
    char *err;
} wi_test_cmd_t;
wi_test_cmd_t wi_test_cmd(const char *const *args);
void wi_test_cmd_free(wi_test_cmd_t *r);

/* Entries in a folder, hidden ones included (for "no file left behind"). */
int wi_test_count_entries(const char *dir);

/* A new temporary folder (malloc'd path) and its recursive removal. */
char *wi_test_mkdtemp(void);
/* "DIR/NAME", malloc'd. */
char *wi_test_join(const char *dir, const char *name);
void wi_test_rmtree(const char *dir);

/* Runs every test of s, frees it, and returns the process exit status. */
int wi_test_run_suite(Suite *s);

/* Asserts that the safetensors file at path holds exactly the tensors of
 * `want` (an array of {name, dtype, shape, sha256}, with key_in_file
 * preferred over name when present), in that order, byte for byte. */
void wi_test_assert_safetensors(const char *path, const json_t *want,
                                const char *label);

/* golden/<name>/manifest.avx2.json for the avx2 profile where it exists,
 * else manifest.json (the answer for both profiles); new reference. */
json_t *wi_test_load_manifest(const char *name, int avx2);

/* Asserts that root's state dict equals golden/<name>/manifest[.avx2].json
 * (names, order, sha256 of every tensor's bytes). */
void wi_test_assert_state(wi_module_t *root, const char *name, int avx2);

/* Asserts that a report (a JSON array of {name, shape, info}) equals
 * golden/<name>/init_info_exact.json, where "not written by init_weights"
 * stands for the "The value is the same ..." sentence of root_type and
 * trailing blanks do not count.  An empty golden report (no init_weights
 * ran) is compared by names and shapes with `params` when given. */
void wi_test_assert_report_json(const json_t *got, const char *name,
                                const char *root_type, const json_t *params);

/* Asserts that root's report equals golden/<name>/init_info_exact.json
 * ("not written by init_weights" = the "The value is the same ..."
 * sentence; trailing blanks ignored). */
void wi_test_assert_report(wi_module_t *root, const char *name);

#endif
