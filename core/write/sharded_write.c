/* Sharded checkpoints as Hugging Face's save_pretrained(max_shard_size)
 * writes them: huggingface_hub's greedy split, transformers' file names
 * and index layout, every file in one output group. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <weightinit/checkpoint_write.h>

#include "base/map.h"
#include "tensor/tensor_internal.h"
#include "write/write_internal.h"

#define SIZE_HELP "a size such as 5GB, 500MB, 2GiB or a number of bytes"

int wi_checkpoint_parse_size(const char *text, uint64_t *bytes, wi_error_t *err)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},         {"B", 1},          {"KB", 1000},
                 {"MB", 1000000}, {"GB", 1000000000}, {"TB", 1000000000000},
                 {"KIB", 1u << 10}, {"MIB", 1u << 20}, {"GIB", 1u << 30},
                 {"TIB", (uint64_t)1 << 40}};
    const char *p = text ? text : "";
    uint64_t whole = 0, frac = 0, scale = 1;
    int digits = 0, bad = 0;
    for (; isdigit((unsigned char)*p); p++, digits++) {
        bad |= whole > (UINT64_MAX - 9) / 10;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (scale < 1000000000u) { /* later digits cannot change a byte */
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
    const char *why = bad ? "too large" : !digits ? "no number" : NULL;
    uint64_t mult = 0;
    for (size_t i = 0; !why && !mult && i < sizeof units / sizeof *units; i++)
        if (strcasecmp(p, units[i].unit) == 0)
            mult = units[i].mult;
    if (!why && !mult)
        why = "unknown unit";
    /* transformers reads "5Gb" as gigabits (5 GB / 8), huggingface_hub as
     * gigabytes: refuse rather than pick one. */
    size_t ulen = strlen(p);
    if (!why && ulen >= 1 && ulen <= 2 && p[ulen - 1] == 'b')
        why = "a lowercase b: transformers reads it as bits, huggingface_hub as "
              "bytes; write B";
    /* whole * mult + floor(frac / scale * mult), exactly. */
    uint64_t limit = (uint64_t)1 << 63;
    if (!why && whole > limit / mult)
        why = "more than 2^63 bytes";
    uint64_t v = why ? 0
                     : whole * mult + frac * (mult / scale) +
                           frac * (mult % scale) / scale;
    if (!why && v > limit)
        why = "more than 2^63 bytes";
    if (!why && v == 0)
        why = "zero";
    if (why) {
        char shown[64]; /* one line: control characters as '?' */
        size_t n = 0;
        for (const char *c = text ? text : ""; *c && n + 4 < sizeof shown; c++)
            shown[n++] = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
        snprintf(shown + n, sizeof shown - n, "%s", text && strlen(text) > n ? "..." : "");
        return wi_error_set(err, WI_EINVAL, NULL, NULL,
                            "expected " SIZE_HELP ", got '%s' (%s)", shown, why);
    }
    *bytes = v;
    return 0;
}

/* The first tensor of sd in t's storage (wi_priv_tensor_storage: a tie,
 * views of one .pth storage).  huggingface_hub keys storages by data
 * pointer, which torch leaves 0 for every empty tensor: the empty
 * tensors are one "storage" too (*first_empty, SIZE_MAX until met). */
static int leader_of(const wi_state_dict_t *sd, size_t i, wi_priv_map_t *ids,
                     size_t *first_empty, size_t *leader)
{
    uint64_t off, nbytes;
    const void *id = wi_priv_tensor_storage(wi_state_dict_tensor(sd, i), &off, &nbytes);
    if (!id) {
        *first_empty = *first_empty == SIZE_MAX ? i : *first_empty;
        *leader = *first_empty;
        return 0;
    }
    if (wi_priv_map_get_ptr(ids, id, leader))
        return 0;
    *leader = i;
    return wi_priv_map_put_ptr(ids, id, i);
}

/* huggingface_hub's split (split_state_dict_into_shards_factory):
 * shard_of[i] for every tensor, the number of shards in *n, and the
 * bytes it counts (total_size) in *total.  A tensor that shares the
 * storage of an earlier one (leader[i] < i) is skipped, then put in its
 * leader's shard and counted once, so that torch.load of that shard
 * gives one storage.  A shard being filled is numbered when it is
 * closed, so an oversized tensor met meanwhile comes first (as in HF). */
