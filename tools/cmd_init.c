/* weightinit init MODEL.json [options], and weightinit plan, the same run
 * that prints what init would write instead of writing it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_mpi.h"

static const char init_usage[] =
    "usage: weightinit init MODEL.json [options]\n"
    "\n"
    "  -o, --output FILE        write the state dict in the format its extension\n"
    "                           names: .safetensors, or .pth/.pt/.bin (torch.save);\n"
    "                           - = standard output (not a terminal), a FIFO or a\n"
    "                           character device get safetensors\n"
    "      --max-shard-size SIZE  split -o DIR/NAME.EXT as Hugging Face does:\n"
    "                           DIR/NAME-00001-of-0000N.EXT ... and\n"
    "                           DIR/NAME.EXT.index.json, each file at most SIZE\n"
    "                           (5GB, 500MB, 2GiB, bytes) unless one tensor is\n"
    "                           larger; a model within SIZE stays one file\n"
    "      --init-cfg FILE      JSON object or list replacing the root's init_cfg\n"
    "      --dtype T            f32 (default), bf16 or f16: float tensors are\n"
    "                           computed in float32, then rounded as torch's\n"
    "                           tensor.to(dtype); integer buffers stay int64\n"
    "      --seed N             generator seed in [-2^63, 2^64) (default 0)\n"
    "      --rng-profile P      the PyTorch CPU build to reproduce bit for bit:\n"
    "                           torch2.12-avx2 (default): PyPI torch 2.12 and\n"
    "                           later (pip install torch) on an AVX2+FMA CPU;\n"
    "                           torch2.13-default, torch2.12-default: the same\n"
    "                           under ATEN_CPU_CAPABILITY=default (2.13+, 2.12);\n"
    "                           torch2.0-avx2, torch2.0-default: PyPI torch\n"
    "                           2.0-2.11; avx2, default: Debian's torch 1.13.\n"
    "                           torch 2.x's erfinv (MMEngine's TruncNormal, and\n"
    "                           torch's trunc_normal_ up to 2.11) is MKL's: 1 ulp\n"
    "                           off on 2.5e-4 of those values\n"
    "                           (docs/torch-versions.md)\n"
    "      --threads N          threads for large tensors (default: all cores, or\n"
    "                           WEIGHTINIT_THREADS); never changes the values\n"
    "      --no-fsync           commit without waiting for the disk (as torch.save):\n"
    "                           faster; the rename stays atomic, but after a crash\n"
    "                           or power loss a file may be empty or partial\n"
    "      --report FILE        write the per-parameter report as JSON; - = stdout\n"
    "      --strict             init_cfg rules that match or do nothing (a `layer`\n"
    "                           or `names` matching nothing, an entry without\n"
    "                           effect, an init_cfg never applied) are errors\n"
    "                           (exit 2, nothing written) instead of warnings\n"
    "      --plugin PATH        load this plugin after the built-in ones (repeatable)\n"
    "      --log-level L        error, warning (default), info or debug: warning\n"
    "                           prints warnings, the progress bar and the summary\n"
    "                           line; info adds MMEngine's per-parameter records\n"
    "  -q, --quiet              --log-level error: only errors\n"
    "  -v, --verbose            --log-level debug\n"
    "  -h, --help               this help\n"
    "\n"
    "Outputs are written to hidden temporaries (.NAME.wi-tmp-*) renamed together\n"
    "only when all are complete; an output that is an input or the other output\n"
    "is refused; a symlink's target is replaced, a FIFO or device written to.\n"
    "On a terminal (without -q) writes and downloads show a progress bar.\n"
    "\n"
    "exit status: 0 success; 1 a failure while working (I/O, a download, memory,\n"
    "a plugin failing at run time); 2 a bad input file or command line\n";

struct init_opts {
    const char *model, *output, *init_cfg, *report;
    char seed_text[24]; /* canonical decimal, as given (negative stays) */
    const char *plugins[64];
    int n_plugins;
    uint64_t seed;
    wi_rng_profile_t profile;
    wi_checkpoint_format_t format; /* of -o */
    uint64_t max_shard;            /* --max-shard-size; 0 = one file */
    int threads;                   /* 0 = all cores */
    int no_fsync;                  /* --no-fsync */
    wi_dtype_t dtype;              /* --dtype: F32, F16 or BF16 */
    int strict;                    /* --strict: diagnostics are errors */
    int plan, json;                /* weightinit plan [--json] */
};

/* --dtype's names, and torch's name for each (the metadata's "dtype"). */
static const struct {
    const char *cli, *torch;
    wi_dtype_t dtype;
} out_dtypes[] = {{"f32", "float32", WI_DTYPE_F32},
                  {"bf16", "bfloat16", WI_DTYPE_BF16},
                  {"f16", "float16", WI_DTYPE_F16}};

