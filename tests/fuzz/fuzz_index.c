/* libFuzzer harness: a sharded checkpoint, an index and its shards, read
 * as `inspect`, `convert` and Pretrained read one.  The index reader takes
 * a path and opens the shards beside it, so the input is unpacked into a
 * folder of the harness's own:
 *
 *   INDEX-JSON ("\n--shard " NAME "\n" BYTES)*
 *
 * The bytes before the first separator become model.safetensors.index.json,
 * each part after one becomes the file NAME (letters, digits, ".", "_",
 * "-"; at most 100 bytes; other parts are dropped), so the fuzzer chooses
 * both the weight_map and the files it names (a missing shard, a shard
 * named twice, a shard that is itself an index).  The input's length picks
 * how the index is read: wi_checkpoint_load (Pretrained), _load_key with
 * the automatic choice (convert), _load_all (inspect) or _load_mapped.
 * What it hands out is then converted and written back as in the other
 * checkpoint harnesses (fuzz_check.h; the last byte picks how). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/checkpoint_internal.h"
#include "fuzz_check.h"

#define SEPARATOR "\n--shard "
#define MAX_PARTS 32
#define MAX_NAME 100

static char dir[64]; /* the unpacked input, emptied after each one */

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[256];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

static void remove_dir(void)
{
    empty_dir();
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/wi-fuzz-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    atexit(remove_dir);
    return 0;
}

static void write_file(const char *name, size_t name_len, const uint8_t *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%.*s", dir, (int)name_len, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || (n && fwrite(data, 1, n, fp) != n) || fclose(fp) != 0)
        abort(); /* the harness's own folder: a failure is not the library's */
}

/* A part's name: a plain file name in the folder, or 0. */
static int good_name(const uint8_t *p, size_t n)
{
    if (n == 0 || n > MAX_NAME || (n <= 2 && p[0] == '.' && p[n - 1] == '.'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(('a' <= p[i] && p[i] <= 'z') || ('A' <= p[i] && p[i] <= 'Z') ||
              ('0' <= p[i] && p[i] <= '9') || p[i] == '.' || p[i] == '_' || p[i] == '-'))
            return 0;
    return 1;
}

/* Writes the part [p, end) after a separator: "NAME\nBYTES". */
static void write_part(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl && good_name(p, (size_t)(nl - p)))
        write_file((const char *)p, (size_t)(nl - p), nl + 1, (size_t)(end - nl - 1));
}

static const uint8_t *find_separator(const uint8_t *p, const uint8_t *end)
{
    size_t k = strlen(SEPARATOR);
    return (size_t)(end - p) < k ? NULL : memmem(p, (size_t)(end - p), SEPARATOR, k);
}

static void unpack(const uint8_t *data, size_t size)
{
    const uint8_t *end = data + size;
    const uint8_t *sep = find_separator(data, end);
    write_file("model.safetensors.index.json", 28, data,
               (size_t)((sep ? sep : end) - data));
    for (int parts = 0; sep && parts < MAX_PARTS; parts++) {
        const uint8_t *p = sep + strlen(SEPARATOR);
        sep = find_separator(p, end);
        write_part(p, sep ? sep : end);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unpack(data, size);
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    wi_error_t err;
    char *chosen = NULL;
    json_t *info = NULL;
    wi_state_dict_t *sd = size % 4 == 0   ? wi_checkpoint_load(path, &err)
                          : size % 4 == 1 ? wi_checkpoint_load_key(path, NULL, &chosen, &err)
                          : size % 4 == 2 ? wi_checkpoint_load_all(path, (wi_value_t **)&info, &err)
                                          : wi_checkpoint_load_mapped(path, &err);
    free(chosen);
    json_decref(info);
    fuzz_check_read(sd, data, size);
    wi_state_dict_free(sd);
    empty_dir();
    return 0;
}