static int plan(const wi_state_dict_t *sd, uint64_t max, size_t *shard_of,
                size_t *leader, size_t *n, uint64_t *total)
{
    size_t count = wi_state_dict_size(sd), n_pending = 0, shards = 0;
    size_t *pending = malloc((count ? count : 1) * sizeof *pending);
    size_t first_empty = SIZE_MAX;
    wi_priv_map_t ids = {0};
    int rc = pending ? 0 : WI_ENOMEM;
    uint64_t filled = 0;
    *total = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = leader_of(sd, i, &ids, &first_empty, &leader[i]);
        if (rc < 0 || leader[i] != i)
            continue;
        uint64_t size = wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
        *total += size;
        if (size > max) {
            shard_of[i] = shards++;
            continue;
        }
        if (filled + size > max) {
            for (size_t k = 0; k < n_pending; k++)
                shard_of[pending[k]] = shards;
            shards++;
            n_pending = 0;
            filled = 0;
        }
        pending[n_pending++] = i;
        filled += size;
    }
    for (size_t k = 0; k < n_pending; k++)
        shard_of[pending[k]] = shards;
    shards += n_pending > 0;
    for (size_t i = 0; rc == 0 && i < count; i++)
        shard_of[i] = shard_of[leader[i]];
    wi_priv_map_clear(&ids);
    free(pending);
    *n = shards;
    return rc;
}

/* DIR/STEM-00001-of-00003.EXT for DIR/STEM.EXT (the extension is what
 * follows the base name's last dot). */
static char *shard_path(const char *path, size_t k, size_t n)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot > base ? (size_t)(dot - path) : strlen(path);
    char suffix[64];
    snprintf(suffix, sizeof suffix, "-%05zu-of-%05zu", k + 1, n);
    size_t len = strlen(path) + strlen(suffix) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s%s%s", (int)stem, path, suffix, path + stem);
    return out;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

struct shards {
    size_t n;
    char **paths;
    wi_state_dict_t **sds; /* borrowing sd's tensors */
    char *index_path;
    uint64_t total; /* the index's total_size */
};

static void shards_free(struct shards *s)
{
    for (size_t k = 0; k < s->n; k++) {
        free(s->paths ? s->paths[k] : NULL);
        wi_state_dict_free(s->sds ? s->sds[k] : NULL);
    }
    free(s->paths);
    free(s->sds);
    free(s->index_path);
}

struct follower {
    size_t leader, i;
};

/* Followers by their leader's place, then their own: the order in which
 * huggingface_hub adds them to the leader's shard (storage by storage). */
static int by_leader(const void *a, const void *b)
{
    const struct follower *x = a, *y = b;
    if (x->leader != y->leader)
        return x->leader < y->leader ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Each shard's tensors as transformers saves them: the shard's own in
 * sd's order, then the ones that joined their leader's storage. */
static int fill_shards(struct shards *s, const wi_state_dict_t *sd,
                       const size_t *shard_of, const size_t *leader,
                       wi_error_t *err)
{
    size_t count = wi_state_dict_size(sd), n_follow = 0;
    struct follower *follow = malloc((count ? count : 1) * sizeof *follow);
    if (!follow)
        return WI_ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (leader[i] != i)
            follow[n_follow++] = (struct follower){leader[i], i};
        else
            rc = wi_state_dict_append(s->sds[shard_of[i]], wi_state_dict_name(sd, i),
                                      wi_state_dict_tensor(sd, i), err);
    if (rc == 0)
        qsort(follow, n_follow, sizeof *follow, by_leader);
    for (size_t k = 0; rc == 0 && k < n_follow; k++)
        rc = wi_state_dict_append(s->sds[shard_of[follow[k].i]],
                                  wi_state_dict_name(sd, follow[k].i),
                                  wi_state_dict_tensor(sd, follow[k].i), err);
    free(follow);
    return rc;
}

/* The shards' names and state dicts (their files are opened one at a
 * time as they are written). */
static int shards_new(struct shards *s, const char *path, const wi_state_dict_t *sd,
                      const size_t *shard_of, const size_t *leader, wi_error_t *err)
{
    s->paths = calloc(s->n, sizeof *s->paths);
    s->sds = calloc(s->n, sizeof *s->sds);
    size_t len = strlen(path) + sizeof ".index.json";
    s->index_path = malloc(len);
    int ok = s->paths && s->sds && s->index_path;
    if (ok)
        snprintf(s->index_path, len, "%s.index.json", path);
    for (size_t k = 0; ok && k < s->n; k++)
        ok = (s->paths[k] = shard_path(path, k, s->n)) &&
             (s->sds[k] = wi_state_dict_new());
    int rc = ok ? fill_shards(s, sd, shard_of, leader, err) : WI_ENOMEM;
    /* append names the tensor; the rest is memory for the whole file */
    if (rc == WI_ENOMEM && !(ok && err && err->path[0]))
        return wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    return rc;
}

/* jansson's escapes as Python's json.dumps writes them: backslash-u with
 * lower-case hex, DEL escaped too (both print only ASCII). */
static int put_python_json(FILE *fp, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == 0x7f) {
            if (fputs("\\u007f", fp) == EOF)
                return -1;
            continue;
        }
        if (fputc(*c, fp) == EOF)
            return -1;
        if (*c != '\\' || !c[1])
            continue;
        if (fputc(*++c, fp) == EOF)
            return -1;
        int hex = *c == 'u' ? 4 : 0;
        for (; hex > 0 && c[1]; hex--)
            if (fputc(tolower((unsigned char)*++c), fp) == EOF)
                return -1;
    }
    return 0;
}