static const char *torch_dtype_name(wi_dtype_t dt)
{
    for (size_t i = 0; i < sizeof out_dtypes / sizeof *out_dtypes; i++)
        if (out_dtypes[i].dtype == dt)
            return out_dtypes[i].torch;
    return "float32";
}

static const char plan_usage[] =
    "usage: weightinit plan MODEL.json [--init-cfg FILE] [--json] [--strict]\n"
    "\n"
    "What init would write, computing no value (instant for any size): every\n"
    "parameter with its shape, its writes in order (construction, each init_cfg\n"
    "entry by JSON path, init_weights), the write that gives its values and the\n"
    "draws taken and skipped; then the rules that matched nothing.\n"
    "\n"
    "      --init-cfg FILE      as for init\n"
    "      --seed N, --rng-profile P, --plugin PATH   as for init\n"
    "      --json               the plan as JSON on standard output (docs/plan.md)\n"
    "      --strict             diagnostics are errors (exit 2)\n"
    "  --log-level L, -q, -v, -h   as for init\n";

/* Options of one command only. */
static int plan_options_bad(const struct init_opts *o)
{
    const char *bad = NULL;
    if (o->plan)
        bad = o->output ? "-o" : o->report ? "--report" : o->max_shard ? "--max-shard-size"
              : o->dtype != WI_DTYPE_F32 ? "--dtype" : o->no_fsync ? "--no-fsync" : NULL;
    else if (o->json)
        bad = "--json";
    if (bad)
        cli_errorf(o->plan ? "plan writes no file: %s is an option of init"
                           : "%s is an option of plan (weightinit plan --help)",
                   bad);
    return bad != NULL;
}

