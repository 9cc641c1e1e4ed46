/* Output groups (output.h) through the C API: temporaries and their
 * names, all-or-nothing commits, inputs added late, signal-handler
 * cleanup, sweeping of dead runs' temporaries, modes, and the context's
 * record of the files a run read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "util.h"

static char *dir;

static void setup(void) { dir = wi_test_mkdtemp(); }
static void teardown(void)
{
    wi_test_rmtree(dir);
    free(dir);
}

static char *in_dir(const char *name) { return wi_test_join(dir, name); }

/* The one temporary in the folder (malloc'd name), or NULL. */
static char *only_temp(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    int n = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".wi-tmp-")) {
            free(found);
            found = strdup(e->d_name);
            n++;
        }
    closedir(d);
    ck_assert_int_le(n, 1);
    return found;
}

static int count_temps(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".wi-tmp-") != NULL;
    closedir(d);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

START_TEST(commit_renames_all_together)
{
    char *a = in_dir("a.json"), *b = in_dir("b.bin");
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    FILE *fa = wi_output_group_open(g, a, &err), *fb = wi_output_group_open(g, b, &err);
    ck_assert_ptr_nonnull(fa);
    ck_assert_ptr_nonnull(fb);
    fputs("[1]", fa);
    fputs("xyz", fb);
    ck_assert_int_eq(access(a, F_OK), -1);
    ck_assert_int_eq(access(b, F_OK), -1);
    ck_assert_int_eq(count_temps(), 2);
    ck_assert_int_eq(wi_output_group_commit(g, &err), 0);
    ck_assert_int_eq(count_temps(), 0);
    char *text = wi_test_read_file(a, NULL);
    ck_assert_str_eq(text, "[1]");
    free(text);
    text = wi_test_read_file(b, NULL);
    ck_assert_str_eq(text, "xyz");
    free(text);
    ck_assert_int_eq(wi_output_group_commit(g, &err), WI_ESTATE);
    ck_assert_ptr_null(wi_output_group_open(g, a, &err));
    ck_assert_int_eq(err.code, WI_ESTATE);
    wi_output_group_free(g);
    wi_output_group_free(NULL);
    free(a);
    free(b);
}
END_TEST

/* `.NAME.wi-tmp-HOST-PID-RANDOM`, O_EXCL'd: a second group gets its own. */
START_TEST(temp_name_is_recognisable)
{
    char *a = in_dir("model.safetensors");
    wi_output_group_t *g = wi_output_group_new(), *h = wi_output_group_new();
    ck_assert_ptr_nonnull(wi_output_group_open(g, a, NULL));
    char *tmp = only_temp();
    char want[64];
    snprintf(want, sizeof want, "-%ld-", (long)getpid());
    ck_assert_msg(strncmp(tmp, ".model.safetensors.wi-tmp-", 26) == 0, "%s", tmp);
    ck_assert_msg(strstr(tmp, want) && strlen(strstr(tmp, want) + strlen(want)) == 10,
                  "%s", tmp);
    ck_assert_ptr_nonnull(wi_output_group_open(h, a, NULL));
    ck_assert_int_eq(count_temps(), 2);
    wi_output_group_free(g);
    wi_output_group_free(h);
    ck_assert_int_eq(count_temps(), 0);
    ck_assert_int_eq(access(a, F_OK), -1);
    free(tmp);
    free(a);
}
END_TEST

/* An input found after the outputs are open (a checkpoint read during
 * init_weights) is refused by name; nothing is written. */
START_TEST(late_input_refused)
{
    char *ckpt = in_dir("ckpt.pth"), *other = in_dir("r.json");
    write_text(ckpt, "weights");
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    ck_assert_ptr_nonnull(wi_output_group_open(g, other, &err));
    ck_assert_ptr_nonnull(wi_output_group_open(g, ckpt, &err));
    ck_assert_int_eq(wi_output_group_add_input(g, ckpt, &err), WI_EINVAL);
    ck_assert_str_eq(err.source, ckpt);
    ck_assert_msg(strstr(err.text, ckpt) && strstr(err.text, "input"), "%s", err.text);
    ck_assert_int_eq(wi_output_group_add_input(g, "/nonexistent/x", &err), 0);
    wi_output_group_free(g);
    char *text = wi_test_read_file(ckpt, NULL);
    ck_assert_str_eq(text, "weights");
    free(text);
    ck_assert_int_eq(count_temps(), 0);
    ck_assert_int_eq(access(other, F_OK), -1);
    free(ckpt);
    free(other);
}
END_TEST

