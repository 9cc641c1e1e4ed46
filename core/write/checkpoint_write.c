/* Choosing an output format from a file name, and writing in it. */
#include <string.h>
#include <strings.h>

#include <weightinit/checkpoint_write.h>

#include "context/context_internal.h"
#include "rng/rng_internal.h"
#include "write/atomic_file.h"
#include "write/write_internal.h"

#define FORMATS ".safetensors, or .pth, .pt, .bin for torch.save's format"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcasecmp(s + n - k, suffix) == 0 && s[n - k - 1] != '/';
}

int wi_checkpoint_format_from_path(const char *path,
                                   wi_checkpoint_format_t *fmt,
                                   wi_error_t *err)
{
    if (!path)
        return wi_error_set(err, WI_EINVAL, NULL, NULL, "output path is NULL");
    static const struct {
        const char *ext;
        wi_checkpoint_format_t fmt;
    } exts[] = {{".safetensors", WI_CHECKPOINT_SAFETENSORS},
                {".pth", WI_CHECKPOINT_PTH},
                {".pt", WI_CHECKPOINT_PTH},
                {".bin", WI_CHECKPOINT_PTH}};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (ends_with(path, exts[i].ext)) {
            if (fmt)
                *fmt = exts[i].fmt;
            return 0;
        }
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return wi_error_set(err, WI_EINVAL, path, NULL,
                        "cannot tell the output format from %s%s%s; "
                        "use " FORMATS,
                        dot ? "the extension '" : "a name without an extension",
                        dot ? dot : "", dot ? "'" : "");
}

void wi_priv_progress_start(wi_priv_progress_t *pr, const wi_context_t *ctx,
                            const char *name, const wi_state_dict_t *sd)
{
    memset(pr, 0, sizeof *pr);
    pr->threads = ctx && ctx->generator ? ctx->generator->threads : -1;
    pr->headers_only = ctx && ctx->headers_only;
    if (!ctx || !ctx->task_progress)
        return;
    pr->ctx = ctx;
    pr->p.task = WI_TASK_WRITE;
    pr->p.name = name ? name : "";
    pr->p.tensors_total = wi_state_dict_size(sd);
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        pr->p.bytes_total += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
        pr->p.params_total += (uint64_t)wi_tensor_numel(wi_state_dict_tensor(sd, i));
    }
    wi_context_task_progress(ctx, &pr->p);
}

void wi_priv_progress_add(wi_priv_progress_t *pr, uint64_t bytes,
                          uint64_t params, uint64_t tensors)
{
    if (!pr || !pr->ctx)
        return;
    pr->p.bytes_done += bytes;
    pr->p.params_done += params;
    pr->p.tensors_done += tensors;
    wi_context_task_progress(pr->ctx, &pr->p);
}

void wi_priv_progress_finish(wi_priv_progress_t *pr)
{
    if (!pr || !pr->ctx)
        return;
    pr->p.finished = 1;
    wi_context_task_progress(pr->ctx, &pr->p);
    pr->ctx = NULL;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "an unknown JSON value";
}

int wi_priv_check_metadata(const json_t *metadata, const char *name, wi_error_t *err)
{
    if (!metadata)
        return 0;
    if (!json_is_object(metadata))
        return wi_error_set(err, WI_EINVAL, name, "__metadata__", "expected an "
                            "object of strings (safetensors' metadata), got %s",
                            json_kind(metadata));
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)metadata, key, v)
        if (!json_is_string(v)) {
            char path[WI_ERROR_PATH_LENGTH];
            snprintf(path, sizeof path, "__metadata__.%s", key);
            return wi_error_set(err, WI_EINVAL, name, path, "expected a string "
                                "(safetensors' metadata maps strings to strings), "
                                "got %s", json_kind(v));
        }
    return 0;
}

int wi_priv_checkpoint_write(FILE *fp, const char *name,
                             wi_checkpoint_format_t fmt,
                             const wi_state_dict_t *sd, const json_t *metadata,
                             wi_priv_progress_t *pr, wi_error_t *err)
{
    int rc = wi_priv_check_metadata(metadata, name, err);
    if (rc < 0)
        return rc;
    switch (fmt) {
    case WI_CHECKPOINT_SAFETENSORS:
        return wi_priv_safetensors_write(fp, name, sd, metadata, pr, err);
    case WI_CHECKPOINT_PTH:
        if (pr && pr->headers_only)
            return wi_error_set(err, WI_EUNSUPPORTED, name, NULL,
                                "torch.save's format cannot be written by "
                                "several processes; write .safetensors");
        return wi_priv_pth_write(fp, name, sd, pr, err);
    }
    return wi_error_set(err, WI_EINVAL, name, NULL,
                        "unknown checkpoint format %d", (int)fmt);
}

int wi_checkpoint_write(FILE *fp, const char *name, wi_checkpoint_format_t fmt,
                        const wi_state_dict_t *sd, const wi_value_t *metadata_v,
                        wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    return wi_priv_checkpoint_write(fp, name, fmt, sd, metadata, NULL, err);
}

int wi_checkpoint_write_progress(FILE *fp, const char *name,
                                 wi_checkpoint_format_t fmt,
                                 const wi_state_dict_t *sd,
                                 const wi_value_t *metadata_v,
                                 const wi_context_t *ctx, wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    wi_priv_progress_t pr;
    wi_priv_progress_start(&pr, ctx, name, sd);
    int rc = wi_priv_checkpoint_write(fp, name, fmt, sd, metadata, &pr, err);
    wi_priv_progress_finish(&pr);
    return rc;
}

int wi_checkpoint_save(const char *path, wi_checkpoint_format_t fmt,
                       const wi_state_dict_t *sd, const wi_value_t *metadata_v,
                       wi_error_t *err)
{
    const json_t *metadata = (const json_t *)metadata_v;
    wi_priv_atomic_t f;
    int rc = wi_priv_atomic_open(&f, path, err);
    if (rc < 0)
        return rc;
    rc = wi_checkpoint_write(f.fp, path, fmt, sd, (const wi_value_t *)metadata, err);
    if (rc < 0) {
        wi_priv_atomic_abort(&f);
        return rc;
    }
    return wi_priv_atomic_commit(&f, err);
}
