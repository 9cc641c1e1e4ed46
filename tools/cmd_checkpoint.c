/* weightinit inspect FILE... [--json] and weightinit convert IN OUT [--key K]. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define INSPECT_USAGE                                                         \
    "usage: weightinit inspect FILE... [--json]\n"                            \
    "  FILE: .safetensors, torch.save .pth/.pt/.bin, or a sharded "           \
    "checkpoint's NAME.index.json; - = standard input"
#define CONVERT_USAGE                                                         \
    "usage: weightinit convert IN OUT [--key K] [--max-shard-size SIZE]\n"    \
    "                          [--log-level L | -q | -v]\n"                   \
    "  IN: - = standard input; OUT: - = standard output (not a terminal)\n"  \
    "  OUT: .safetensors, or .pth/.pt/.bin (torch.save's format)\n"           \
    "  --max-shard-size SIZE: split OUT as Hugging Face does (5GB, 500MB,\n"  \
    "  2GiB, bytes): OUT's NAME-00001-of-0000N.EXT ... and OUT.index.json\n"  \
    "  --key K: the dict of IN to export (\"model\", \"state_dict\", "        \
    "\"model.ema\"; '' = the top level).\n"                                   \
    "  Default: state_dict if present, else the one top-level dict of "       \
    "tensors, else the top level"

struct stats {
    double mean, std, min, max;
};

/* mean, unbiased std (torch.std), min and max over the values as float. */
static int tensor_stats(const wi_tensor_t *t, struct stats *s, wi_error_t *err)
{
    wi_tensor_t *f = wi_tensor_new(WI_DTYPE_F32, wi_tensor_ndim(t), wi_tensor_shape(t), err);
    if (!f || wi_tensor_copy_(f, t, err) < 0) {
        wi_tensor_free(f);
        return -1;
    }
    const float *v = wi_tensor_data(f);
    int64_t n = wi_tensor_numel(f);
    double sum = 0, sq = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        sum += v[i];
        s->min = v[i] < s->min ? v[i] : s->min;
        s->max = v[i] > s->max ? v[i] : s->max;
    }
    s->mean = n ? sum / (double)n : NAN;
    for (int64_t i = 0; i < n; i++)
        sq += (v[i] - s->mean) * (v[i] - s->mean);
    s->std = n > 1 ? sqrt(sq / (double)(n - 1)) : NAN;
    if (n == 0)
        s->min = s->max = NAN;
    wi_tensor_free(f);
    return 0;
}

/* parameters and buffers count elements, as torch's
 * sum(p.numel() for p in model.parameters()) and model.buffers() do. */
struct totals {
    uint64_t tensors, parameters, buffers, bytes;
};

static json_t *number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *totals_json(const struct totals *t)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "tensors", (json_int_t)t->tensors,
                     "parameters", (json_int_t)t->parameters, "buffers",
                     (json_int_t)t->buffers, "bytes", (json_int_t)t->bytes);
}

static void print_totals(const char *lead, const struct totals *t)
{
    printf("%s%llu tensors, %llu parameters, %llu buffer elements, %llu bytes", lead,
           (unsigned long long)t->tensors, (unsigned long long)t->parameters,
           (unsigned long long)t->buffers, (unsigned long long)t->bytes);
}

/* Whether a state-dict entry is a buffer (torch's named_buffers) rather
 * than a parameter.  A file weightinit init wrote says which are
 * parameters (the metadata's provenance lists them, prov); any other file
 * does not, and the answer is what a PyTorch user expects of the state
 * dict: an integer or bool tensor cannot be an nn.Parameter (only
 * floating tensors require grad: num_batches_tracked, position_ids,
 * relative_position_index, GPT-2's attention mask), and the float
 * buffers of the common layers are known by name: the norm layers'
 * running statistics, rotary embeddings' inv_freq, GPT-2's masked_bias. */
static int is_buffer(const char *name, const wi_tensor_t *t, const json_t *prov)
{
    static const char *const float_buffers[] = {"running_mean", "running_var",
                                                 "inv_freq", "masked_bias"};
    if (json_is_object(prov))
        return json_object_get(prov, name) == NULL;
    switch (wi_tensor_dtype(t)) {
    case WI_DTYPE_F32: case WI_DTYPE_F64: case WI_DTYPE_F16: case WI_DTYPE_BF16:
        break;
    default:
        return 1;
    }
    const char *dot = strrchr(name, '.'), *last = dot ? dot + 1 : name;
    for (size_t i = 0; i < sizeof float_buffers / sizeof *float_buffers; i++)
        if (strcmp(last, float_buffers[i]) == 0)
            return 1;
    return 0;
}

