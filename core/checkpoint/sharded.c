/* Sharded checkpoints as Hugging Face writes them: NAME.index.json =
 * {"metadata": {...}, "weight_map": {tensor: shard file}}, the shards in
 * the index's folder.  The shards are read with the ordinary readers and
 * their tensors handed out in weight_map order, without copying. */
#include <stdlib.h>
#include <string.h>

#include <weightinit/checkpoint.h>

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
    wi_error_t *err;
    struct shard **shards;
    size_t n;
};

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

static struct shard *get_shard(struct index *x, const char *file,
                               const char *tensor)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->shards[i]->file, file) == 0)
            return x->shards[i];
    if (!safe_name(file)) {
        wi_error_set(x->err, WI_EFORMAT, x->path, tensor,
                     "weight_map names the shard '%s', which is not a file "
                     "beside the index",
                     file);
        return NULL;
    }
    const char *slash = strrchr(x->path, '/');
    size_t dir = slash ? (size_t)(slash - x->path) + 1 : 0;
    char *full = malloc(dir + strlen(file) + 1);
    struct shard *s = calloc(1, sizeof *s);
    struct shard **all = realloc(x->shards, (x->n + 1) * sizeof *all);
    if (all)
        x->shards = all;
    if (!full || !s || !all || !(s->file = strdup(file))) {
        free(full);
        free(s);
        wi_error_set(x->err, WI_ENOMEM, x->path, NULL, "out of memory");
        return NULL;
    }
    memcpy(full, x->path, dir);
    strcpy(full + dir, file);
    s->refs = 1; /* the index's own reference */
    s->sd = wi_checkpoint_load(full, x->err);
    free(full);
    s->used = s->sd ? calloc(wi_state_dict_size(s->sd) + 1, 1) : NULL;
    x->shards[x->n++] = s;
    if (!s->sd)
        return NULL;
    if (!s->used) {
        wi_error_set(x->err, WI_ENOMEM, x->path, NULL, "out of memory");
        return NULL;
    }
    return s;
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
                            "weight_map puts '%s' in shard '%s', which has "
                            "no such tensor",
                            name, file);
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

static json_t *read_index(const char *path, json_t **map, wi_error_t *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        int io = json_error_code(&jerr) == json_error_cannot_open_file;
        wi_error_set(err, io ? WI_ENOTFOUND : WI_EFORMAT, path, NULL, "%s",
                     jerr.text);
        if (err && !io) {
            err->line = jerr.line;
            err->column = jerr.column;
        }
        return NULL;
    }
    *map = json_object_get(root, "weight_map");
    const char *why = !json_is_object(root) ? "the index is not a JSON object"
                      : !*map ? "the index has no weight_map"
                      : !json_is_object(*map) ? "weight_map is not an object"
                                              : NULL;
    const char *key;
    json_t *v;
    if (!why)
        json_object_foreach(*map, key, v) if (!json_is_string(v)) why =
            "weight_map values must be shard file names (strings)";
    if (why) {
        wi_error_set(err, WI_EFORMAT, path, "weight_map",
                     "not a sharded checkpoint index: %s", why);
        json_decref(root);
        return NULL;
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
                            "checkpoint is one flat dict of tensors (use "
                            "--key '')",
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
    struct index x = {path, err, NULL, 0};
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