/* transformers: json.dumps(index, indent=2, sort_keys=True) + "\n". */
static int write_index(FILE *fp, const struct shards *s, const wi_state_dict_t *sd,
                       const size_t *shard_of, wi_error_t *err)
{
    json_t *map = json_object();
    int bad = !map;
    for (size_t i = 0; !bad && i < wi_state_dict_size(sd); i++)
        bad = json_object_set_new(map, wi_state_dict_name(sd, i),
                                  json_string(base_name(s->paths[shard_of[i]]))) < 0;
    json_t *index = bad ? NULL : json_pack("{s:{s:I}, s:o}", "metadata", "total_size",
                                           (json_int_t)s->total, "weight_map", map);
    char *text = index ? json_dumps(index, JSON_INDENT(2) | JSON_SORT_KEYS |
                                               JSON_ENSURE_ASCII)
                       : NULL;
    if (bad && map)
        json_decref(map);
    json_decref(index);
    if (!text)
        return wi_error_set(err, WI_ENOMEM, s->index_path, NULL, "out of memory");
    errno = 0;
    bad = put_python_json(fp, text) < 0 || fputc('\n', fp) == EOF;
    free(text);
    return bad ? wi_error_set(err, WI_EIO, s->index_path, NULL, "cannot write: %s",
                              strerror(errno ? errno : EIO))
               : 0;
}

/* Is name STEM-DDDDD-of-DDDDD.EXT (any digits) for path's stem and ext,
 * and not shard k of n for any k, i.e. not one of this save's files? */
static int stale_shard(const char *name, const char *path, size_t n)
{
    const char *base = base_name(path), *dot = strrchr(base, '.');
    size_t stem = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    const char *ext = base + stem, *p = name + stem;
    if (strncmp(name, base, stem) != 0 || strlen(p) != 15 + strlen(ext) ||
        strcmp(p + 15, ext) != 0 || p[0] != '-' || strncmp(p + 6, "-of-", 4) != 0)
        return 0;
    for (int i = 0; i < 5; i++)
        if (!isdigit((unsigned char)p[1 + i]) || !isdigit((unsigned char)p[10 + i]))
            return 0;
    return n <= 1 || strtoul(p + 10, NULL, 10) != n;
}

struct stale {
    char *name;
    const char *why;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct stale *)a)->name, ((const struct stale *)b)->name);
}

/* Adds name (copied; folder prefix dir, may be "") to the list. */
static void stale_add(struct stale **list, size_t *n, const char *dir,
                      const char *name, const char *why)
{
    struct stale *l = realloc(*list, (*n + 1) * sizeof **list);
    size_t len = strlen(dir) + strlen(name) + 1;
    char *copy = l ? malloc(len) : NULL;
    if (l)
        *list = l;
    if (!copy)
        return; /* a warning fewer: nothing else depends on it */
    snprintf(copy, len, "%s%s", dir, name);
    l[(*n)++] = (struct stale){copy, why};
}

#define STALE_SHARD "a shard of an earlier save that the new files do not replace (delete it)"

/* Files of an earlier save into the folder that this one does not
 * replace: loaders may pick them up (transformers reads NAME.EXT before
 * NAME.EXT.index.json), so say so, sorted by name.  Hugging Face deletes
 * stale shards; weightinit leaves a user's files alone. */