/* "int 3", "a dict, 9 items, 9 tensors", "object argparse.Namespace". */
static void brief(const json_t *node, char *buf, size_t size)
{
    const char *kind = json_string_value(json_object_get(node, "kind"));
    json_t *v = json_object_get(node, "value"), *items = json_object_get(node, "items");
    json_t *tensors = json_object_get(node, "tensors"), *cls = json_object_get(node, "class");
    size_t n = (size_t)snprintf(buf, size, "%s", kind ? kind : "?");
    if (json_is_integer(v))
        snprintf(buf + n, size - n, " %lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf + n, size - n, " %g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf + n, size - n, " '%s'", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(buf + n, size - n, " %s", json_is_true(v) ? "True" : "False");
    else if (cls)
        snprintf(buf + n, size - n, " %s", json_string_value(cls));
    else if (items) {
        long long k = json_integer_value(items), t = json_integer_value(tensors);
        n += (size_t)snprintf(buf + n, size - n, ", %lld item%s", k, k == 1 ? "" : "s");
        if (t && n < size)
            snprintf(buf + n, size - n, ", %lld tensor%s", t, t == 1 ? "" : "s");
    }
}

/* weightinit init's record of what wrote each tensor (metadata
 * "weightinit.provenance"), one line per tensor. */
static void print_provenance(const json_t *prov)
{
    const char *name;
    json_t *e;
    if (!json_is_object(prov))
        return;
    printf("  written by (weightinit init):\n");
    json_object_foreach((json_t *)prov, name, e) {
        const char *w = json_string_value(json_object_get(e, "writer")),
                   *src = json_string_value(json_object_get(e, "source"));
        cli_printf(stdout, "    %-38s %s (%s)\n", name, w ? w : "?", src ? src : "?");
    }
}

/* The file's structure and metadata; the provenance (a new reference)
 * goes to *prov. */
static void print_header(const char *file, const json_t *info, json_t *prov)
{
    json_t *items = json_object_get(info, "items"), *meta = json_object_get(info, "metadata");
    char of[40] = "";
    if (items)
        snprintf(of, sizeof of, " of %lld items", (long long)json_integer_value(items));
    cli_printf(stdout, "%s: %s; top level: %s%s\n", file,
               json_string_value(json_object_get(info, "format")),
               json_string_value(json_object_get(info, "kind")), of);
    size_t i;
    json_t *node, *shards = json_object_get(info, "shards");
    json_array_foreach(shards, i, node) cli_printf(stdout, "  shard %s\n", json_string_value(node));
    json_array_foreach(json_object_get(info, "structure"), i, node) {
        const char *path = json_string_value(json_object_get(node, "path"));
        int depth = 0;
        for (const char *p = path; *p; p++)
            depth += *p == '.';
        char b[200];
        brief(node, b, sizeof b);
        cli_printf(stdout, "  %*s%-*s %s\n", 2 * depth, "", 38 - 2 * depth, path, b);
    }
    json_t *shown = json_deep_copy(meta);
    if (prov && shown)
        json_object_del(shown, CLI_PROVENANCE_KEY);
    if (json_object_size(shown)) {
        char *text = json_dumps(shown, JSON_COMPACT | JSON_SORT_KEYS);
        cli_printf(stdout, "  %s %s\n", json_string_value(json_object_get(info, "format")) &&
                   strcmp(json_string_value(json_object_get(info, "format")), "safetensors") == 0
                       ? "__metadata__" : "metadata", text ? text : "?");
        free(text);
    }
    json_decref(shown);
    print_provenance(prov);
}

/* weightinit init's record of the parameters it wrote (new reference;
 * NULL in any other file). */
static json_t *file_provenance(const json_t *info)
{
    const char *text = json_string_value(
        json_object_get(json_object_get(info, "metadata"), CLI_PROVENANCE_KEY));
    json_t *prov = text ? json_loads(text, 0, NULL) : NULL;
    if (prov && !json_is_object(prov)) {
        json_decref(prov);
        prov = NULL;
    }
    return prov;
}

/* An input argument: a path, or "-" (standard input) copied into a
 * temporary file first, since the readers take a regular file (they
 * read it whole, as torch.load does).  The temporary is an output of a
 * group that is never committed: a signal or the end of the run removes
 * it. */
struct input {
    const char *arg, *path, *name; /* name: in messages */
    wi_output_group_t *g;
};

/* The standard input's bytes in a temporary file in $TMPDIR: 0, or the
 * exit status after the message. */
static int input_buffer_stdin(struct input *in)
{
    wi_error_t err;
    char where[600];
    const char *tmpdir = getenv("TMPDIR");
    if (isatty(STDIN_FILENO)) {
        cli_errorf("-: standard input is a terminal; pipe a checkpoint into it "
                   "(weightinit inspect - < FILE) or name the file");
        return EXIT_BAD_INPUT;
    }
    snprintf(where, sizeof where, "%s/weightinit-stdin", tmpdir && *tmpdir ? tmpdir : "/tmp");
    FILE *fp = (in->g = wi_output_group_new()) ? wi_output_group_open(in->g, where, &err)
                                               : NULL;
    if (!fp)
        return in->g ? cli_fail(&err, CLI_STAGE_INPUT) : (cli_errorf("out of memory"), 1);
    static char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, fp) != n)
            break;
    if (ferror(stdin)) {
        cli_errorf("standard input: cannot read it: %s", strerror(errno));
        return EXIT_INIT_FAILED;
    }
    if (n > 0 || fflush(fp) != 0) {
        cli_errorf("standard input: cannot keep a copy in %s (set TMPDIR to a folder "
                   "with room): %s", where, strerror(errno));
        return EXIT_INIT_FAILED;
    }
    in->path = wi_output_group_temp(in->g, 0);
    return 0;
}

