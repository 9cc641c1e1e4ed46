/* The plugin loader: each way a plugin can be broken gets its own clear
 * error, an older minor ABI loads, broken plugins on the search path do
 * not stop the others, and the built-in initializers each come from their
 * own shared object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

static char *broken(const char *name)
{
    const char *dir = getenv("WI_TEST_BROKEN_PLUGINDIR");
    ck_assert_ptr_nonnull(dir);
    size_t n = strlen(dir) + strlen(name) + 8;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s.so", dir, name);
    return p;
}

/* Loads one plugin into a fresh registry; returns the code and the text. */
static int load(const char *name, wi_registry_t *reg, wi_error_t *err)
{
    char *path = broken(name);
    int rc = wi_registry_load_plugin(reg, path, err);
    if (rc < 0)
        ck_assert_msg(strstr(err->source, name), "error does not name the file: %s",
                      err->source);
    free(path);
    return rc;
}

static void expect_refused(const char *name, const char *const *words)
{
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(load(name, reg, &err), WI_EPLUGIN);
    for (; *words; words++)
        ck_assert_msg(strstr(err.text, *words), "%s: '%s' not in: %s", name, *words,
                      err.text);
    ck_assert_int_eq(wi_registry_size(reg), 0);
    wi_registry_free(reg);
}

START_TEST(missing_descriptor)
{
    const char *w[] = {"no 'wi_plugin_descriptor' symbol", NULL};
    expect_refused("broken_no_descriptor", w);
}
END_TEST

START_TEST(newer_minor_refused)
{
    char newer[32], host[64];
    snprintf(newer, sizeof newer, "plugin ABI 1.%d ", WI_PLUGIN_ABI_MINOR + 1);
    snprintf(host, sizeof host, "this weightinit has plugin ABI 1.%d", WI_PLUGIN_ABI_MINOR);
    const char *w[] = {newer, host, NULL};
    expect_refused("broken_new_minor", w);
}
END_TEST

START_TEST(other_major_refused)
{
    char host[64];
    snprintf(host, sizeof host, "this weightinit has plugin ABI 1.%d", WI_PLUGIN_ABI_MINOR);
    const char *w[] = {"plugin ABI 2.", host, NULL};
    expect_refused("broken_major", w);
}
END_TEST

START_TEST(wrong_struct_size_refused)
{
    const char *w[] = {"descriptor has size 8, less than the 40 bytes of ABI 1.0", NULL};
    expect_refused("broken_struct_size", w);
}
END_TEST

START_TEST(register_failure_refused)
{
    const char *w[] = {"refusing to register on purpose", NULL};
    expect_refused("broken_register_fails", w);
}
END_TEST

/* A plugin built against ABI 1.0, with 1.0's smaller descriptor (no
 * unload), loads. */
START_TEST(older_minor_accepted)
{
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(load("broken_old_minor", reg, &err), 0);
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "OldMinorInit", &err));
    wi_registry_free(reg);
}
END_TEST

/* A descriptor larger than the host's (a later header's) loads; the
 * members the host does not know are ignored. */
START_TEST(newer_descriptor_accepted)
{
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(load("newer_descriptor", reg, &err), 0);
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "NewerDescriptorInit", &err));
    wi_registry_free(reg);
}
END_TEST

/* 1.4's unload runs once, when the registry holding the plugin is freed. */
START_TEST(unload_called_once)
{
    char *dir = wi_test_mkdtemp(), path[512], text[64] = "";
    snprintf(path, sizeof path, "%s/unload.txt", dir);
    setenv("WI_TEST_UNLOAD_FILE", path, 1);
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(load("with_unload", reg, &err), 0);
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "UnloadInit", &err));
    ck_assert_int_eq(access(path, F_OK), -1); /* not before */
    wi_registry_free(reg);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    ck_assert_str_eq(text, "unloaded\n");
    unsetenv("WI_TEST_UNLOAD_FILE");
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A plugin that calls a wi_* function around the host table is refused
 * before dlopen runs its code, naming the function. */
START_TEST(direct_library_call_refused)
{
    const char *w[] = {"calls weightinit's wi_tensor_data directly",
                       "only through the host table", "-z,defs", NULL};
    expect_refused("broken_calls_library", w);
}
END_TEST

START_TEST(duplicate_type_names_both_files)
{
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(load("broken_duplicate_a", reg, &err), 0);
    ck_assert_int_eq(load("broken_duplicate_b", reg, &err), WI_EINVAL);
    ck_assert_msg(strstr(err.text, "broken_duplicate_a.so") &&
                  strstr(err.text, "broken_duplicate_b.so") &&
                  strstr(err.text, "'DuplicateInit' is registered twice"), "%s", err.text);
    /* The first registration stands. */
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "DuplicateInit", &err));
    wi_registry_free(reg);
}
END_TEST

