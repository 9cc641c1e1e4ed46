/* Which tensors of a torch.save file are handed out: MMEngine's
 * state_dict unwrapping, a dict chosen by key or automatically, or every
 * tensor by its full path with the rest described for inspect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <weightinit/state_dict.h>

#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/pickle.h"
#include "checkpoint/pth_internal.h"

static const wi_priv_pval_t *select_dict(struct wi_priv_pth *p,
                                         const wi_priv_pval_t *root)
{
    if (root->kind == WI_PK_OPAQUE) {
        wi_priv_pth_fail(p, WI_EUNSUPPORTED, NULL,
                         "no state_dict found: the file holds an object built "
                         "by pickle global '%s %s'%s, not a dict of tensors "
                         "(save model.state_dict() instead); weightinit never "
                         "calls pickle globals",
                         root->u.global.module, root->u.global.name,
                         p->torchscript
                             ? " (a TorchScript archive from torch.jit.save)"
                             : "");
        return NULL;
    }
    if (root->kind != WI_PK_DICT) {
        wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                         "no state_dict found: the file holds %s, not a dict "
                         "of tensors",
                         wi_priv_pval_kind(root));
        return NULL;
    }
    const wi_priv_pval_t *sd = wi_priv_pdict_get(root, "state_dict");
    if (!sd || sd->kind == WI_PK_DICT)
        return sd ? sd : root;
    if (sd->kind == WI_PK_OPAQUE)
        wi_priv_pth_refuse_opaque(p, "state_dict", sd);
    else
        wi_priv_pth_fail(p, WI_EFORMAT, "state_dict",
                         "checkpoint['state_dict'] is %s, not a dict of "
                         "tensors",
                         wi_priv_pval_kind(sd));
    return NULL;
}

/* A key as Python's repr spells control characters, for messages (a NUL
 * byte cannot be printed, nor carried by a C string). */
static const char *escape_key(const wi_priv_pval_t *k, char *buf, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < k->u.str.len && n + 5 < size; i++) {
        unsigned char c = (unsigned char)k->u.str.data[i];
        if (c == '\\')
            n += (size_t)snprintf(buf + n, size - n, "\\\\");
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return buf;
}

/* Names are C strings, in this library and in every caller's hands: a
 * key with a NUL byte would be cut short (and could alias another key),
 * so a tensor under one is refused, whichever reader asks for it. */
static int refuse_nul_key(struct wi_priv_pth *p, const char *path,
                          const wi_priv_pval_t *k)
{
    char key[200], full[400];
    snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
             escape_key(k, key, sizeof key));
    return wi_priv_pth_fail(p, WI_EUNSUPPORTED, full,
                            "expected a tensor name without NUL bytes, found a "
                            "key with one: weightinit's names are C strings "
                            "and cannot carry it (rename the key in Python and "
                            "save again)");
}

/* 1 when a dict key can name a tensor: a str without NUL bytes. */
static int is_str(const wi_priv_pval_t *k)
{
    return k->kind == WI_PK_STR && strlen(k->u.str.data) == k->u.str.len;
}

/* For each distinct name key, in order of first appearance, the index of
 * its last value (Python dict semantics for repeated SETITEMs); other
 * keys (a str with a NUL byte, an int, a tuple...) are listed as they
 * come, for the caller to name or refuse. */
static size_t *unique_items(struct wi_priv_pth *p, const wi_priv_pval_t *d,
                            size_t *n)
{
    size_t len = d->u.dict.len, count = 0, found;
    size_t *pick = malloc((len ? len : 1) * sizeof *pick);
    wi_priv_strset_t seen = {0};
    int added;
    if (!pick) {
        wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        const wi_priv_pval_t *k = d->u.dict.keys[i];
        if (!is_str(k)) {
            pick[count++] = i;
            continue;
        }
        if (wi_priv_strset_put(&seen, k->u.str.data, count, &found,
                               &added) < 0) {
            wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
            goto fail;
        }
        if (added)
            pick[count++] = i;
        else
            pick[found] = i;
    }
    wi_priv_strset_free(&seen);
    *n = count;
    return pick;
fail:
    wi_priv_strset_free(&seen);
    free(pick);
    return NULL;
}

/* A value the selected dict's reader turns into a tensor or refuses:
 * tensors, and objects of torch and numpy (which may be arrays of a kind
 * we do not read).  An object from outside torch and numpy
 * (argparse.Namespace next to the weights, as DeiT saves) cannot hold
 * weights: it is skipped like an int. */