/* --threads / WEIGHTINIT_THREADS: 0 (all cores) to 256. */
static int parse_threads(const char *what, const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 256 || !(*s >= '0' && *s <= '9')) {
        cli_errorf("%s: expected a thread count from 0 (all cores) to 256, got '%s'",
                   what, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* PyTorch accepts any Python int in [-2^63, 2^64): negatives are taken as
 * two's complement.  The text must be a plain decimal integer (an optional
 * '-', then digits; leading zeros as Python's int()), never what strtoull
 * also takes (leading space, '+', a '-' it would negate modulo 2^64).
 * *canon gets the number as Python prints it, for the metadata. */
static int parse_seed(const char *s, uint64_t *out, char *canon, size_t size)
{
    int neg = s[0] == '-';
    const char *d = s + neg;
    uint64_t v = 0;
    if (!*d)
        return -1;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        unsigned digit = (unsigned)(*d - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return -1;
    *out = neg ? (uint64_t)0 - v : v;
    snprintf(canon, size, "%s%" PRIu64, neg && v ? "-" : "", v);
    return 0;
}

/* arg cut to fit a message (cli_errorf escapes what a terminal obeys). */
static const char *shortened(const char *arg, char *buf, size_t size)
{
    size_t n = strlen(arg);
    if (n < size)
        return arg;
    snprintf(buf, size, "%.*s...", (int)(size - 4), arg);
    return buf;
}

static int parse_dtype(const char *s, wi_dtype_t *out)
{
    for (size_t i = 0; i < sizeof out_dtypes / sizeof *out_dtypes; i++)
        if (strcmp(s, out_dtypes[i].cli) == 0) {
            *out = out_dtypes[i].dtype;
            return 0;
        }
    char shown[80];
    cli_errorf("--dtype: expected f32, bf16 or f16, got '%s'",
               shortened(s, shown, sizeof shown));
    return -1;
}

static int parse_args(int argc, char **argv, struct init_opts *o)
{
    enum { OPT_INIT_CFG = 256, OPT_SEED, OPT_PROFILE, OPT_REPORT, OPT_PLUGIN,
           OPT_MAX_SHARD, OPT_THREADS, OPT_NO_FSYNC,
           OPT_DTYPE, OPT_STRICT, OPT_JSON, OPT_LOG_LEVEL };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"init-cfg", required_argument, NULL, OPT_INIT_CFG},
        {"seed", required_argument, NULL, OPT_SEED},
        {"rng-profile", required_argument, NULL, OPT_PROFILE},
        {"report", required_argument, NULL, OPT_REPORT},
        {"plugin", required_argument, NULL, OPT_PLUGIN},
        {"max-shard-size", required_argument, NULL, OPT_MAX_SHARD},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"no-fsync", no_argument, NULL, OPT_NO_FSYNC},
        {"dtype", required_argument, NULL, OPT_DTYPE},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"json", no_argument, NULL, OPT_JSON},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    wi_error_t err;
    int c;
    const char *env = getenv("WEIGHTINIT_THREADS");
    if (env && *env && parse_threads("WEIGHTINIT_THREADS", env, &o->threads) < 0)
        return -1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case OPT_INIT_CFG: o->init_cfg = optarg; break;
        case OPT_REPORT: o->report = optarg; break;
        case OPT_NO_FSYNC: o->no_fsync = 1; break;
        case OPT_STRICT: o->strict = 1; break;
        case OPT_PLUGIN:
            if (o->n_plugins == 64) {
                cli_errorf("--plugin: at most 64 plugins");
                return -1;
            }
            o->plugins[o->n_plugins++] = optarg;
            break;
        case 'q': cli_log_level = WI_LOG_ERROR; break;
        case 'v': cli_log_level = WI_LOG_DEBUG; break;
        case OPT_LOG_LEVEL:
            if (cli_set_log_level(optarg) < 0)
                return -1;
            break;
        case 'h': fputs(o->plan ? plan_usage : init_usage, stdout); return 1;
        case OPT_JSON: o->json = 1; break;
        case OPT_SEED:
            if (parse_seed(optarg, &o->seed, o->seed_text,
                           sizeof o->seed_text) < 0) {
                char shown[80];
                cli_errorf("--seed: expected a decimal integer in [-2^63, "
                           "2^64) (digits, optionally after '-'), got '%s'",
                           shortened(optarg, shown, sizeof shown));
                return -1;
            }
            break;
        case OPT_MAX_SHARD:
            if (wi_checkpoint_parse_size(optarg, &o->max_shard, &err) < 0) {
                cli_errorf("--max-shard-size: %s", err.text);
                return -1;
            }
            break;
        case OPT_THREADS:
            if (parse_threads("--threads", optarg, &o->threads) < 0)
                return -1;
            break;
        case OPT_DTYPE:
            if (parse_dtype(optarg, &o->dtype) < 0)
                return -1;
            break;
        case OPT_PROFILE:
            if (wi_rng_profile_from_name(optarg, &o->profile, &err) < 0) {
                cli_error(&err);
                return -1;
            }
            break;
        case ':':
            cli_errorf("option '%s' needs a value", argv[optind - 1]);
            return -1;
        default:
            cli_errorf("unknown option '%s' (see weightinit init --help)",
                       argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1) {
        cli_errorf(optind >= argc ? "init needs a MODEL.json"
                                  : "init takes one MODEL.json, got extra '%s'",
                   optind < argc ? argv[optind + 1] : "");
        return -1;
    }
    o->model = argv[optind];
    if (plan_options_bad(o))
        return -1;
    /* An empty path (an unset $VAR) would be "can not be found" at best,
     * a file replaced before the run fails at worst. */
    const char *paths[][2] = {{"MODEL.json", o->model}, {"-o", o->output},
                              {"--init-cfg", o->init_cfg}, {"--report", o->report}};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (cli_check_path(paths[i][0], paths[i][1]) != 0)
            return -1;
    for (int i = 0; i < o->n_plugins; i++)
        if (cli_check_path("--plugin", o->plugins[i]) != 0)
            return -1;
    /* A WEIGHTINIT_ISA this CPU cannot honour is a bad setting (exit 2). */
    if (!wi_kernel_isa(&err)) {
        cli_error(&err);
        return -1;
    }
    return 0;
}

/* The --report JSON, written entry by entry as the engine reports (a
 * model of a million parameters never holds the whole array): straight
 * into the report's temporary file, or, for --report -, into memory
 * until everything else succeeded. */
struct report {
    FILE *fp;           /* where entries go; NULL: counted only */
    char *mem;          /* --report -: the open_memstream buffer */
    size_t mem_size, n;
    int is_mem;         /* fp is the memstream */
    int bad;            /* a write failed (errno kept in err_no) */
    int err_no;
};

static int report_open(struct report *r, FILE *out, const char *path)
{
    memset(r, 0, sizeof *r);
    if (!out)
        return 0;
    r->is_mem = out == stdout;
    r->fp = r->is_mem ? open_memstream(&r->mem, &r->mem_size) : out;
    if (!r->fp) {
        cli_errorf("%s: cannot write the report: %s", cli_output_name(path),
                   strerror(errno));
        return -1;
    }
    return 0;
}

/* Appends one entry as json_dumpf(array, JSON_INDENT(1)) lays it out. */
static void report_put(struct report *r, const json_t *entry)
{
    char *text = json_dumps(entry, JSON_INDENT(1));
    if (!text) {
        r->bad = 1;
        return;
    }
    errno = 0;
    fputs(r->n ? ",\n " : "[\n ", r->fp);
    for (const char *c = text; *c; c++)
        if (putc(*c, r->fp) == '\n')
            putc(' ', r->fp);
    free(text);
    if (ferror(r->fp) && !r->bad) {
        r->bad = 1;
        r->err_no = errno;
    }
}