START_TEST(not_a_shared_object)
{
    char *dir = wi_test_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/fake.so", dir);
    FILE *f = fopen(path, "w");
    fputs("this is text, not ELF\n", f);
    fclose(f);
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(wi_registry_load_plugin(reg, path, &err), WI_EPLUGIN);
    ck_assert_msg(strstr(err.text, "not a loadable shared object"), "%s", err.text);
    ck_assert_str_eq(err.source, path);
    ck_assert_int_eq(wi_registry_load_plugin(reg, "/nonexistent/x.so", &err), WI_EPLUGIN);
    ck_assert_msg(strstr(err.text, "No such file"), "%s", err.text);
    wi_registry_free(reg);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* The broken folder on the search path: every good plugin still loads,
 * each broken one is recorded, and an unknown lookup mentions them. */
START_TEST(search_path_survives_broken_plugins)
{
    setenv("WEIGHTINIT_PLUGIN_PATH", getenv("WI_TEST_BROKEN_PLUGINDIR"), 1);
    wi_registry_t *reg = wi_registry_new();
    ck_assert_int_eq(wi_registry_load_search_path(reg), 7);
    ck_assert_int_eq(wi_registry_failure_count(reg), 7);
    wi_error_t err;
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "Kaiming", &err));
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "OldMinorInit", &err));
    ck_assert_ptr_null(wi_registry_find_initializer(reg, "Broken", &err));
    ck_assert_msg(strstr(err.text, "7 plugin(s) failed to load"), "%s", err.text);
    wi_registry_free(reg);
}
END_TEST

/* Each of the eight built-in initializers is its own shared object. */
START_TEST(builtins_one_file_each)
{
    static const char *const types[][2] = {
        {"Caffe2Xavier", "wi_caffe2_xavier.so"}, {"Constant", "wi_constant.so"},
        {"Kaiming", "wi_kaiming.so"}, {"Normal", "wi_normal.so"},
        {"Pretrained", "wi_pretrained.so"},
        {"TruncNormal", "wi_trunc_normal.so"}, {"Uniform", "wi_uniform.so"},
        {"Xavier", "wi_xavier.so"}};
    unsetenv("WEIGHTINIT_PLUGIN_PATH");
    wi_registry_t *reg = wi_registry_new();
    ck_assert_int_eq(wi_registry_load_search_path(reg), 0);
    ck_assert_int_eq(wi_registry_size(reg), 8);
    for (size_t i = 0; i < 8; i++) {
        ck_assert_str_eq(wi_registry_name(reg, i), types[i][0]);
        const char *origin = wi_registry_origin(reg, i);
        const char *base = strrchr(origin, '/');
        ck_assert_str_eq(base ? base + 1 : origin, types[i][1]);
    }
    wi_registry_free(reg);
}
END_TEST

/* A file that dlopen must never see is refused first: a FIFO (dlopen
 * would block forever on it), a directory, a device-like non-file. */
static void expect_file_refused(const char *path, const char *words)
{
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(wi_registry_load_plugin(reg, path, &err), WI_EPLUGIN);
    ck_assert_str_eq(err.source, path);
    ck_assert_msg(strstr(err.text, words), "%s: '%s' not in: %s", path, words, err.text);
    ck_assert_int_eq(wi_registry_size(reg), 0);
    wi_registry_free(reg);
}