static int holds_weights(const wi_priv_pval_t *v)
{
    return v->kind == WI_PK_TENSOR ||
           (v->kind == WI_PK_OPAQUE &&
            (v->u.global.tensor || strncmp(v->u.global.module, "torch", 5) == 0 ||
             strncmp(v->u.global.module, "numpy", 5) == 0));
}

/* Tensors of the selected dict.  Other plain values (ints, strings,
 * nested dicts) are skipped: MMEngine would report them as unexpected
 * keys and load nothing from them.  Opaque objects are refused, since
 * under Python they might have been tensors.  p->sb must be allocated. */
static wi_state_dict_t *extract_dict(struct wi_priv_pth *p,
                                     const wi_priv_pval_t *d,
                                     wi_priv_pth_load_fn load)
{
    size_t n;
    size_t *pick = d ? unique_items(p, d, &n) : NULL;
    if (!pick)
        return NULL;
    wi_state_dict_t *sd = wi_state_dict_new();
    if (!sd) {
        wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const wi_priv_pval_t *v = d->u.dict.values[pick[i]];
        if (v->kind == WI_PK_TENSOR && !v->u.tensor.invalid)
            p->sb[v->u.tensor.storage->index].users++;
    }
    for (size_t i = 0; i < n; i++) {
        const wi_priv_pval_t *v = d->u.dict.values[pick[i]];
        const wi_priv_pval_t *k = d->u.dict.keys[pick[i]];
        /* MMEngine's revise_keys runs re.sub on every key: anything but a
         * str is a TypeError there. */
        if (k->kind != WI_PK_STR) {
            wi_priv_pth_fail(p, WI_EFORMAT, NULL,
                             "state dict key number %zu is %s, not a tensor "
                             "name",
                             pick[i], wi_priv_pval_kind(k));
            goto fail;
        }
        if (!holds_weights(v))
            continue;
        if (!is_str(k)) {
            refuse_nul_key(p, "", k);
            goto fail;
        }
        wi_tensor_t *t = wi_priv_pth_materialize(p, k->u.str.data, v, load);
        if (!t || wi_state_dict_append_new(sd, k->u.str.data, t, p->err) < 0)
            goto fail;
    }
    free(pick);
    return sd;
fail:
    free(pick);
    wi_state_dict_free(sd);
    return NULL;
}

static int tensor_count(const wi_priv_pval_t *d)
{
    int n = 0;
    for (size_t i = 0; d->kind == WI_PK_DICT && i < d->u.dict.len; i++)
        n += d->u.dict.values[i]->kind == WI_PK_TENSOR;
    return n;
}

/* "'model' (9 tensors), 'ema' (9 tensors)": the top-level dicts that hold
 * tensors, for messages. */
static void candidates(const wi_priv_pval_t *root, char *buf, size_t size,
                       int *count, const char **only)
{
    size_t len = 0;
    *count = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < root->u.dict.len; i++) {
        const wi_priv_pval_t *k = root->u.dict.keys[i];
        int n = tensor_count(root->u.dict.values[i]);
        if (!is_str(k) || n == 0 || wi_priv_pdict_get(root, k->u.str.data) !=
                                        root->u.dict.values[i])
            continue;
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s'%s' (%d tensor%s)",
                                    *count ? ", " : "", k->u.str.data, n,
                                    n == 1 ? "" : "s");
        *only = k->u.str.data;
        ++*count;
    }
}

static const wi_priv_pval_t *choose(struct wi_priv_pth *p,
                                    const wi_priv_pval_t *d, const char *path)
{
    free(p->sel->chosen);
    if (!(p->sel->chosen = strdup(path)))
        wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
    return p->sel->chosen ? d : NULL;
}

static const wi_priv_pval_t *select_auto(struct wi_priv_pth *p,
                                         const wi_priv_pval_t *root)
{
    const wi_priv_pval_t *sd = wi_priv_pdict_get(root, "state_dict");
    if (sd && sd->kind == WI_PK_DICT)
        return choose(p, sd, "state_dict");
    char list[400];
    int count;
    const char *only = NULL;
    candidates(root, list, sizeof list, &count, &only);
    if (count > 1) {
        wi_priv_pth_fail(p, WI_EINVAL, NULL,
                         "the checkpoint holds tensors under several keys: %s; "
                         "choose one as the key",
                         list);
        return NULL;
    }
    if (count == 1 && tensor_count(root) == 0)
        return choose(p, wi_priv_pdict_get(root, only), only);
    return choose(p, root, "");
}

