/* Sharded checkpoints as Hugging Face writes them: NAME.index.json =
 * {"metadata": {...}, "weight_map": {tensor: shard file}}, the shards in
 * the index's folder.  The index is read like every other input file
 * (base/input.c); each shard is one plain checkpoint read with the
 * ordinary readers, never another index, so an index that names itself
 * cannot recurse.  Tensors are handed out in weight_map order, without
 * copying. */
#include <stdlib.h>
#include <string.h>

#include <weightinit/checkpoint.h>

#include "base/input.h"
#include "base/jsonutil.h"
#include "base/map.h"
#include "checkpoint/checkpoint_internal.h"

int wi_priv_is_index(const char *path)
{
    size_t n = strlen(path);
    return n > 11 && strcmp(path + n - 11, ".index.json") == 0;
}

/* A loaded shard, freed when the last tensor borrowing from it is. */
struct shard {
    char *file; /* as the index names it */
    wi_state_dict_t *sd;
    int refs;
    char *used; /* per tensor: named by the index */
};

static void shard_unref(void *data, void *ud)
{
    struct shard *s = ud;
    (void)data;
    if (--s->refs > 0)
        return;
    wi_state_dict_free(s->sd);
    free(s->used);
    free(s->file);
    free(s);
}

struct index {
    const char *path;
    const char *format; /* what the shards must be, or NULL: any */
    wi_error_t *err;
    struct shard **shards;
    size_t n;
    wi_priv_map_t by_file; /* shard file -> place in shards */
};

/* The shards' format, from the index's name as Hugging Face and our
 * writer spell it (NAME.EXT.index.json): transformers reads the shards of
 * a .safetensors index with safetensors, those of a .bin one with
 * torch.load. */
static const char *expected_format(const char *path)
{
    size_t n = strlen(path) - 11; /* without ".index.json" */
    static const char *const torch[] = {".bin", ".pth", ".pt"};
    if (n >= 12 && strncmp(path + n - 12, ".safetensors", 12) == 0)
        return "safetensors";
    for (size_t i = 0; i < 3; i++) {
        size_t e = strlen(torch[i]);
        if (n >= e && strncmp(path + n - e, torch[i], e) == 0)
            return "torch.save";
    }
    return NULL;
}