/* One report entry: the MMEngine-layout log record and the JSON entry. */
static int report_entry(const char *name, const wi_tensor_t *t,
                        const char *info, void *ud)
{
    struct report *r = ud;
    char shape[256];
    wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
    if (WI_LOG_INFO >= cli_log_level) {
        /* MMEngine's line breaks stay; those in a name or info do not. */
        char *en = cli_escape(name, 0), *ei = cli_escape(info, 0);
        size_t n = (en ? strlen(en) : 0) + strlen(shape) + (ei ? strlen(ei) : 0) + 64;
        char *msg = en && ei ? malloc(n) : NULL;
        if (msg) {
            snprintf(msg, n, "\n%s - torch.Size(%s): \n%s \n ", en, shape, ei);
            cli_log_escaped(WI_LOG_INFO, msg);
        }
        free(msg);
        free(en);
        free(ei);
    }
    if (r->fp && !r->bad) {
        json_t *dims = json_array();
        for (int i = 0; dims && i < wi_tensor_ndim(t); i++)
            json_array_append_new(dims, json_integer(wi_tensor_shape(t)[i]));
        json_t *e = json_pack("{s:s, s:o, s:s}", "name", name, "shape", dims,
                              "info", info);
        if (e)
            report_put(r, e);
        else
            r->bad = 1;
        json_decref(e);
    }
    r->n++;
    return 0;
}

/* Closes the array; for --report -, prints what was kept. */
static int report_finish(struct report *r, const char *path)
{
    if (!r->fp)
        return 0;
    errno = 0;
    fputs(r->n ? "\n]" : "[]", r->fp);
    int rc = fflush(r->fp) == 0 && !ferror(r->fp) && !r->bad ? 0 : -1;
    if (rc == 0 && r->is_mem && (fwrite(r->mem, 1, r->mem_size, stdout) != r->mem_size ||
                              fputc('\n', stdout) == EOF))
        rc = -1;
    if (rc != 0)
        cli_errorf("%s: cannot write the report: %s", cli_output_name(path),
                   r->err_no ? strerror(r->err_no)
                   : errno ? strerror(errno) : "out of memory");
    return rc;
}

static void report_close(struct report *r)
{
    if (r->is_mem) {
        fclose(r->fp);
        free(r->mem);
    }
}

/* The --init-cfg file: NULL with err (an input: exit 2). */
static json_t *load_init_cfg(const char *path, wi_error_t *err)
{
    return (json_t *)wi_init_cfg_load_file(path, err);
}

struct written {
    size_t tensors, files;
    uint64_t bytes;
};

/* -o: one file through fp, or (--max-shard-size) the shards and their
 * index opened now in g, beside the outputs opened before. */
static int save_output(const struct init_opts *o, wi_module_t *root, FILE *fp,
                       wi_output_group_t *g, wi_context_t *ctx,
                       json_t *provenance, struct written *w, wi_error_t *err)
{
    json_t *meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:O*}", "format", "pt",
                             "seed", o->seed_text[0] ? o->seed_text : "0",
                             "rng_profile", wi_rng_profile_name(o->profile),
                             "weightinit_version", wi_version(),
                             "model", o->model,
                             "dtype", torch_dtype_name(o->dtype),
                             "init_cfg", o->init_cfg,
                             CLI_PROVENANCE_KEY, provenance);
    wi_state_dict_t *sd = wi_module_state_dict(root, err);
    /* model.to(dtype) just before saving (values stay float32 until now);
     * the converted dict borrows sd's integer buffers, so sd lives on. */
    wi_state_dict_t *conv = NULL;
    if (sd && o->dtype != WI_DTYPE_F32 &&
        !(conv = wi_state_dict_to_dtype(sd, o->dtype, o->profile, err))) {
        wi_state_dict_free(sd);
        sd = NULL;
    }
    wi_state_dict_t *all = sd, *once = NULL;
    if (conv)
        sd = conv;
    /* safetensors holds a tied tensor once (save_model's rule); without
     * ties no copy of the dict is made. */
    if (sd && meta && o->format == WI_CHECKPOINT_SAFETENSORS &&
        wi_state_dict_has_duplicates(sd) != 0 &&
        !(sd = once = wi_state_dict_remove_duplicates(sd, (wi_value_t *)meta, err))) {
        wi_state_dict_free(conv);
        wi_state_dict_free(all);
        all = conv = NULL;
    }
    int rc = !sd   ? -1 /* err filled */
             : !meta ? wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory")
             : cli_mpi_size()
                 ? cli_mpi_save(g, o->output, fp, o->format, sd, meta, o->max_shard,
                                ctx, o->threads, !o->no_fsync, &w->files, err)
             /* A file (its stream, opened early, is found in g) gets the
              * checks of a save into a folder: stale shards and indexes. */
             : o->max_shard || strcmp(o->output, "-") != 0
                 ? wi_checkpoint_write_sharded(g, o->output, o->format, sd, (const wi_value_t *)meta,
                                               o->max_shard, ctx, &w->files, err)
                 : wi_checkpoint_write_progress(fp, cli_output_name(o->output),
                                                o->format, sd, (const wi_value_t *)meta, ctx, err);
    for (size_t i = 0; rc == 0 && i < wi_state_dict_size(sd); i++)
        w->bytes += wi_tensor_nbytes(wi_state_dict_tensor(sd, i));
    w->tensors = rc == 0 ? wi_state_dict_size(sd) : 0;
    wi_state_dict_free(once);
    wi_state_dict_free(conv);
    wi_state_dict_free(all);
    json_decref(meta);
    return rc;
}