/* Two spellings of one place that does not exist yet. */
START_TEST(same_absent_place_refused)
{
    char *sub = in_dir("sub"), *x = in_dir("x"), *y = in_dir("sub/../x");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    ck_assert_ptr_nonnull(wi_output_group_open(g, x, &err));
    ck_assert_ptr_null(wi_output_group_open(g, y, &err));
    ck_assert_int_eq(err.code, WI_EINVAL);
    ck_assert_str_eq(err.source, y);
    ck_assert_msg(strstr(err.text, x), "%s", err.text);
    wi_output_group_free(g);
    free(sub);
    free(x);
    free(y);
}
END_TEST

/* A write error found at commit (a copy of /dev/full) keeps the other
 * output from being renamed, and names the cause. */
START_TEST(failed_commit_renames_nothing)
{
    char *full = in_dir("full"), *a = in_dir("a.bin");
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0) {
        free(full);
        free(a);
        return; /* not root: the shell test covers what it can */
    }
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    FILE *fa = wi_output_group_open(g, a, &err), *ff = wi_output_group_open(g, full, &err);
    ck_assert_ptr_nonnull(fa);
    ck_assert_ptr_nonnull(ff);
    fputs("data", fa);
    fputs("data", ff); /* buffered: fails at the flush */
    ck_assert_int_eq(wi_output_group_commit(g, &err), WI_EIO);
    ck_assert_str_eq(err.source, full);
    ck_assert_msg(strstr(err.text, "No space left on device"), "%s", err.text);
    ck_assert_int_eq(access(a, F_OK), -1);
    ck_assert_int_eq(count_temps(), 0);
    wi_output_group_free(g);
    free(full);
    free(a);
}
END_TEST

/* An empty path (an unset shell variable) names no file: refused when
 * opened, before any output is written or renamed. */
START_TEST(empty_path_refused)
{
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    ck_assert_ptr_null(wi_output_group_open(g, "", &err));
    ck_assert_int_eq(err.code, WI_EINVAL);
    ck_assert_msg(strstr(err.text, "empty"), "%s", err.text);
    ck_assert_ptr_null(wi_output_group_open(g, NULL, NULL));
    ck_assert_uint_eq(wi_output_group_size(g), 0);
    wi_output_group_free(g);
    wi_state_dict_t *sd = wi_state_dict_new();
    ck_assert_int_eq(wi_safetensors_save("", sd, NULL, &err), WI_EINVAL);
    ck_assert_int_eq(wi_checkpoint_save_sharded("", WI_CHECKPOINT_PTH, sd, NULL, 0,
                                                NULL, NULL, &err),
                     WI_EINVAL);
    wi_state_dict_free(sd);
}
END_TEST

/* Two outputs, a.bin over an existing file and sub/r.json; break(sub)
 * makes the second rename impossible after both were written: the
 * commit fails before the first rename, a.bin keeps its old bytes. */