/* The dict at a dotted path; a key may itself hold dots, so at each level
 * the longest key that the rest of the path starts with wins. */
static const wi_priv_pval_t *select_key(struct wi_priv_pth *p,
                                        const wi_priv_pval_t *root,
                                        const char *key)
{
    const wi_priv_pval_t *d = root;
    const char *rest = key;
    while (*rest) {
        const wi_priv_pval_t *next = NULL;
        size_t best = 0;
        for (size_t i = 0; d->kind == WI_PK_DICT && i < d->u.dict.len; i++) {
            const wi_priv_pval_t *k = d->u.dict.keys[i];
            size_t n = is_str(k) ? k->u.str.len : 0;
            if (n > best && strncmp(rest, k->u.str.data, n) == 0 &&
                (rest[n] == '\0' || rest[n] == '.')) {
                best = n;
                next = wi_priv_pdict_get(d, k->u.str.data);
            }
        }
        if (!next || d->kind != WI_PK_DICT) {
            char list[400];
            int count;
            const char *only;
            candidates(root, list, sizeof list, &count, &only);
            wi_priv_pth_fail(p, WI_ENOTFOUND, key,
                             "the checkpoint has no dict '%s'; %s%s", key,
                             count ? "dicts holding tensors: "
                                   : "its top level holds ",
                             count ? list
                                   : tensor_count(root) ? "the tensors (the key '')"
                                                        : "no tensors");
            return NULL;
        }
        d = next;
        rest += best + (rest[best] == '.');
    }
    if (d->kind == WI_PK_DICT)
        return choose(p, d, key);
    if (d->kind == WI_PK_OPAQUE)
        wi_priv_pth_refuse_opaque(p, key, d);
    else
        wi_priv_pth_fail(p, WI_EINVAL, key,
                         "checkpoint['%s'] is %s, not a dict of tensors", key,
                         wi_priv_pval_kind(d));
    return NULL;
}

/* Everything: tensors at any depth of dicts, lists and tuples, named by
 * their dotted path; the non-tensor values near the top described in
 * sel->info["structure"]. */
struct walk {
    struct wi_priv_pth *p;
    wi_priv_pth_load_fn load;
    wi_state_dict_t *sd; /* NULL: the counting pass */
    json_t *structure;
    size_t budget, left; /* values a pass may reach, and still may */
};

#define WALK_DEPTH 64
#define STRUCTURE_DEPTH 2
#define STRUCTURE_MAX 200 /* entries: an optimizer state can have thousands */

/* Python's type names, for inspect's stable "kind" field. */
static const char *kind_name(const wi_priv_pval_t *v)
{
    switch (v->kind) {
    case WI_PK_NONE: return "None";
    case WI_PK_BOOL: return "bool";
    case WI_PK_INT:
    case WI_PK_BIGINT: return "int";
    case WI_PK_FLOAT: return "float";
    case WI_PK_STR: return "str";
    case WI_PK_TUPLE: return "tuple";
    case WI_PK_LIST: return "list";
    case WI_PK_SET: return "set";
    case WI_PK_DICT: return v->u.dict.ordered ? "OrderedDict" : "dict";
    case WI_PK_GLOBAL: return "class";
    case WI_PK_OPAQUE: return "object";
    case WI_PK_STORAGE: return "storage";
    case WI_PK_TENSOR: return "tensor";
    }
    return "?";
}

static json_t *describe(const wi_priv_pval_t *v, const char *path)
{
    json_t *o = json_pack("{s:s, s:s}", "path", path, "kind", kind_name(v));
    if (!o)
        return NULL;
    switch (v->kind) {
    case WI_PK_BOOL:
        json_object_set_new(o, "value", json_boolean(v->u.i));
        break;
    case WI_PK_INT:
        json_object_set_new(o, "value", json_integer(v->u.i));
        break;
    case WI_PK_FLOAT:
        json_object_set_new(o, "value", json_real(v->u.f));
        break;
    case WI_PK_STR: {
        /* One line, at most 60 characters: a config text is long. */
        char brief[64];
        size_t n = strcspn(v->u.str.data, "\r\n");
        n = n > 60 ? 60 : n;
        snprintf(brief, sizeof brief, "%.*s%s", (int)n, v->u.str.data,
                 n < v->u.str.len ? "..." : "");
        json_object_set_new(o, "value", json_string(brief));
        break;
    }
    case WI_PK_OPAQUE:
    case WI_PK_GLOBAL: {
        char name[300];
        snprintf(name, sizeof name, "%s.%s", v->u.global.module,
                 v->u.global.name);
        json_object_set_new(o, "class", json_string(name));
        break;
    }
    case WI_PK_DICT:
        json_object_set_new(o, "items", json_integer((json_int_t)v->u.dict.len));
        json_object_set_new(o, "tensors", json_integer(tensor_count(v)));
        break;
    case WI_PK_LIST:
    case WI_PK_TUPLE:
    case WI_PK_SET:
        json_object_set_new(o, "items", json_integer((json_int_t)v->u.seq.len));
        break;
    default:
        break;
    }
    return o;
}

