/* MMEngine's checkpoint loading (mmengine/runner/checkpoint.py):
 * load_state_dict with torch's per-module key rules, and the Pretrained
 * path (unwrap, strip "module.", prefix selection). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <weightinit/checkpoint.h>

#include "engine/context_internal.h"

/* A growing ", "-joined list of keys. */
struct keys {
    char *text;
    size_t len, cap;
    int oom;
};

static void list_add(struct keys *k, const char *key, const char *sep)
{
    size_t n = strlen(key) + strlen(sep);
    if (k->oom)
        return;
    if (k->len + n + 1 > k->cap) {
        size_t cap = (k->len + n + 1) * 2;
        char *t = realloc(k->text, cap);
        if (!t) {
            k->oom = 1;
            return;
        }
        k->text = t;
        k->cap = cap;
    }
    k->len += (size_t)snprintf(k->text + k->len, k->cap - k->len, "%s%s",
                               k->len ? sep : "", key);
}

static void keys_add(struct keys *k, const char *key) { list_add(k, key, ", "); }

struct load {
    const wi_state_dict_t *sd;
    char *loaded; /* per sd entry: used by some module */
    struct keys mismatch, unexpected, missing;
    wi_error_t *err;
    int rc;
};

static void size_mismatch(struct load *l, const char *key, const wi_tensor_t *have,
                          const wi_tensor_t *want)
{
    char a[256], b[256], line[700];
    wi_shape_format(wi_tensor_ndim(have), wi_tensor_shape(have), a, sizeof a);
    wi_shape_format(wi_tensor_ndim(want), wi_tensor_shape(want), b, sizeof b);
    snprintf(line, sizeof line, "size mismatch for %s: copying a param with shape "
             "torch.Size(%s) from checkpoint, the shape in current model is "
             "torch.Size(%s).", key, a, b);
    /* One message per line, as MMEngine joins its err_msg list. */
    list_add(&l->mismatch, line, "\n");
}

/* torch's _load_from_state_dict for one parameter or buffer. */
static void load_one(struct load *l, const char *prefix, const char *name,
                     wi_tensor_t *t)
{
    char key[1024];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    size_t i;
    if (wi_state_dict_index(l->sd, key, &i) < 0) {
        if (!strstr(key, "num_batches_tracked"))
            keys_add(&l->missing, key);
        return;
    }
    const wi_tensor_t *src = wi_state_dict_tensor(l->sd, i);
    if (!wi_tensor_same_shape(src, t)) {
        size_mismatch(l, key, src, t);
        return;
    }
    if (l->rc == 0 && wi_tensor_copy_(t, src, l->err) < 0) {
        l->rc = l->err ? l->err->code : WI_EINVAL;
        if (l->err)
            snprintf(l->err->path, sizeof l->err->path, "%s", key);
    }
}

/* A key under prefix is unexpected when its first component is neither a
 * child nor a present parameter or buffer of the module. */
static int is_local(const wi_module_t *m, const char *first, size_t len)
{
    for (size_t i = 0; i < wi_module_child_count(m); i++) {
        const char *c = wi_module_child_name(m, i);
        if (strlen(c) == len && strncmp(c, first, len) == 0)
            return 1;
    }
    for (size_t i = 0; i < wi_module_parameter_count(m); i++) {
        const char *c = wi_module_parameter_name(m, i);
        if (wi_module_parameter(m, i) && strlen(c) == len && strncmp(c, first, len) == 0)
            return 1;
    }
    for (size_t i = 0; i < wi_module_buffer_count(m); i++) {
        const char *c = wi_module_buffer_name(m, i);
        if (wi_module_buffer(m, i) && strlen(c) == len && strncmp(c, first, len) == 0)
            return 1;
    }
    return 0;
}

static void load_module(struct load *l, wi_module_t *m, const char *prefix)
{
    for (size_t i = 0; i < wi_module_parameter_count(m); i++)
        if (wi_module_parameter(m, i))
            load_one(l, prefix, wi_module_parameter_name(m, i), wi_module_parameter(m, i));
    for (size_t i = 0; i < wi_module_buffer_count(m); i++)
        if (wi_module_buffer(m, i))
            load_one(l, prefix, wi_module_buffer_name(m, i), wi_module_buffer(m, i));
    size_t plen = strlen(prefix);
    for (size_t k = 0; k < wi_state_dict_size(l->sd); k++) {
        const char *key = wi_state_dict_name(l->sd, k);
        if (l->loaded[k] || strncmp(key, prefix, plen) != 0)
            continue;
        const char *first = key + plen, *dot = strchr(first, '.');
        size_t len = dot ? (size_t)(dot - first) : strlen(first);
        if (!is_local(m, first, len)) {
            keys_add(&l->unexpected, key);
            l->loaded[k] = 1; /* reported once */
        }
    }
    for (size_t i = 0; i < wi_module_child_count(m); i++) {
        char child[1024];
        snprintf(child, sizeof child, "%s%s.", prefix, wi_module_child_name(m, i));
        load_module(l, wi_module_child(m, i), child);
    }
}