/* The last line of a run that wrote something (shown at the default
 * level, warning; -q hides it). */
static void print_summary(const struct init_opts *o, const struct written *w,
                          size_t n_params)
{
    char size[32], took[32], out[600] = "";
    if (cli_log_level > WI_LOG_WARNING || (!o->output && !o->report))
        return;
    cli_progress_clear(); /* a download's bar of unknown size */
    if (o->output && w->files > 1)
        snprintf(out, sizeof out, "%s.index.json and %zu shards (%zu tensor%s, "
                 "%s)%s", o->output, w->files, w->tensors, w->tensors == 1 ? "" : "s",
                 cli_format_bytes(w->bytes, size, sizeof size),
                 o->report ? " and " : "");
    else if (o->output)
        snprintf(out, sizeof out, "%s (%zu tensor%s, %s)%s", o->output, w->tensors,
                 w->tensors == 1 ? "" : "s",
                 cli_format_bytes(w->bytes, size, sizeof size),
                 o->report ? " and " : "");
    cli_elapsed(took, sizeof took);
    if (o->report)
        cli_printf(stderr, "weightinit: wrote %s%s (%zu parameter%s) in %s\n", out,
                   o->report, n_params, n_params == 1 ? "" : "s", took);
    else
        cli_printf(stderr, "weightinit: wrote %s in %s\n", out, took);
}

/* Engine errors carry the JSON path of the init_cfg at fault; name the
 * file it came from: the --init-cfg file for the root's, else the model. */
static void locate_cfg_error(wi_error_t *err, const struct init_opts *o)
{
    if (err->source[0])
        return;
    if (o->init_cfg && strncmp(err->path, "init_cfg", 8) == 0) {
        char rest[WI_ERROR_PATH_LENGTH];
        const char *p = err->path + 8;
        snprintf(rest, sizeof rest, "%s", *p == '.' ? p + 1 : p);
        snprintf(err->path, sizeof err->path, "%s", rest);
        snprintf(err->source, sizeof err->source, "%s", o->init_cfg);
    } else {
        snprintf(err->source, sizeof err->source, "%s", o->model);
    }
}

/* Which file a diagnostic's JSON path is in, and the path inside it (the
 * root's init_cfg paths are the --init-cfg file's when one was given). */
static const char *diag_source(const struct init_opts *o, const char *path,
                               const char **inner)
{
    *inner = path;
    if (o->init_cfg && strncmp(path, "init_cfg", 8) == 0) {
        *inner = path[8] == '.' ? path + 9 : path + 8;
        return o->init_cfg;
    }
    return o->model;
}

/* The run's diagnostics: warnings (errors with --strict, then the run
 * fails with exit 2 before anything is written), and one note listing
 * the parameters only construction wrote. */
/* The construction-only notes named in the log line; init keeps no more
 * (plan lists them all). */
#define NOTES_SHOWN 8

static int report_diagnostics(const struct init_opts *o, const wi_diagnostics_t *d)
{
    char names[400] = "";
    size_t n_notes = wi_diagnostics_notes(d), shown = 0, len = 0;
    for (size_t i = 0; i < wi_diagnostics_count(d); i++) {
        const wi_diagnostic_t *x = wi_diagnostics_get(d, i);
        if (x->kind == WI_DIAG_CONSTRUCTION_ONLY) {
            if (shown++ < NOTES_SHOWN && len < sizeof names)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                        len ? ", " : "", x->path);
            continue;
        }
        const char *inner, *src = diag_source(o, x->path, &inner);
        if (o->strict)
            cli_errorf("%s: %s: %s", src, *inner ? inner : "(top level)", x->message);
        else
            cli_logf(WI_LOG_WARNING, "%s: %s: %s", src,
                     *inner ? inner : "(top level)", x->message);
    }
    if (n_notes && !(o->strict && wi_diagnostics_mistakes(d)))
        cli_logf(WI_LOG_INFO, "%zu parameter%s keep%s the value%s "
                       "construction gave (no init_cfg entry or init_weights "
                       "wrote them): %s%s", n_notes, n_notes == 1 ? "" : "s",
                       n_notes == 1 ? "s" : "", n_notes == 1 ? "" : "s", names,
                       n_notes > NOTES_SHOWN ? ", ..." : "");
    return o->strict && wi_diagnostics_mistakes(d) ? EXIT_BAD_INPUT : 0;
}