static int input_open(struct input *in, const char *arg)
{
    *in = (struct input){arg, arg, arg, NULL};
    if (strcmp(arg, "-") != 0)
        return 0;
    in->name = "standard input";
    return input_buffer_stdin(in);
}

/* Messages about the temporary name the standard input. */
static void input_error(const struct input *in, wi_error_t *err)
{
    if (in->path == in->arg)
        return;
    if (strcmp(err->source, in->path) == 0)
        snprintf(err->source, sizeof err->source, "%s", in->name);
    char *at = strstr(err->text, in->path);
    if (at) {
        char rest[WI_ERROR_TEXT_LENGTH];
        snprintf(rest, sizeof rest, "%s", at + strlen(in->path));
        snprintf(at, sizeof err->text - (size_t)(at - err->text), "%s%s", in->name, rest);
    }
}

static void input_close(struct input *in)
{
    wi_output_group_free(in->g);
    in->g = NULL;
}

/* One file: its structure and tensors, printed or appended to files. */
static int inspect_one(const char *arg, int as_json, json_t *files, struct totals *all)
{
    wi_error_t err;
    json_t *info = NULL;
    struct input in;
    int status = input_open(&in, arg);
    if (status != 0) {
        input_close(&in);
        return status;
    }
    const char *file = in.name;
    wi_state_dict_t *sd = wi_checkpoint_load_all(in.path, (wi_value_t **)&info, &err);
    if (!sd)
        input_error(&in, &err);
    input_close(&in);
    if (!sd) {
        if (as_json) {
            char line[1200];
            json_array_append_new(files, json_pack("{s:s, s:s}", "file", arg, "error",
                                                   wi_error_format(&err, line, sizeof line)));
        }
        return cli_fail(&err, CLI_STAGE_INPUT);
    }
    json_t *tensors = json_array(), *prov = file_provenance(info);
    struct totals tot = {0};
    if (!as_json) {
        print_header(file, info, prov);
        if (wi_state_dict_size(sd))
            printf("  %-40s %-5s %-18s %12s %12s %12s %12s\n", "name", "dtype", "shape",
                   "mean", "std", "min", "max");
    }
    for (size_t i = 0; i < wi_state_dict_size(sd); i++) {
        const wi_tensor_t *t = wi_state_dict_tensor(sd, i);
        char shape[256];
        struct stats s;
        wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
        if (tensor_stats(t, &s, &err) < 0) {
            status = cli_fail(&err, CLI_STAGE_WORK);
            break;
        }
        const char *name = wi_state_dict_name(sd, i), *dt = wi_dtype_name(wi_tensor_dtype(t));
        int buffer = is_buffer(name, t, prov);
        tot.tensors++;
        *(buffer ? &tot.buffers : &tot.parameters) += (uint64_t)wi_tensor_numel(t);
        tot.bytes += wi_tensor_nbytes(t);
        if (as_json) {
            json_t *dims = json_array();
            for (int d = 0; d < wi_tensor_ndim(t); d++)
                json_array_append_new(dims, json_integer(wi_tensor_shape(t)[d]));
            json_array_append_new(tensors, json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:o}",
                "name", name, "kind", buffer ? "buffer" : "parameter", "dtype", dt,
                "shape", dims, "numel", (json_int_t)wi_tensor_numel(t),
                "bytes", (json_int_t)wi_tensor_nbytes(t), "mean", number(s.mean),
                "std", number(s.std), "min", number(s.min), "max", number(s.max)));
        } else if (wi_tensor_numel(t) == 0) {
            cli_printf(stdout, "  %-40s %-5s %-18s %12s\n", name, dt, shape, "(empty)");
        } else {
            cli_printf(stdout, "  %-40s %-5s %-18s %12.6g %12.6g %12.6g %12.6g\n", name, dt,
                       shape, s.mean, s.std, s.min, s.max);
        }
    }
    if (status == 0 && tot.tensors == 0) {
        char keys[300] = "";
        size_t n = 0, k;
        json_t *node;
        json_array_foreach(json_object_get(info, "structure"), k, node) {
            const char *path = json_string_value(json_object_get(node, "path"));
            if (!strchr(path, '.') && n < sizeof keys)
                n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s", n ? ", " : "", path);
        }
        cli_errorf("%s: the checkpoint holds no tensors (top level: %s%s%s)", file,
                   json_string_value(json_object_get(info, "kind")),
                   n ? " of " : ", empty", keys);
        status = EXIT_BAD_INPUT;
    }
    if (as_json) {
        json_object_set_new(info, "file", json_string(arg));
        json_object_set_new(info, "tensors", tensors);
        json_object_set_new(info, "totals", totals_json(&tot));
        json_array_append(files, info);
    } else {
        json_decref(tensors);
        print_totals("  ", &tot);
        putchar('\n');
    }
    all->tensors += tot.tensors;
    all->parameters += tot.parameters;
    all->buffers += tot.buffers;
    all->bytes += tot.bytes;
    json_decref(prov);
    json_decref(info);
    wi_state_dict_free(sd);
    return status;
}