/* Shard names are files beside the index: no absolute paths, no "..". */
static int safe_name(const char *f)
{
    if (!f[0] || f[0] == '/')
        return 0;
    for (const char *p = f; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
            return 0;
    return 1;
}

/* A shard that cannot be a plain checkpoint of the index's format. */
static int refuse_name(struct index *x, const char *file, const char *tensor)
{
    if (!safe_name(file))
        return wi_error_set(x->err, WI_EFORMAT, x->path, tensor,
                            "weight_map names the shard '%s', which is not a "
                            "file beside the index",
                            file);
    if (wi_priv_is_index(file))
        return wi_error_set(x->err, WI_EFORMAT, x->path, tensor,
                            "weight_map names the shard '%s', which is an "
                            "index, not a checkpoint file (an index cannot "
                            "name another index)",
                            file);
    return 0;
}

/* Reads one shard's bytes and tensors.  Its errors are reported at the
 * index and the tensor that named it; what the shard reader said follows,
 * without the shard's full path (the index names the shard). */
static wi_state_dict_t *read_shard(struct index *x, const char *full,
                                   const char *file, const char *tensor)
{
    wi_error_t e;
    wi_error_clear(&e);
    wi_priv_blob_t *blob = wi_priv_blob_read(full, &e);
    const char *format = blob ? wi_priv_blob_format(blob) : NULL;
    wi_state_dict_t *sd = NULL;
    if (blob && format && x->format && strcmp(format, x->format) != 0)
        wi_error_set(&e, WI_EFORMAT, NULL, NULL, "is a %s file, not %s as "
                     "the index's name says", format, x->format);
    else if (blob)
        sd = wi_priv_checkpoint_read(blob, file, &e);
    wi_priv_blob_unref(blob);
    if (sd)
        return sd;
    size_t flen = strlen(full);
    if (e.code == WI_EFILE && strncmp(e.text, full, flen) == 0 &&
        strcmp(e.text + flen, " can not be found.") == 0)
        wi_error_set(x->err, e.code, x->path, tensor, "weight_map names the "
                     "shard '%s', which can not be found", file);
    else if (e.path[0])
        wi_error_set(x->err, e.code, x->path, tensor, "shard '%s', at %s: %s",
                     file, e.path, e.text);
    else
        wi_error_set(x->err, e.code, x->path, tensor, "shard '%s'%s%s", file,
                     strncmp(e.text, "is ", 3) == 0 ? " " : ": ", e.text);
    return NULL;
}

static struct shard *new_shard(struct index *x, const char *file,
                               const char *tensor)
{
    if (refuse_name(x, file, tensor) < 0)
        return NULL;
    const char *slash = strrchr(x->path, '/');
    size_t dir = slash ? (size_t)(slash - x->path) + 1 : 0;
    char *full = malloc(dir + strlen(file) + 1);
    struct shard *s = calloc(1, sizeof *s);
    struct shard **all = realloc(x->shards, (x->n + 1) * sizeof *all);
    if (all)
        x->shards = all;
    if (!full || !s || !all || !(s->file = strdup(file)) ||
        wi_priv_map_put_str(&x->by_file, s->file, x->n) < 0) {
        free(full);
        if (s)
            free(s->file);
        free(s);
        wi_error_set(x->err, WI_ENOMEM, x->path, NULL, "out of memory");
        return NULL;
    }
    memcpy(full, x->path, dir);
    strcpy(full + dir, file);
    s->refs = 1; /* the index's own reference */
    x->shards[x->n++] = s;
    s->sd = read_shard(x, full, file, tensor);
    free(full);
    if (!s->sd)
        return NULL;
    if (!(s->used = calloc(wi_state_dict_size(s->sd) + 1, 1))) {
        wi_error_set(x->err, WI_ENOMEM, x->path, NULL, "out of memory");
        return NULL;
    }
    return s;
}

static struct shard *get_shard(struct index *x, const char *file,
                               const char *tensor)
{
    size_t i;
    if (wi_priv_map_get_str(&x->by_file, file, strlen(file), &i))
        return x->shards[i]->sd && x->shards[i]->used ? x->shards[i] : NULL;
    return new_shard(x, file, tensor);
}

static int add_tensor(struct index *x, wi_state_dict_t *out,
                      const char *name, const char *file)
{
    struct shard *s = get_shard(x, file, name);
    size_t i;
    if (!s)
        return x->err ? x->err->code : WI_EFORMAT;
    if (wi_state_dict_index(s->sd, name, &i) < 0)
        return wi_error_set(x->err, WI_EFORMAT, x->path, name,
                            "weight_map names the shard '%s', which has no "
                            "such tensor",
                            file);
    wi_tensor_t *t = wi_state_dict_tensor(s->sd, i);
    wi_tensor_t *view = wi_tensor_wrap(wi_tensor_dtype(t), wi_tensor_ndim(t),
                                       wi_tensor_shape(t), wi_tensor_data(t),
                                       shard_unref, s, x->err);
    if (!view)
        return WI_ENOMEM;
    s->refs++;
    s->used[i] = 1;
    return wi_state_dict_append_new(out, name, view, x->err);
}

/* Every tensor of every shard must be where the index says. */
static int check_unlisted(struct index *x)
{
    for (size_t k = 0; k < x->n; k++)
        for (size_t i = 0; i < wi_state_dict_size(x->shards[k]->sd); i++)
            if (!x->shards[k]->used[i])
                return wi_error_set(x->err, WI_EFORMAT, x->path,
                                    wi_state_dict_name(x->shards[k]->sd, i),
                                    "shard '%s' holds '%s', which weight_map "
                                    "does not put there",
                                    x->shards[k]->file,
                                    wi_state_dict_name(x->shards[k]->sd, i));
    return 0;
}

/* The index, read as every input file is (regular files only, at most
 * WI_JSON_FILE_MAX bytes, unchanged while read); NULL with err set. */
static json_t *read_index(const char *path, json_t **map, wi_error_t *err)
{
    json_t *root = wi_priv_load_json_input(path, "a sharded checkpoint index",
                                           JSON_REJECT_DUPLICATES, err);
    if (!root) {
        if (err && err->code == WI_EINVAL) /* a syntax error */
            err->code = WI_EFORMAT;
        return NULL;
    }
    *map = json_object_get(root, "weight_map");
    const char *why = !json_is_object(root) ? "the index is not a JSON object"
                      : !*map ? "the index has no weight_map"
                      : !json_is_object(*map) ? "weight_map is not an object"
                                              : NULL;
    if (why) {
        wi_error_set(err, WI_EFORMAT, path, "weight_map",
                     "not a sharded checkpoint index: %s", why);
        json_decref(root);
        return NULL;
    }
    const char *key;
    json_t *v;
    char found[64];
    json_object_foreach(*map, key, v) {
        if (!json_is_string(v)) {
            wi_error_set(err, WI_EFORMAT, path, key,
                         "weight_map: expected a shard file name (a string), "
                         "found %s", wi_priv_json_repr(v, found, sizeof found));
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

static int select_top(const char *path, wi_priv_select_t *sel, json_t *root,
                      wi_error_t *err)
{
    if (!sel)
        return 0;
    if (sel->mode == WI_SEL_KEY && sel->key && sel->key[0])
        return wi_error_set(err, WI_ENOTFOUND, path, sel->key,
                            "the checkpoint has no dict '%s': a sharded "
                            "checkpoint is one flat dict of tensors, the "
                            "key ''",
                            sel->key);
    free(sel->chosen);
    sel->chosen = strdup("");
    if (sel->mode == WI_SEL_ALL) {
        json_decref(sel->info);
        sel->info = json_pack("{s:s, s:s, s:[], s:O?}", "format", "sharded",
                              "kind", "dict", "structure", "metadata",
                              json_object_get(root, "metadata"));
    }
    return sel->chosen && (sel->mode != WI_SEL_ALL || sel->info)
               ? 0
               : wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
}

wi_state_dict_t *wi_priv_index_select(const char *path, wi_priv_select_t *sel,
                                      wi_error_t *err)
{
    json_t *map, *root = read_index(path, &map, err);
    if (!root)
        return NULL;
    struct index x = {path, expected_format(path), err, NULL, 0, {0}};
    wi_state_dict_t *out = wi_state_dict_new();
    int rc = out ? select_top(path, sel, root, err)
                 : wi_error_set(err, WI_ENOMEM, path, NULL, "out of memory");
    const char *name;
    json_t *file;
    json_object_foreach(map, name, file) {
        if (rc < 0)
            break;
        rc = add_tensor(&x, out, name, json_string_value(file));
    }
    if (rc == 0)
        rc = check_unlisted(&x);
    if (sel && sel->mode == WI_SEL_ALL && sel->info && rc == 0) {
        json_t *shards = json_array();
        for (size_t i = 0; shards && i < x.n; i++)
            json_array_append_new(shards, json_string(x.shards[i]->file));
        json_object_set_new(sel->info, "shards", shards);
    }
    wi_priv_map_clear(&x.by_file);
    for (size_t i = 0; i < x.n; i++)
        shard_unref(NULL, x.shards[i]);
    free(x.shards);
    json_decref(root);
    if (rc < 0) {
        wi_state_dict_free(out);
        return NULL;
    }
    return out;
}