/* --init-cfg on a plain or built-in root is MMEngine's initialize();
 * otherwise (or with no --init-cfg) init_weights on the root. */
static int initialise(wi_module_t *root, json_t *cfg, wi_context_t *ctx,
                      wi_error_t *err)
{
    if (cfg && !wi_module_is_base_module(root)) {
        int rc = wi_initialize(root, (const wi_value_t *)cfg, ctx, err);
        json_decref(cfg);
        return rc;
    }
    if (cfg)
        wi_module_set_init_cfg_new(root, (wi_value_t *)cfg);
    return wi_module_is_base_module(root) || wi_module_init_weights_fn(root)
               ? wi_init_weights(root, ctx, err)
               : 0;
}

/* The model file, its plugins, then the search path, then the tree:
 * docs/plugins.md's order.  NULL with *status set. */
static wi_module_t *build(const struct init_opts *o, wi_context_t *ctx,
                          json_t **ties, int *status)
{
    wi_error_t err;
    json_t *doc = (json_t *)wi_model_read_file(o->model, &err);
    if (!doc || wi_model_load_plugins((const wi_value_t *)doc, ctx, o->model, &err) < 0) {
        *status = cli_fail(&err, CLI_STAGE_INPUT);
        json_decref(doc);
        return NULL;
    }
    cli_load_plugin_path();
    wi_module_t *root = wi_model_build((const wi_value_t *)doc, ctx, o->model, "", &err);
    if (!root)
        *status = cli_fail(&err, CLI_STAGE_WORK);
    /* The root's "tie" is checked now and applied after initialisation
     * (Hugging Face's order); only that key is kept. */
    json_t *tie = root ? json_object_get(doc, "tie") : NULL;
    if (tie && wi_model_check_ties(root, (const wi_value_t *)doc, o->model, &err) < 0)
        *status = cli_fail(&err, CLI_STAGE_INPUT);
    else if (tie && !(*ties = json_pack("{s:O}", "tie", tie)))
        *status = EXIT_INIT_FAILED, cli_errorf("out of memory");
    if (tie && !*ties) {
        wi_module_free(root);
        root = NULL;
    }
    json_decref(doc);
    return root;
}

/* The outputs of a run, opened before anything is written: refused when
 * one of them is an input or the other output. */
struct outputs {
    wi_output_group_t *group;
    FILE *checkpoint, *report;
};

static int open_outputs(struct init_opts *o, struct outputs *out)
{
    wi_error_t err;
    int status = EXIT_INIT_FAILED;
    if (!(out->group = wi_output_group_new())) {
        cli_errorf("out of memory");
        return status;
    }
    wi_output_group_set_sync(out->group, !o->no_fsync);
    if (o->output && o->report && strcmp(o->output, "-") == 0 &&
        strcmp(o->report, "-") == 0) {
        cli_errorf("-o - and --report -: only one output can go to standard output");
        return EXIT_BAD_INPUT;
    }
    const char *inputs[] = {o->model, o->init_cfg};
    for (int i = 0; i < 2; i++)
        if (inputs[i] && wi_output_group_add_input(out->group, inputs[i], &err) < 0)
            return cli_fail(&err, CLI_STAGE_OUTPUT);
    if (o->max_shard && (status = cli_check_sharded_output(o->output, "-o")) != 0)
        return status;
    /* Shards are opened once their sizes are known (write_outputs). */
    if (o->output && !o->max_shard &&
        !(out->checkpoint = cli_open_output(out->group, o->output, 1, &status)))
        return status;
    if (o->report && !(out->report = cli_open_output(out->group, o->report, 0, &status)))
        return status;
    /* After the same-file checks, which say more; nothing is written yet
     * (freeing the group removes the temporaries). */
    if (o->output && cli_output_format(o->output, &o->format, &err) < 0)
        return cli_fail(&err, CLI_STAGE_ARGS);
    return 0;
}

/* Writes and commits the outputs: all of them or none.  The checkpoints
 * the run read are inputs too, known only now. */