int cmd_inspect(int argc, char **argv)
{
    int as_json = 0, nfiles = 0, stdin_files = 0, status = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts(INSPECT_USAGE);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_errorf("inspect: unknown option '%s' (%s)", argv[i], INSPECT_USAGE),
                   EXIT_BAD_INPUT;
        else if (cli_check_path("inspect: FILE", argv[i]) != 0)
            return EXIT_BAD_INPUT;
        else if (strcmp(argv[i], "-") == 0 && stdin_files++)
            return cli_errorf("inspect: - (standard input) can be read once"), EXIT_BAD_INPUT;
        else
            nfiles++;
    }
    if (nfiles == 0) {
        cli_errorf("inspect: expected at least one FILE (usage: weightinit inspect FILE... [--json])");
        return EXIT_BAD_INPUT;
    }
    json_t *files = json_array();
    struct totals all = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            continue;
        int rc = inspect_one(argv[i], as_json, files, &all);
        status = rc > status ? rc : status;
    }
    if (as_json) {
        json_t *doc = json_pack("{s:O, s:o}", "files", files, "totals", totals_json(&all));
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(1)) < 0)
            status = EXIT_INIT_FAILED;
        putchar('\n');
        json_decref(doc);
    } else if (nfiles > 1) {
        print_totals("total: ", &all);
        printf(" in %d files\n", nfiles);
    }
    json_decref(files);
    return status;
}

static const char *shards_text(size_t n, char *buf, size_t size)
{
    snprintf(buf, size, "%zu shards", n);
    return buf;
}

