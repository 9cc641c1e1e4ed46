/* examples/c/minimal.c, the C example of docs/library.md, built against the build
 * tree: its output must equal PyTorch's golden state dicts (sha256 of
 * every tensor in the golden manifest), not merely exist. */
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "util.h"

static const struct {
    const char *name, *seed;
} cases[] = {
    {"caffe2xavier", "1234"},               /* init_cfg on built-in layers */
    {"tutorial_custom_toyconv", "123456789"}, /* ToyConv via the search path */
    {"defaults_rand_11_3", "-4294967296"},  /* a negative seed, as torch takes it */
};

START_TEST(minimal_matches_golden)
{
    const char *name = cases[_i].name;
    char rel[200], *dir = wi_test_mkdtemp(), out[600], errpath[600];
    snprintf(rel, sizeof rel, "cases/%s/model.json", name);
    char *model = wi_test_data_path(rel);
    snprintf(out, sizeof out, "%s/out.safetensors", dir);
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    char *argv[] = {getenv("WI_TEST_MINIMAL"), model, (char *)cases[_i].seed, out, NULL};
    ck_assert_msg(argv[0], "WI_TEST_MINIMAL is not set");
    int status = wi_test_run(NULL, argv, errpath);
    char *err = wi_test_read_file(errpath, NULL);
    ck_assert_msg(status == 0, "%s: exit %d: %s", name, status, err ? err : "");
    free(err);
    json_t *manifest = wi_test_load_manifest(name, 1);
    wi_test_assert_safetensors(out, json_object_get(manifest, "tensors"), name);
    json_decref(manifest);
    wi_test_rmtree(dir);
    free(dir);
    free(model);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("example");
    TCase *tc = tcase_create("example");
    tcase_add_loop_test(tc, minimal_matches_golden, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