/* A tensor in a form we do not build (a tensor subclass, a quantized or
 * sparse tensor): inspect must not pass it over in silence. */
static int unread_tensor(const wi_priv_pval_t *v)
{
    return v->kind == WI_PK_OPAQUE &&
           (v->u.global.tensor ||
            (strcmp(v->u.global.module, "torch._utils") == 0 &&
             strncmp(v->u.global.name, "_rebuild_", 9) == 0));
}

static size_t items(const wi_priv_pval_t *v)
{
    return v->kind == WI_PK_DICT ? v->u.dict.len
           : v->kind == WI_PK_LIST || v->kind == WI_PK_TUPLE ? v->u.seq.len
                                                              : 0;
}

/* Bounds of the walk, so that every tensor is named or the walk fails:
 * values nested deeper than WALK_DEPTH (a structure that contains itself,
 * through the memo) and more visits than the budget (a list of two
 * references to a list of two references to ... has 2^depth paths). */
static int step(struct walk *w, const wi_priv_pval_t *v, const char *path,
                int depth)
{
    if (w->left-- == 0)
        return wi_priv_pth_fail(w->p, WI_EUNSUPPORTED, path,
                                "the checkpoint's values are shared over more "
                                "than %zu paths (objects that refer to each "
                                "other again and again): too many to name "
                                "every tensor",
                                w->budget);
    if (depth > WALK_DEPTH &&
        (v->kind == WI_PK_TENSOR || unread_tensor(v) || items(v)))
        return wi_priv_pth_fail(w->p, WI_EUNSUPPORTED, path,
                                "values nested more than %d levels deep (a "
                                "structure that contains itself?): too deep to "
                                "name every tensor",
                                WALK_DEPTH);
    return 0;
}

/* 1 when a tensor lies at or under v, 0 when none does, or an error. */
static int reaches_tensor(struct walk *w, const wi_priv_pval_t *v,
                          const char *path, int depth)
{
    int rc = step(w, v, path, depth);
    if (rc < 0 || v->kind == WI_PK_TENSOR || unread_tensor(v))
        return rc < 0 ? rc : 1;
    for (size_t i = 0; rc == 0 && depth <= WALK_DEPTH && i < items(v); i++)
        rc = reaches_tensor(w, v->kind == WI_PK_DICT ? v->u.dict.values[i]
                                                     : v->u.seq.items[i],
                            path, depth + 1);
    return rc;
}

static int walk(struct walk *w, const wi_priv_pval_t *v, const char *path,
                int depth);

static int walk_item(struct walk *w, const wi_priv_pval_t *v,
                     const char *path, const char *key, int depth)
{
    char full[1024];
    if ((size_t)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
                         key) >= sizeof full)
        return wi_priv_pth_fail(w->p, WI_EUNSUPPORTED, path,
                                "key path longer than %zu bytes", sizeof full);
    return walk(w, v, full, depth + 1);
}

/* A dict item whose key cannot name a tensor (a str with a NUL byte, a
 * tuple, a float, None): refused when a tensor lies under it, passed
 * over otherwise, like the other values that are not tensors. */
static int walk_unnamed(struct walk *w, const wi_priv_pval_t *k,
                        const wi_priv_pval_t *v, const char *path, int depth)
{
    int rc = reaches_tensor(w, v, path, depth + 1);
    if (rc <= 0)
        return rc;
    if (k->kind == WI_PK_STR)
        return refuse_nul_key(w->p, path, k);
    return wi_priv_pth_fail(w->p, WI_EUNSUPPORTED, *path ? path : NULL,
                            "expected dict keys that are strs or ints, found "
                            "%s as the key of a tensor: a tensor needs a name",
                            wi_priv_pval_kind(k));
}