/* Where a file's tensors are, for "nothing to convert" messages. */
static void where_tensors(const char *in, char *buf, size_t size)
{
    wi_error_t err;
    json_t *info = NULL;
    wi_state_dict_t *all = wi_checkpoint_load_all(in, (wi_value_t **)&info, &err);
    if (all && wi_state_dict_size(all))
        snprintf(buf, size, "; the file's tensors are elsewhere (e.g. '%s'): choose "
                 "their dict with --key", wi_state_dict_name(all, 0));
    else {
        size_t n = (size_t)snprintf(buf, size, "; the file holds no tensors at all%s",
                                    info ? " (its top level: " : "");
        size_t k, first = 1;
        json_t *node;
        json_array_foreach(json_object_get(info, "structure"), k, node) {
            const char *path = json_string_value(json_object_get(node, "path"));
            if (!strchr(path, '.') && n < size)
                n += (size_t)snprintf(buf + n, size - n, "%s%s", first ? "" : ", ", path);
            first = first && strchr(path, '.');
        }
        if (info && n < size)
            snprintf(buf + n, size - n, "%s)", first ? "empty" : "");
    }
    json_decref(info);
    wi_state_dict_free(all);
}

struct convert_out {
    const char *path;
    wi_checkpoint_format_t fmt;
    uint64_t max_shard; /* 0: one file through fp */
    wi_output_group_t *g;
    FILE *fp;
};

/* OUT: one file through fp, or the shards and their index opened in g
 * now; progress and warnings through a context of its own. */
static int write_out(const struct convert_out *o, const wi_state_dict_t *sd,
                     const json_t *meta, size_t *n_files, wi_error_t *err)
{
    wi_context_t *ctx = wi_context_new(NULL);
    if (!ctx)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    wi_context_set_log(ctx, cli_log, NULL);
    if (cli_show_progress())
        wi_context_set_task_progress(ctx, cli_task_progress, NULL);
    /* A file (its stream opened early is found in o->g) gets the checks
     * of a save into a folder: stale shards and indexes. */
    int rc = o->max_shard || strcmp(o->path, "-") != 0
                 ? wi_checkpoint_write_sharded(o->g, o->path, o->fmt, sd, (const wi_value_t *)meta,
                                               o->max_shard, ctx, n_files, err)
                 : wi_checkpoint_write_progress(o->fp, cli_output_name(o->path), o->fmt,
                                                sd, (const wi_value_t *)meta, ctx, err);
    wi_context_free(ctx);
    return rc;
}

/* The library names the dict to choose as "the key"; on the command
 * line that is --key.  The readers fail a dict selection (an unknown
 * dict, several candidates, not a dict) with these two codes only. */
static void key_hint(wi_error_t *err)
{
    size_t n = strlen(err->text);
    if ((err->code == WI_ENOTFOUND || err->code == WI_EINVAL) &&
        n + 40 < sizeof err->text)
        snprintf(err->text + n, sizeof err->text - n, " (--key KEY chooses the dict)");
}

/* Reads IN's dict, writes OUT (outputs of o->g) and commits o->g;
 * returns the exit status. */
static int convert(const struct input *input, const char *key, const struct convert_out *o)
{
    const char *out = o->path, *in = input->path;
    wi_error_t err;
    char *chosen = NULL;
    wi_state_dict_t *sd = wi_checkpoint_load_key(in, key, &chosen, &err);
    if (!sd) {
        input_error(input, &err);
        key_hint(&err);
        return cli_fail(&err, CLI_STAGE_INPUT);
    }
    int status = 0;
    if (wi_state_dict_size(sd) == 0) {
        char hint[700];
        where_tensors(in, hint, sizeof hint);
        cli_errorf("%s: no tensors to convert %s%s%s%s", input->name,
                   chosen[0] ? "in checkpoint['" : "at ",
                   chosen[0] ? chosen : "the top level", chosen[0] ? "']" : "", hint);
        status = EXIT_BAD_INPUT;
    } else {
        const char *base = strrchr(input->name, '/');
        json_t *meta = json_pack("{s:s, s:s, s:s}", "format", "pt", "converted_from",
                                 base ? base + 1 : input->name, "weightinit_version",
                                 wi_version());
        if (meta && chosen[0])
            json_object_set_new(meta, "converted_key", json_string(chosen));
        size_t files = 1;
        /* safetensors holds a tensor that several names share once
         * (save_model's rule, as init does for a tie). */
        wi_state_dict_t *once = NULL;
        int rc = !meta ? wi_error_set(&err, WI_ENOMEM, NULL, NULL, "out of memory")
                 : o->fmt == WI_CHECKPOINT_SAFETENSORS && wi_state_dict_has_duplicates(sd) != 0 &&
                         !(once = wi_state_dict_remove_duplicates(sd, (wi_value_t *)meta, &err))
                     ? -1
                     : 0;
        const wi_state_dict_t *w = once ? once : sd;
        if (rc == 0)
            rc = write_out(o, w, meta, &files, &err);
        if (rc == 0)
            rc = cli_commit(o->g, 1, &err);
        uint64_t bytes = 0;
        for (size_t i = 0; i < wi_state_dict_size(w); i++)
            bytes += wi_tensor_nbytes(wi_state_dict_tensor(w, i));
        char size[32], took[32], shards[32];
        if (rc < 0)
            status = cli_fail(&err, CLI_STAGE_OUTPUT);
        else if (cli_log_level <= WI_LOG_WARNING)
            cli_printf(stderr, "weightinit: wrote %s%s%s (%zu tensor%s, %s) in %s\n",
                       cli_output_name(out), files > 1 ? ".index.json and " : "",
                       files > 1 ? shards_text(files, shards, sizeof shards) : "",
                       wi_state_dict_size(w),
                       wi_state_dict_size(w) == 1 ? "" : "s",
                       cli_format_bytes(bytes, size, sizeof size),
                       cli_elapsed(took, sizeof took));
        wi_state_dict_free(once);
        json_decref(meta);
    }
    free(chosen);
    wi_state_dict_free(sd);
    return status;
}

