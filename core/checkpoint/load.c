/* MMEngine's checkpoint loading (mmengine/runner/checkpoint.py):
 * load_state_dict with torch's per-module key rules, and the Pretrained
 * path (unwrap, strip "module.", prefix selection). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/checkpoint.h>

#include "base/buf.h"
#include "base/map.h"
#include "model/module_internal.h"
#include "context/context_internal.h"

/* Appends key to a sep-joined list. */
static void list_add(wi_priv_buf_t *k, const char *key, const char *sep)
{
    if (k->len)
        wi_priv_buf_puts(k, sep);
    wi_priv_buf_puts(k, key);
}

static void keys_add(wi_priv_buf_t *k, const char *key) { list_add(k, key, ", "); }

struct load {
    const wi_state_dict_t *sd;
    wi_priv_buf_t mismatch, unexpected, missing;
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

/* torch's _load_from_state_dict, run on each module in turn, reports a
 * key under the module's prefix as unexpected when its first component is
 * neither a child nor a present parameter or buffer.  Only one module can
 * do so for a key: the one reached by following its components through
 * children.  Returns it, or NULL when no module reports the key. */
static const wi_module_t *reporter(const wi_module_t *m, const char *key)
{
    for (;;) {
        const char *dot = strchr(key, '.');
        size_t len = dot ? (size_t)(dot - key) : strlen(key);
        if (wi_priv_module_has_state(m, key, len))
            return NULL;
        const wi_module_t *child = wi_priv_module_find_child_n(m, key, len);
        if (!child)
            return m;
        if (!dot)
            return NULL; /* "fc" itself is under no module's prefix "fc." */
        m = child;
        key = dot + 1;
    }
}

struct unexpected {
    size_t module; /* the reporter's place in the load order */
    size_t key;    /* the key's place in the state dict */
};

static int by_report_order(const void *a, const void *b)
{
    const struct unexpected *x = a, *y = b;
    if (x->module != y->module)
        return x->module < y->module ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Numbers modules in load order (a module, then its children). */
static int number_modules(const wi_module_t *m, wi_priv_map_t *order, size_t *n)
{
    if (wi_priv_map_put_ptr(order, m, (*n)++) < 0)
        return WI_ENOMEM;
    for (size_t i = 0; i < wi_module_child_count(m); i++)
        if (number_modules(wi_module_child(m, i), order, n) < 0)
            return WI_ENOMEM;
    return 0;
}

/* The unexpected keys in torch's order: by module in load order, then in
 * state-dict order, in O(keys log keys) rather than modules x keys. */
static int find_unexpected(struct load *l, const wi_module_t *root)
{
    size_t n_keys = wi_state_dict_size(l->sd), n = 0, n_modules = 0;
    struct unexpected *u = malloc((n_keys + 1) * sizeof *u);
    wi_priv_map_t order = {NULL, 0, 0};
    int rc = u ? number_modules(root, &order, &n_modules) : WI_ENOMEM;
    for (size_t k = 0; rc == 0 && k < n_keys; k++) {
        const wi_module_t *m = reporter(root, wi_state_dict_name(l->sd, k));
        size_t place = 0;
        if (m && wi_priv_map_get_ptr(&order, m, &place))
            u[n++] = (struct unexpected){place, k};
    }
    if (rc == 0) {
        qsort(u, n, sizeof *u, by_report_order);
        for (size_t i = 0; i < n; i++)
            keys_add(&l->unexpected, wi_state_dict_name(l->sd, u[i].key));
    }
    wi_priv_map_clear(&order);
    free(u);
    return rc;
}

static void load_module(struct load *l, wi_module_t *m, const char *prefix)
{
    for (size_t i = 0; i < wi_module_parameter_count(m); i++)
        if (wi_module_parameter(m, i))
            load_one(l, prefix, wi_module_parameter_name(m, i), wi_module_parameter(m, i));
    for (size_t i = 0; i < wi_module_buffer_count(m); i++)
        if (wi_module_buffer(m, i))
            load_one(l, prefix, wi_module_buffer_name(m, i), wi_module_buffer(m, i));
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
        len += (size_t)snprintf(msg + len, n - len, "\n%s", l->mismatch.data);
    if (l->unexpected.len)
        len += (size_t)snprintf(msg + len, n - len, "\nunexpected key in source "
                                "state_dict: %s\n", l->unexpected.data);
    if (l->missing.len)
        snprintf(msg + len, n - len, "\nmissing keys in source state_dict: %s\n",
                 l->missing.data);
    return msg;
}

int wi_module_load_state_dict(wi_module_t *m, const wi_state_dict_t *sd, int strict,
                       wi_context_t *ctx, wi_error_t *err)
{
    struct load l = {sd, {0}, {0}, {0}, err, 0};
    load_module(&l, m, "");
    int rc = l.rc;
    if (rc == 0 && find_unexpected(&l, m) < 0)
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    if (rc == 0 && (l.mismatch.oom || l.unexpected.oom || l.missing.oom))
        rc = wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    char *msg = rc == 0 ? mismatch_message(&l) : NULL;
    if (msg && strict)
        rc = wi_error_set(err, WI_EINVAL, NULL, NULL, "%s", msg);
    else if (msg)
        wi_context_log(ctx, WI_LOG_WARNING, "%s", msg);
    free(msg);
    wi_priv_buf_free(&l.mismatch);
    wi_priv_buf_free(&l.unexpected);
    wi_priv_buf_free(&l.missing);
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

/* How many of the model's keys name a tensor of sd (after stripping
 * strip bytes from each checkpoint key that starts with them). */
static size_t count_matches(const wi_state_dict_t *model, const wi_state_dict_t *sd,
                            const char *prefix)
{
    size_t n = 0, plen = strlen(prefix);
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const char *k = wi_state_dict_name(sd, i);
        if (strncmp(k, prefix, plen) == 0 && wi_state_dict_find(model, k + plen))
            n++;
    }
    return n;
}

/* When no key matched: look at every tensor of the file (at any depth)
 * for the key prefix under which the model's names are, and say so. */
static void hint_no_match(const wi_state_dict_t *model, const char *path,
                          const char *checkpoint, wi_context_t *ctx)
{
    wi_error_t err;
    wi_state_dict_t *all = wi_checkpoint_load_all(path, NULL, &err);
    char best[512] = "";
    size_t best_n = 0;
    for (size_t i = 0; all && i < wi_state_dict_size(all); i++) {
        const char *k = wi_state_dict_name(all, i);
        for (const char *dot = strchr(k, '.'); dot; dot = strchr(dot + 1, '.')) {
            char pre[512];
            if ((size_t)(dot - k) + 2 > sizeof pre)
                break;
            snprintf(pre, sizeof pre, "%.*s", (int)(dot - k + 1), k);
            size_t n = count_matches(model, all, pre);
            if (n > best_n) {
                best_n = n;
                snprintf(best, sizeof best, "%s", pre);
            }
        }
    }
    size_t total = wi_state_dict_size(model);
    if (best_n)
        wi_context_log(ctx, WI_LOG_WARNING, "0 of %zu keys of the model match %s; the "
                       "checkpoint's tensors are under '%s' (%zu of %zu match there): use "
                       "prefix='%.*s'", total, checkpoint, best, best_n, total,
                       (int)strlen(best) - 1, best);
    else
        wi_context_log(ctx, WI_LOG_WARNING, "0 of %zu keys of the model match %s, which "
                       "holds %zu tensors%s%s%s", total, checkpoint,
                       all ? wi_state_dict_size(all) : 0,
                       all && wi_state_dict_size(all) ? " (e.g. '" : "",
                       all && wi_state_dict_size(all) ? wi_state_dict_name(all, 0) : "",
                       all && wi_state_dict_size(all) ? "')" : "");
    wi_state_dict_free(all);
}

int wi_module_load_pretrained(wi_module_t *m, const char *checkpoint,
                       const char *prefix, wi_context_t *ctx, wi_error_t *err)
{
    wi_error_t local; /* the readers' codes are read back from err */
    if (!err)
        err = &local;
    wi_error_clear(&local);
    char *fetched = NULL;
    const char *path = checkpoint;
    if (is_url(checkpoint)) {
        if (!(fetched = wi_checkpoint_fetch(checkpoint, ctx, err)))
            return err ? err->code : WI_EIO;
        path = fetched;
        wi_context_log(ctx, WI_LOG_INFO, "Loads checkpoint by http backend from "
                       "path: %s", checkpoint);
    } else {
        /* Missing or odd files are wi_checkpoint_load's errors (MMEngine:
         * "X can not be found.", after this line). */
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
    /* Beyond MMEngine: a prefix may also name a nested dict of the file,
     * such as timm's and DeiT's checkpoint['model']. */
    if (sd && !sel && prefix && err && err->code == WI_ENOTFOUND) {
        wi_error_t kerr;
        wi_state_dict_t *nested = wi_checkpoint_load_key(path, prefix, NULL, &kerr);
        if (nested && wi_state_dict_size(nested)) {
            wi_state_dict_free(sd);
            sd = nested;
            sel = select_keys(sd, "", checkpoint, err);
        } else {
            wi_state_dict_free(nested);
        }
    }
    wi_state_dict_t *model = sel ? wi_module_state_dict(m, NULL) : NULL;
    int rc = sel ? wi_module_load_state_dict(m, sel, 0, ctx, err)
                 : err && err->code ? err->code : WI_EIO;
    if (rc == 0 && model && wi_state_dict_size(model) &&
        count_matches(model, sel, "") == 0)
        hint_no_match(model, path, checkpoint, ctx);
    if (rc < 0 && err && !err->source[0])
        snprintf(err->source, sizeof err->source, "%s", checkpoint);
    wi_state_dict_free(model);
    wi_state_dict_free(sel);
    wi_state_dict_free(sd);
    free(fetched);
    return rc;
}