static int walk_dict(struct walk *w, const wi_priv_pval_t *v,
                     const char *path, int depth)
{
    size_t n, *pick = unique_items(w->p, v, &n);
    int rc = pick ? 0 : WI_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const wi_priv_pval_t *k = v->u.dict.keys[pick[i]],
                             *val = v->u.dict.values[pick[i]];
        char num[32];
        if (k->kind == WI_PK_INT) {
            snprintf(num, sizeof num, "%lld", (long long)k->u.i);
            rc = walk_item(w, val, path, num, depth);
        } else if (is_str(k)) {
            rc = walk_item(w, val, path, k->u.str.data, depth);
        } else {
            rc = walk_unnamed(w, k, val, path, depth);
        }
    }
    free(pick);
    return rc;
}

static int walk(struct walk *w, const wi_priv_pval_t *v, const char *path,
                int depth)
{
    struct wi_priv_pth *p = w->p;
    int rc = step(w, v, path, depth);
    if (rc < 0 || depth > WALK_DEPTH)
        return rc;
    if (unread_tensor(v))
        return wi_priv_pth_refuse_opaque(p, path, v);
    if (v->kind == WI_PK_TENSOR) {
        if (!w->sd) {
            if (!v->u.tensor.invalid)
                p->sb[v->u.tensor.storage->index].users++;
            return 0;
        }
        wi_tensor_t *t = wi_priv_pth_materialize(p, path, v, w->load);
        return t ? wi_state_dict_append_new(w->sd, path, t, p->err) : WI_EFORMAT;
    }
    if (!w->sd && depth > 0 && depth <= STRUCTURE_DEPTH &&
        json_array_size(w->structure) < STRUCTURE_MAX &&
        json_array_append_new(w->structure, describe(v, path)) < 0)
        return wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
    if (v->kind == WI_PK_DICT)
        return walk_dict(w, v, path, depth);
    for (size_t i = 0; rc == 0 && (v->kind == WI_PK_LIST || v->kind == WI_PK_TUPLE) &&
                       i < v->u.seq.len; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        rc = walk_item(w, v->u.seq.items[i], path, key, depth);
    }
    return rc;
}

static wi_state_dict_t *extract_all(struct wi_priv_pth *p,
                                    const wi_priv_pval_t *root,
                                    wi_priv_pth_load_fn load)
{
    struct walk w = {p, load, NULL, json_array(), 0, 0};
    json_t *info = json_pack("{s:s, s:o, s:s}", "format",
                             p->za ? "torch-zip" : "torch-legacy", "structure",
                             w.structure, "kind", kind_name(root));
    if (!info || !w.structure) {
        wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
        json_decref(info);
        return NULL;
    }
    if (root->kind == WI_PK_DICT)
        json_object_set_new(info, "items", json_integer((json_int_t)root->u.dict.len));
    if (root->kind == WI_PK_OPAQUE) {
        select_dict(p, root); /* its message: not a dict of tensors */
        json_decref(info);
        return NULL;
    }
    /* Every value holds a pointer's worth of the VM's memory for each
     * reference to it: more visits than a few per reference means values
     * shared over and over. */
    w.budget = w.left = wi_priv_pickle_memory(p->vm) / 4 + 4096;
    int rc = walk(&w, root, "", 0);
    if (rc == 0 && !(w.sd = wi_state_dict_new()))
        rc = wi_priv_pth_fail(p, WI_ENOMEM, NULL, "out of memory");
    w.left = w.budget;
    if (rc < 0 || walk(&w, root, "", 0) < 0) {
        wi_state_dict_free(w.sd);
        json_decref(info);
        return NULL;
    }
    json_decref(p->sel->info);
    p->sel->info = info;
    return w.sd;
}

wi_state_dict_t *wi_priv_pth_extract(struct wi_priv_pth *p,
                                     const wi_priv_pval_t *root,
                                     wi_priv_pth_load_fn load)
{
    if (p->sel && p->sel->mode == WI_SEL_ALL)
        return extract_all(p, root, load);
    const wi_priv_pval_t *d;
    if (!p->sel || root->kind != WI_PK_DICT)
        d = select_dict(p, root); /* or its message: not a dict */
    else if (p->sel->mode == WI_SEL_AUTO)
        d = select_auto(p, root);
    else
        d = select_key(p, root, p->sel->key ? p->sel->key : "");
    return d ? extract_dict(p, d, load) : NULL;
}