int cmd_convert(int argc, char **argv)
{
    const char *key = NULL, *pos[2] = {NULL, NULL}, *max_shard = NULL;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts(CONVERT_USAGE);
            return 0;
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key = argv[++i];
        } else if (strncmp(argv[i], "--key=", 6) == 0) {
            key = argv[i] + 6;
        } else if (strcmp(argv[i], "--max-shard-size") == 0 && i + 1 < argc) {
            max_shard = argv[++i];
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            cli_log_level = WI_LOG_ERROR;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            cli_log_level = WI_LOG_DEBUG;
        } else if ((strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) ||
                   strncmp(argv[i], "--log-level=", 12) == 0) {
            if (cli_set_log_level(argv[i][11] ? argv[i] + 12 : argv[++i]) < 0)
                return EXIT_BAD_INPUT;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_errorf("convert: unknown option or missing value '%s' (usage: weightinit "
                       "convert IN OUT [--key K])", argv[i]);
            return EXIT_BAD_INPUT;
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            npos = 3;
        }
    }
    if (npos != 2) {
        cli_errorf("convert: expected 2 arguments (usage: weightinit convert IN OUT [--key K])");
        return EXIT_BAD_INPUT;
    }
    const char *in = pos[0], *out = pos[1];
    if (cli_check_path("convert: IN", in) || cli_check_path("convert: OUT", out))
        return EXIT_BAD_INPUT;
    /* The output first, as init does: OUT may not be IN (convert x.pth
     * x.pth), and nothing reaches OUT before the commit. */
    wi_error_t err;
    struct convert_out o = {.path = out, .g = wi_output_group_new()};
    struct input input = {in, in, in, NULL};
    int status = 0;
    if (max_shard && wi_checkpoint_parse_size(max_shard, &o.max_shard, &err) < 0) {
        cli_errorf("--max-shard-size: %s", err.text);
        wi_output_group_free(o.g);
        return EXIT_BAD_INPUT;
    }
    if (!o.g) {
        cli_errorf("out of memory");
        return EXIT_INIT_FAILED;
    }
    /* Shards are opened once the tensors are known (write_out). */
    if (strcmp(in, "-") != 0 && wi_output_group_add_input(o.g, in, &err) < 0)
        status = cli_fail(&err, CLI_STAGE_OUTPUT);
    else if (o.max_shard && (status = cli_check_sharded_output(out, "OUT")) != 0)
        ; /* status set, message printed */
    else if (!o.max_shard && !(o.fp = cli_open_output(o.g, out, 1, &status)))
        ; /* status set, message printed */
    else if (cli_output_format(out, &o.fmt, &err) < 0)
        status = cli_fail(&err, CLI_STAGE_ARGS);
    else if ((status = input_open(&input, in)) == 0)
        status = convert(&input, key, &o);
    input_close(&input);
    wi_output_group_free(o.g);
    return status;
}