static int write_outputs(const struct init_opts *o, wi_context_t *ctx,
                         wi_module_t *root, struct report *report, json_t *provenance,
                         struct outputs *out)
{
    wi_error_t err;
    struct written w = {0, 1, 0};
    for (size_t i = 0; i < wi_context_input_count(ctx); i++)
        if (wi_output_group_add_input(out->group, wi_context_input(ctx, i), &err) < 0)
            return cli_fail(&err, CLI_STAGE_OUTPUT);
    if (o->output &&
        save_output(o, root, out->checkpoint, out->group, ctx, provenance, &w, &err) < 0)
        return cli_fail(&err, CLI_STAGE_OUTPUT);
    if (report_finish(report, o->report) < 0)
        return EXIT_INIT_FAILED;
    int rc = cli_commit(out->group, !o->no_fsync, &err);
    if (rc < 0)
        return cli_fail(&err, CLI_STAGE_OUTPUT);
    /* Said once the run succeeded: a failing run's news is its error. */
    if (!o->output)
        cli_logf(WI_LOG_WARNING, "no -o: %s; add -o FILE.safetensors (or .pth, .pt, "
                 ".bin) to write them", o->report ? "the weights were not written, only "
                 "the report" : "nothing was written");
    print_summary(o, &w, report->n);
    return 0;
}

/* The report is MMEngine's, logged inside init_weights, so it lists the
 * tied names as they were initialised; Hugging Face ties afterwards. */
static int apply_ties(wi_module_t *root, const json_t *ties,
                      const struct init_opts *o, wi_error_t *err)
{
    int rc = wi_model_apply_ties(root, (const wi_value_t *)ties, o->model, err);
    const char *name;
    json_t *target;
    json_object_foreach(rc == 0 && ties ? json_object_get(ties, "tie") : NULL,
                        name, target)
        cli_logf(WI_LOG_INFO, "tie: %s is now %s (one tensor)", name,
                 json_string_value(target));
    return rc;
}

/* weightinit plan's output: JSON or text on standard output. */
static int print_plan(const struct init_opts *o, cli_plan_t *plan, wi_module_t *root,
                      const json_t *ties, const wi_diagnostics_t *diags)
{
    if (cli_plan_print(plan, root, diags, ties, o->json, stdout) < 0) {
        cli_errorf("out of memory");
        return EXIT_INIT_FAILED;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_errorf("standard output: cannot write the plan");
        return EXIT_INIT_FAILED;
    }
    return 0;
}

/* The provenance text as a JSON string; the text and the plan it was
 * read from are freed at once (each is as long as the model has
 * parameters, and the write comes next). */
static json_t *provenance_json(cli_plan_t **plan, wi_module_t *root,
                               wi_context_t *ctx)
{
    char *text = cli_plan_provenance(*plan, root);
    json_t *j = text ? json_string(text) : NULL;
    free(text);
    wi_context_set_write_observer(ctx, NULL, NULL);
    cli_plan_free(*plan);
    *plan = NULL;
    return j;
}