/* MMEngine's message: header, torch's errors, unexpected, missing. */
static char *mismatch_message(const struct load *l)
{
    if (!l->mismatch.len && !l->unexpected.len && !l->missing.len)
        return NULL;
    size_t n = 200 + l->mismatch.len + l->unexpected.len + l->missing.len;
    char *msg = malloc(n);
    if (!msg)
        return NULL;
    size_t len = (size_t)snprintf(msg, n, "The model and loaded state dict do "
                                  "not match exactly\n");
    if (l->mismatch.len)
        len += (size_t)snprintf(msg + len, n - len, "\n%s", l->mismatch.text);
    if (l->unexpected.len)
        len += (size_t)snprintf(msg + len, n - len, "\nunexpected key in source "
                                "state_dict: %s\n", l->unexpected.text);
    if (l->missing.len)
        snprintf(msg + len, n - len, "\nmissing keys in source state_dict: %s\n",
                 l->missing.text);
    return msg;
}

int wi_load_state_dict(wi_module_t *m, const wi_state_dict_t *sd, int strict,
                       wi_context_t *ctx, wi_error_t *err)
{
    struct load l = {sd, calloc(wi_state_dict_size(sd) + 1, 1), {0}, {0}, {0}, err, 0};
    if (!l.loaded)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    load_module(&l, m, "");
    int rc = l.rc;
    if (rc == 0 && (l.mismatch.oom || l.unexpected.oom || l.missing.oom))
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    char *msg = rc == 0 ? mismatch_message(&l) : NULL;
    if (msg && strict)
        rc = wi_error_set(err, WI_EINVAL, NULL, NULL, "%s", msg);
    else if (msg)
        wi_context_log(ctx, WI_LOG_WARNING, "%s", msg);
    free(msg);
    free(l.loaded);
    free(l.mismatch.text);
    free(l.unexpected.text);
    free(l.missing.text);
    return rc;
}

static int is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* The keys MMEngine hands to load_state_dict, borrowing sd's tensors. */
static wi_state_dict_t *select_keys(const wi_state_dict_t *sd, const char *prefix,
                                    const char *source, wi_error_t *err)
{
    wi_state_dict_t *out = wi_state_dict_new();
    char pre[512];
    snprintf(pre, sizeof pre, "%s%s", prefix ? prefix : "",
             prefix && prefix[0] && prefix[strlen(prefix) - 1] != '.' ? "." : "");
    size_t plen = strlen(pre);
    for (size_t i = 0; out && i < wi_state_dict_size(sd); i++) {
        const char *key = wi_state_dict_name(sd, i);
        if (prefix && strncmp(key, pre, plen) != 0)
            continue;
        const char *name = prefix ? key + plen
                                  : strncmp(key, "module.", 7) == 0 ? key + 7 : key;
        if (wi_state_dict_append(out, name, wi_state_dict_tensor(sd, i), err) < 0) {
            wi_state_dict_free(out);
            if (err)
                snprintf(err->source, sizeof err->source, "%s", source);
            return NULL;
        }
    }
    if (out && prefix && wi_state_dict_size(out) == 0) {
        wi_state_dict_free(out);
        wi_error_set(err, WI_ENOTFOUND, source, NULL,
                     "%s is not in the pretrained model (no key starts with "
                     "'%s')", prefix, pre);
        return NULL;
    }
    if (!out)
        wi_error_set(err, WI_ENOMEM, source, NULL, "out of memory");
    return out;
}

int wi_load_checkpoint(wi_module_t *m, const char *checkpoint,
                       const char *prefix, wi_context_t *ctx, wi_error_t *err)
{
    char *fetched = NULL;
    const char *path = checkpoint;
    struct stat st;
    if (is_url(checkpoint)) {
        if (!(fetched = wi_checkpoint_fetch(checkpoint, ctx, err)))
            return err ? err->code : WI_EIO;
        path = fetched;
        wi_context_log(ctx, WI_LOG_INFO, "Loads checkpoint by http backend from "
                       "path: %s", checkpoint);
    } else if (stat(checkpoint, &st) != 0 || !S_ISREG(st.st_mode)) {
        return wi_error_set(err, WI_EIO, checkpoint, NULL, "%s can not be found.",
                            checkpoint);
    } else {
        wi_context_log(ctx, WI_LOG_INFO, "Loads checkpoint by local backend from "
                       "path: %s", checkpoint);
    }
    /* Noted before reading, so a caller can refuse to overwrite it. */
    if (wi_priv_context_note_input(ctx, path) < 0) {
        free(fetched);
        return wi_error_set(err, WI_ENOMEM, checkpoint, NULL, "out of memory");
    }
    wi_state_dict_t *sd = wi_checkpoint_load(path, err);
    wi_state_dict_t *sel = sd ? select_keys(sd, prefix, checkpoint, err) : NULL;
    int rc = sel ? wi_load_state_dict(m, sel, 0, ctx, err)
                 : err && err->code ? err->code : WI_EIO;
    if (rc < 0 && err && !err->source[0])
        snprintf(err->source, sizeof err->source, "%s", checkpoint);
    wi_state_dict_free(sel);
    wi_state_dict_free(sd);
    free(fetched);
    return rc;
}