static void commit_after(void (*breaker)(const char *sub), const char *why)
{
    char *a = in_dir("a.bin"), *sub = in_dir("sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *r = wi_test_join(sub, "r.json");
    write_text(a, "old");
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    FILE *fa = wi_output_group_open(g, a, &err), *fr = wi_output_group_open(g, r, &err);
    ck_assert_ptr_nonnull(fa);
    ck_assert_ptr_nonnull(fr);
    fputs("new", fa);
    fputs("[]", fr);
    breaker(sub);
    ck_assert_int_eq(wi_output_group_commit(g, &err), WI_EIO);
    ck_assert_str_eq(err.source, r);
    ck_assert_msg(strstr(err.text, why), "%s", err.text);
    char *text = wi_test_read_file(a, NULL);
    ck_assert_str_eq(text, "old");
    ck_assert_int_eq(count_temps(), 0);
    wi_output_group_free(g);
    free(text);
    free(r);
    free(sub);
    free(a);
}

static void make_dir_at_target(const char *sub)
{
    char *r = wi_test_join(sub, "r.json");
    ck_assert_int_eq(mkdir(r, 0700), 0);
    free(r);
}

static void move_folder(const char *sub)
{
    char *to = in_dir("moved");
    ck_assert_int_eq(rename(sub, to), 0);
    free(to);
}

START_TEST(rename_checked_before_any)
{
    commit_after(make_dir_at_target, "directory");
}
END_TEST

START_TEST(folder_moved_before_commit)
{
    commit_after(move_folder, "removed or replaced");
}
END_TEST

/* In a sticky folder (/tmp) a file of another user cannot be replaced
 * (rename gives EPERM even when the file is writable): refused when
 * opened.  Needs root, to be another user in a child. */
START_TEST(sticky_folder_refused)
{
    if (geteuid() != 0)
        return;
    char *sticky = in_dir("sticky"), *theirs = in_dir("sticky/theirs.bin");
    ck_assert_int_eq(chmod(dir, 0711), 0);
    ck_assert_int_eq(mkdir(sticky, 0777), 0);
    ck_assert_int_eq(chmod(sticky, 01777), 0);
    write_text(theirs, "root's");
    ck_assert_int_eq(chmod(theirs, 0666), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        wi_output_group_t *g = wi_output_group_new();
        wi_error_t err;
        FILE *fp = wi_output_group_open(g, theirs, &err);
        int ok = !fp && err.code == WI_EIO && strstr(err.text, "Operation not permitted");
        wi_output_group_free(g);
        _exit(ok ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    char *text = wi_test_read_file(theirs, NULL);
    ck_assert_str_eq(text, "root's");
    free(text);
    free(theirs);
    free(sticky);
}
END_TEST

START_TEST(remove_temps_for_signal_handlers)
{
    char *a = in_dir("a.bin");
    wi_output_group_t *g = wi_output_group_new();
    ck_assert_ptr_nonnull(wi_output_group_open(g, a, NULL));
    ck_assert_int_eq(count_temps(), 1);
    wi_output_remove_temps();
    ck_assert_int_eq(count_temps(), 0);
    wi_output_group_free(g);
    free(a);
}
END_TEST

/* A dead process's temporary (same host tag) is swept by the next open
 * in its folder; a live process's, another host's, and a directory that
 * looks like one are kept. */
START_TEST(sweep_dead_runs)
{
    char *a = in_dir("a.bin");
    wi_output_group_t *g = wi_output_group_new();
    ck_assert_ptr_nonnull(wi_output_group_open(g, a, NULL));
    char *own = only_temp();
    wi_output_group_free(g);
    char tag[9];
    memcpy(tag, strstr(own, ".wi-tmp-") + 8, 8);
    tag[8] = '\0';
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char name[4][128];
    snprintf(name[0], sizeof name[0], ".old.st.wi-tmp-%s-%ld-abcdefghij", tag, (long)dead);
    snprintf(name[1], sizeof name[1], ".live.st.wi-tmp-%s-%ld-abcdefghij", tag,
             (long)getpid());
    snprintf(name[2], sizeof name[2], ".far.st.wi-tmp-0000abcd-%ld-abcdefghij", (long)dead);
    snprintf(name[3], sizeof name[3], ".dir.wi-tmp-%s-%ld-abcdefghij", tag, (long)dead);
    char *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = in_dir(name[i]);
        if (i < 3)
            write_text(p[i], "x");
        else
            ck_assert_int_eq(mkdir(p[i], 0755), 0);
    }
    g = wi_output_group_new();
    ck_assert_ptr_nonnull(wi_output_group_open(g, a, NULL));
    ck_assert_int_eq(access(p[0], F_OK), -1);
    for (int i = 1; i < 4; i++)
        ck_assert_msg(access(p[i], F_OK) == 0, "%s was swept", name[i]);
    wi_output_group_free(g);
    for (int i = 0; i < 4; i++)
        free(p[i]);
    free(own);
    free(a);
}
END_TEST

START_TEST(modes)
{
    char *old = in_dir("old.bin"), *fresh = in_dir("fresh.bin");
    write_text(old, "x");
    chmod(old, 0640);
    mode_t mask = umask(077);
    wi_output_group_t *g = wi_output_group_new();
    ck_assert_ptr_nonnull(wi_output_group_open(g, old, NULL));
    ck_assert_ptr_nonnull(wi_output_group_open(g, fresh, NULL));
    ck_assert_int_eq(wi_output_group_commit(g, NULL), 0);
    wi_output_group_free(g);
    umask(mask);
    struct stat st;
    ck_assert_int_eq(stat(old, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(stat(fresh, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    free(old);
    free(fresh);
}
END_TEST

START_TEST(directory_refused)
{
    wi_output_group_t *g = wi_output_group_new();
    wi_error_t err;
    ck_assert_ptr_null(wi_output_group_open(g, dir, &err));
    ck_assert_int_eq(err.code, WI_EINVAL);
    ck_assert_str_eq(err.source, dir);
    ck_assert_msg(strstr(err.text, "directory"), "%s", err.text);
    wi_output_group_free(g);
}
END_TEST

/* wi_safetensors_save is a one-file group: the error names the folder's
 * problem with strerror, and nothing is left. */
START_TEST(safetensors_save_errors)
{
    wi_state_dict_t *sd = wi_state_dict_new();
    wi_error_t err;
    char *bad = in_dir("nodir/x.safetensors");
    ck_assert_int_eq(wi_safetensors_save(bad, sd, NULL, &err), WI_EIO);
    ck_assert_str_eq(err.source, bad);
    ck_assert_msg(strstr(err.text, "No such file or directory"), "%s", err.text);
    ck_assert_int_eq(wi_safetensors_save(dir, sd, NULL, &err), WI_EINVAL);
    ck_assert_int_eq(wi_safetensors_save(dir, sd, NULL, NULL), WI_EINVAL);
    ck_assert_int_eq(wi_test_count_entries(dir), 0);
    wi_state_dict_free(sd);
    free(bad);
}
END_TEST

/* The context records the checkpoint Pretrained-style loading read. */
START_TEST(context_records_inputs)
{
    char *model = wi_test_data_path("cases/tutorial_pretrained/model.json");
    char *ckpt = wi_test_data_path("golden/tutorial_pretrained/pretrained.pth");
    wi_generator_t *gen = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = wi_context_new(gen);
    wi_error_t err;
    wi_module_t *root = wi_model_load_file(model, ctx, &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    ck_assert_uint_eq(wi_context_input_count(ctx), 0);
    ck_assert_int_eq(wi_module_load_pretrained(root, ckpt, NULL, ctx, &err), 0);
    ck_assert_int_eq(wi_module_load_pretrained(root, ckpt, NULL, ctx, &err), 0);
    ck_assert_uint_eq(wi_context_input_count(ctx), 1);
    ck_assert_str_eq(wi_context_input(ctx, 0), ckpt);
    ck_assert_ptr_null(wi_context_input(ctx, 1));
    wi_module_free(root);
    wi_context_free(ctx);
    wi_generator_free(gen);
    free(model);
    free(ckpt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("group");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, commit_renames_all_together);
    tcase_add_test(tc, temp_name_is_recognisable);
    tcase_add_test(tc, late_input_refused);
    tcase_add_test(tc, same_absent_place_refused);
    tcase_add_test(tc, failed_commit_renames_nothing);
    tcase_add_test(tc, empty_path_refused);
    tcase_add_test(tc, rename_checked_before_any);
    tcase_add_test(tc, folder_moved_before_commit);
    tcase_add_test(tc, sticky_folder_refused);
    tcase_add_test(tc, remove_temps_for_signal_handlers);
    tcase_add_test(tc, sweep_dead_runs);
    tcase_add_test(tc, modes);
    tcase_add_test(tc, directory_refused);
    tcase_add_test(tc, safetensors_save_errors);
    tcase_add_test(tc, context_records_inputs);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