START_TEST(fifo_refused_without_blocking)
{
    char *dir = wi_test_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/x.so", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    expect_file_refused(path, "not a regular file");
    /* On the search path: recorded, the run goes on. */
    wi_registry_t *reg = wi_registry_new();
    ck_assert_int_eq(wi_registry_load_path(reg, dir), 1);
    ck_assert_msg(strstr(wi_registry_failure_message(reg, 0), "x.so: not a loadable "
                         "shared object: not a regular file"), "%s",
                  wi_registry_failure_message(reg, 0));
    wi_registry_free(reg);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(directory_refused)
{
    char *dir = wi_test_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/y.so", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    expect_file_refused(path, "it is a directory");
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

static char *builtin(const char *file)
{
    size_t n = strlen(wi_registry_builtin_plugin_dir()) + strlen(file) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", wi_registry_builtin_plugin_dir(), file);
    return p;
}

static void write_prefix(const char *to, const char *data, size_t n)
{
    FILE *f = fopen(to, "wb");
    ck_assert(f && fwrite(data, 1, n, f) == n && fclose(f) == 0);
}

/* A truncated copy of a real plugin (an interrupted copy or download)
 * would kill the process with SIGBUS inside dlopen; every cut, from the
 * ELF header to the last byte, is refused with a reason instead.  The
 * whole copy loads (the copying itself is sound). */
START_TEST(truncated_plugin_refused)
{
    char *src = builtin("wi_kaiming.so"), *dir = wi_test_mkdtemp(), path[512];
    size_t size;
    char *data = wi_test_read_file(src, &size);
    ck_assert(data && size > 8192);
    const size_t cuts[] = {0, 3, 4, 16, 63, 64, 100, 500, 1000, 4000, 4096,
                           size / 3, size / 2, size - 4096, size - 200, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        snprintf(path, sizeof path, "%s/cut%zu.so", dir, cuts[i]);
        write_prefix(path, data, cuts[i]);
        wi_registry_t *reg = wi_registry_new();
        wi_error_t err;
        ck_assert_int_eq(wi_registry_load_plugin(reg, path, &err), WI_EPLUGIN);
        ck_assert_msg(strstr(err.text, cuts[i] < 4 ? "not an ELF file" : "truncated"),
                      "cut at %zu of %zu: %s", cuts[i], size, err.text);
        ck_assert_int_eq(wi_registry_size(reg), 0);
        wi_registry_free(reg);
    }
    snprintf(path, sizeof path, "%s/whole.so", dir);
    write_prefix(path, data, size);
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(wi_registry_load_plugin(reg, path, &err), 0);
    ck_assert_ptr_nonnull(wi_registry_find_initializer(reg, "Kaiming", &err));
    wi_registry_free(reg);
    free(data);
    free(src);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* One file reached through a symlink and a hard link is one plugin:
 * loaded once, no duplicate-type error. */
START_TEST(same_file_loaded_once)
{
    char *src = builtin("wi_normal.so"), *dir = wi_test_mkdtemp();
    char copy[512], sym[512], hard[512];
    size_t size;
    char *data = wi_test_read_file(src, &size);
    snprintf(copy, sizeof copy, "%s/normal.so", dir);
    snprintf(sym, sizeof sym, "%s/symlink.so", dir);
    snprintf(hard, sizeof hard, "%s/hardlink.so", dir);
    write_prefix(copy, data, size);
    ck_assert_int_eq(symlink(copy, sym), 0);
    ck_assert_int_eq(link(copy, hard), 0);
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(wi_registry_load_plugin(reg, copy, &err), 0);
    ck_assert_int_eq(wi_registry_load_plugin(reg, sym, &err), 0);
    ck_assert_int_eq(wi_registry_load_plugin(reg, hard, &err), 0);
    ck_assert_int_eq(wi_registry_load_path(reg, dir), 0);
    ck_assert_int_eq(wi_registry_size(reg), 1);
    ck_assert_str_eq(wi_registry_origin(reg, 0), copy);
    wi_registry_free(reg);
    free(data);
    free(src);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Built-in plugins load first: a second file registering a built-in
 * type fails naming both files (an error when loaded explicitly, a
 * recorded failure on the search path); the built-in stays. */
START_TEST(builtins_first_duplicate_names_both)
{
    char *src = builtin("wi_constant.so"), *dir = wi_test_mkdtemp(), copy[512];
    size_t size;
    char *data = wi_test_read_file(src, &size);
    snprintf(copy, sizeof copy, "%s/my_constant.so", dir);
    write_prefix(copy, data, size);
    wi_registry_t *reg = wi_registry_new();
    wi_error_t err;
    ck_assert_int_eq(wi_registry_load_builtin(reg), 0);
    ck_assert_int_eq(wi_registry_load_plugin(reg, copy, &err), WI_EINVAL);
    ck_assert_msg(strstr(err.text, "initializer 'Constant' is registered twice") &&
                  strstr(err.text, src) && strstr(err.text, copy), "%s", err.text);
    wi_registry_free(reg);

    setenv("WEIGHTINIT_PLUGIN_PATH", dir, 1);
    reg = wi_registry_new();
    ck_assert_int_eq(wi_registry_load_search_path(reg), 1);
    const char *msg = wi_registry_failure_message(reg, 0);
    ck_assert_msg(strstr(msg, src) && strstr(msg, copy), "%s", msg);
    const wi_initializer_type_t *t = wi_registry_find_initializer(reg, "Constant", &err);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < wi_registry_size(reg); i++)
        if (strcmp(wi_registry_name(reg, i), "Constant") == 0)
            ck_assert_str_eq(wi_registry_origin(reg, i), src);
    wi_registry_free(reg);
    unsetenv("WEIGHTINIT_PLUGIN_PATH");
    free(data);
    free(src);
    wi_test_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugins");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, missing_descriptor);
    tcase_add_test(tc, newer_minor_refused);
    tcase_add_test(tc, other_major_refused);
    tcase_add_test(tc, wrong_struct_size_refused);
    tcase_add_test(tc, register_failure_refused);
    tcase_add_test(tc, older_minor_accepted);
    tcase_add_test(tc, newer_descriptor_accepted);
    tcase_add_test(tc, unload_called_once);
    tcase_add_test(tc, direct_library_call_refused);
    tcase_add_test(tc, duplicate_type_names_both_files);
    tcase_add_test(tc, not_a_shared_object);
    tcase_add_test(tc, search_path_survives_broken_plugins);
    tcase_add_test(tc, builtins_one_file_each);
    tcase_add_test(tc, directory_refused);
    tcase_add_test(tc, truncated_plugin_refused);
    tcase_add_test(tc, same_file_loaded_once);
    tcase_add_test(tc, builtins_first_duplicate_names_both);
    suite_add_tcase(s, tc);
    /* A loader that blocks on a FIFO fails by timeout, not by hanging. */
    TCase *files = tcase_create("special files");
    tcase_set_timeout(files, 20);
    tcase_add_test(files, fifo_refused_without_blocking);
    suite_add_tcase(s, files);
    return wi_test_run_suite(s);
}