/* Builds, initialises, reports, ties and saves; returns the exit status. */
static int run(const struct init_opts *o, wi_context_t *ctx, struct outputs *out)
{
    wi_error_t err;
    json_t *cfg = NULL;
    if (o->init_cfg && !(cfg = load_init_cfg(o->init_cfg, &err)))
        return cli_fail(&err, CLI_STAGE_INPUT);
    int status = 0;
    json_t *ties = NULL;
    /* Collected from the build on: a node's construction-time init has
     * rules that may match nothing too. */
    wi_diagnostics_t *diags = wi_diagnostics_new();
    if (diags && !o->plan)
        wi_diagnostics_limit_notes(diags, NOTES_SHOWN);
    wi_context_set_diagnostics(ctx, diags);
    cli_plan_t *plan = o->plan || o->output ? cli_plan_new() : NULL;
    if (plan)
        cli_plan_watch(plan, ctx);
    int oom = !diags || ((o->plan || o->output) && !plan);
    wi_module_t *root = !oom ? build(o, ctx, &ties, &status) : NULL;
    if (oom)
        status = EXIT_INIT_FAILED, cli_errorf("out of memory");
    if (!root) {
        wi_context_set_diagnostics(ctx, NULL);
        wi_context_set_write_observer(ctx, NULL, NULL);
        cli_plan_free(plan);
        wi_diagnostics_free(diags);
        json_decref(cfg);
        return status;
    }
    struct report report;
    if (report_open(&report, out->report, o->report) < 0) {
        wi_context_set_diagnostics(ctx, NULL);
        wi_context_set_write_observer(ctx, NULL, NULL);
        cli_plan_free(plan);
        wi_diagnostics_free(diags);
        json_decref(cfg);
        json_decref(ties);
        wi_module_free(root);
        return EXIT_INIT_FAILED;
    }
    json_t *provenance = NULL;
    if (plan && cli_plan_observe(plan, root, ctx) < 0) {
        json_decref(cfg);
        cli_errorf("out of memory");
        status = EXIT_INIT_FAILED;
    } else if (initialise(root, cfg, ctx, &err) < 0) {
        locate_cfg_error(&err, o);
        status = cli_fail(&err, CLI_STAGE_WORK);
    } else if (wi_diagnostics_check_tree(diags, root, &err) < 0) {
        status = cli_fail(&err, CLI_STAGE_WORK);
    } else if ((status = report_diagnostics(o, diags)) != 0) {
        /* --strict: the errors are printed, nothing is written */
    } else if (o->plan) {
        /* Tied as init ties before writing: one tensor, listed once. */
        status = apply_ties(root, ties, o, &err) < 0
                     ? cli_fail(&err, CLI_STAGE_INPUT)
                     : print_plan(o, plan, root, json_object_get(ties, "tie"), diags);
    } else if (wi_init_report(root, report_entry, &report) != 0) {
        cli_errorf("out of memory");
        status = EXIT_INIT_FAILED;
    } else if (plan && !(provenance = provenance_json(&plan, root, ctx))) {
        cli_errorf("out of memory");
        status = EXIT_INIT_FAILED;
    } else if (apply_ties(root, ties, o, &err) < 0) {
        status = cli_fail(&err, CLI_STAGE_INPUT);
    } else {
        status = write_outputs(o, ctx, root, &report, provenance, out);
    }
    json_decref(provenance);
    wi_context_set_diagnostics(ctx, NULL);
    wi_context_set_write_observer(ctx, NULL, NULL);
    cli_plan_free(plan);
    wi_diagnostics_free(diags);
    report_close(&report);
    json_decref(ties);
    wi_module_free(root);
    return status;
}

/* Under mpirun, ranks but 0 open no outputs (rank 0 names its
 * temporaries to them when writing: cli_mpi.c); only safetensors. */
static int mpi_outputs(struct init_opts *o, struct outputs *out)
{
    wi_error_t err;
    int dash = o->output && strcmp(o->output, "-") == 0;
    int status = dash                 ? 0
                 : cli_mpi_rank() == 0 ? open_outputs(o, out)
                 : !(out->group = wi_output_group_new()) ? EXIT_INIT_FAILED
                 : o->output && cli_output_format(o->output, &o->format, &err) < 0
                     ? cli_fail(&err, CLI_STAGE_ARGS)
                     : 0;
    if (status == 0 && o->output && (dash || o->format != WI_CHECKPOINT_SAFETENSORS)) {
        cli_errorf("%s: under mpirun -o must be a .safetensors file (each rank "
                   "writes its share at offsets; torch.save's format is one "
                   "stream): write .safetensors, or run without mpirun",
                   cli_output_name(o->output));
        status = EXIT_BAD_INPUT;
    }
    return status;
}

static int init_main(int argc, char **argv, int plan)
{
    struct init_opts o = {0};
    o.profile = WI_RNG_TORCH212_AVX2; /* what `pip install torch` gives on AVX2 */
    o.plan = plan;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_BAD_INPUT;
    if (cli_mpi_rank() > 0)
        cli_log_level = (wi_log_level_t)(WI_LOG_ERROR + 1); /* rank 0 logs */
    wi_generator_t *g = wi_generator_new(o.seed, o.profile);
    wi_context_t *ctx = g ? wi_context_new(g) : NULL;
    if (!ctx) {
        cli_errorf("out of memory");
        wi_generator_free(g);
        return EXIT_INIT_FAILED;
    }
    wi_context_set_log(ctx, cli_log, NULL);
    wi_context_set_threads(ctx, o.threads);
    if (cli_show_progress())
        wi_context_set_task_progress(ctx, cli_task_progress, NULL);

    struct outputs out = {0};
    wi_error_t err;
    int status = cli_mpi_size() ? mpi_outputs(&o, &out) : open_outputs(&o, &out);
    if (status == 0)
        status = cli_load_plugins(o.plugins, o.n_plugins, &err) < 0
                     ? cli_fail(&err, CLI_STAGE_INPUT)
                     : run(&o, ctx, &out);
    wi_output_group_free(out.group);
    wi_context_free(ctx);
    wi_generator_free(g);
    return status;
}

/* Under mpirun every rank runs the same init; they agree on the status.
 * plan writes nothing: one process is enough. */
int cmd_init(int argc, char **argv)
{
    cli_mpi_start();
    return cli_mpi_end(init_main(argc, argv, 0));
}

int cmd_plan(int argc, char **argv) { return init_main(argc, argv, 1); }
