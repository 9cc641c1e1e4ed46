/* Choosing an output format from a file name, and writing in it. */
#include <string.h>
#include <strings.h>

#include <weightinit/checkpoint.h>

#include "write/atomic_file.h"

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

int wi_checkpoint_write(FILE *fp, const char *name, wi_checkpoint_format_t fmt,
                        const wi_state_dict_t *sd, const json_t *metadata,
                        wi_error_t *err)
{
    switch (fmt) {
    case WI_CHECKPOINT_SAFETENSORS:
        return wi_safetensors_write(fp, name, sd, metadata, err);
    case WI_CHECKPOINT_PTH:
        return wi_pth_write(fp, name, sd, err);
    }
    return wi_error_set(err, WI_EINVAL, name, NULL,
                        "unknown checkpoint format %d", (int)fmt);
}

int wi_checkpoint_save(const char *path, wi_checkpoint_format_t fmt,
                       const wi_state_dict_t *sd, const json_t *metadata,
                       wi_error_t *err)
{
    wi_priv_atomic_t f;
    int rc = wi_priv_atomic_open(&f, path, err);
    if (rc < 0)
        return rc;
    rc = wi_checkpoint_write(f.fp, path, fmt, sd, metadata, err);
    if (rc < 0) {
        wi_priv_atomic_abort(&f);
        return rc;
    }
    return wi_priv_atomic_commit(&f, err);
}