static void warn_stale(const char *path, size_t n, const wi_context_t *ctx)
{
    if (!ctx)
        return;
    struct stale *list = NULL;
    size_t n_list = 0;
    struct stat st;
    size_t len = strlen(path) + sizeof ".index.json";
    char *index = malloc(len);
    if (index)
        snprintf(index, len, "%s.index.json", path);
    if (n > 1 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        stale_add(&list, &n_list, "", path, "an earlier unsharded save is still "
                  "there; transformers loads it instead of the new index (delete it)");
    if (index && n <= 1 && stat(index, &st) == 0)
        stale_add(&list, &n_list, "", index, "the index of an earlier sharded save "
                  "is still there; readers of the index get the old shards (delete "
                  "it and its shards)");
    free(index);
    const char *base = base_name(path);
    char *dir = base == path ? strdup(".") : strndup(path, (size_t)(base - path));
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (stale_shard(e->d_name, path, n))
            stale_add(&list, &n_list, base == path ? "" : dir, e->d_name, STALE_SHARD);
    if (d)
        closedir(d);
    free(dir);
    if (list)
        qsort(list, n_list, sizeof *list, by_name);
    for (size_t i = 0; i < n_list; i++) {
        wi_context_log(ctx, WI_LOG_WARNING, "%s: %s", list[i].name, list[i].why);
        free(list[i].name);
    }
    free(list);
}

/* One file of the save: opened in g (or the stream the caller opened
 * there as path), written, and (close) finished at once, so that a save
 * of many shards holds one file open at a time.  space: bytes the whole
 * save needs, checked before the first file (0: not this one). */
static int write_file(wi_output_group_t *g, const char *path, int close,
                      uint64_t space, wi_checkpoint_format_t fmt,
                      const wi_state_dict_t *sd, const json_t *metadata,
                      wi_priv_progress_t *pr, wi_error_t *err)
{
    FILE *fp = close ? NULL : wi_priv_output_group_stream(g, path);
    if (!fp && !(fp = wi_output_group_open(g, path, err)))
        return err ? err->code : WI_EIO;
    int rc = space ? wi_priv_check_space(fp, path, space, err) : 0;
    if (rc == 0)
        rc = wi_priv_checkpoint_write(fp, path, fmt, sd, metadata, pr, err);
    if (rc == 0 && close)
        rc = wi_priv_output_group_close(g, fp, err);
    return rc;
}

/* The shards one after the other, then their index. */
static int write_shards(wi_output_group_t *g, const struct shards *s,
                        wi_checkpoint_format_t fmt, const wi_state_dict_t *sd,
                        const json_t *metadata, const size_t *shard_of,
                        wi_priv_progress_t *pr, wi_error_t *err)
{
    int rc = 0;
    /* All shards share one file system: the whole is checked first. */
    for (size_t k = 0; rc == 0 && k < s->n; k++)
        rc = write_file(g, s->paths[k], 1, k ? 0 : wi_priv_state_dict_bytes(sd), fmt,
                        s->sds[k], metadata, pr, err);
    FILE *fp = rc == 0 ? wi_output_group_open(g, s->index_path, err) : NULL;
    if (rc == 0 && !fp)
        rc = err ? err->code : WI_EIO;
    if (rc == 0)
        rc = write_index(fp, s, sd, shard_of, err);
    if (rc == 0)
        rc = wi_priv_output_group_close(g, fp, err);
    return rc;
}

int wi_checkpoint_write_sharded(wi_output_group_t *g, const char *path,
                                wi_checkpoint_format_t fmt,
                                const wi_state_dict_t *sd, const wi_value_t *metadata_v,
                                uint64_t max_shard_bytes, const wi_context_t *ctx,
                                size_t *n_files, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    /* Before any file is opened. */
    int rc = wi_priv_check_metadata(metadata, path, err);
    if (rc < 0)
        return rc;
    size_t count = wi_state_dict_size(sd);
    size_t *shard_of = malloc((count ? count : 1) * sizeof *shard_of);
    size_t *leader = malloc((count ? count : 1) * sizeof *leader);
    struct shards s = {0};
    rc = !shard_of || !leader ? WI_ENOMEM
         : max_shard_bytes    ? plan(sd, max_shard_bytes, shard_of, leader, &s.n, &s.total)
                              : 0;
    if (rc < 0) {
        free(shard_of);
        free(leader);
        return wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    }
    wi_priv_progress_t pr;
    if (s.n <= 1) {
        s.n = 1;
        wi_priv_progress_start(&pr, ctx, path, sd);
        /* The commit finishes it (the caller may have opened it early). */
        rc = write_file(g, path, 0, 0, fmt, sd, metadata, &pr, err);
    } else {
        rc = shards_new(&s, path, sd, shard_of, leader, err);
        wi_priv_progress_start(&pr, rc == 0 ? ctx : NULL, path, sd);
        if (rc == 0)
            rc = write_shards(g, &s, fmt, sd, metadata, shard_of, &pr, err);
    }
    wi_priv_progress_finish(&pr);
    if (rc == 0)
        warn_stale(path, s.n, ctx);
    if (rc == 0 && n_files)
        *n_files = s.n;
    shards_free(&s);
    free(shard_of);
    free(leader);
    return rc;
}

int wi_checkpoint_save_sharded(const char *path, wi_checkpoint_format_t fmt,
                               const wi_state_dict_t *sd, const wi_value_t *metadata_v,
                               uint64_t max_shard_bytes, const wi_context_t *ctx,
                               size_t *n_files, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    wi_output_group_t *g = wi_output_group_new();
    if (!g)
        return wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    int rc = wi_checkpoint_write_sharded(g, path, fmt, sd, (const wi_value_t *)metadata,
                                         max_shard_bytes, ctx, n_files, err);
    if (rc == 0)
        rc = wi_output_group_commit(g, err);
    wi_output_group_free(g);
    return rc;
}
