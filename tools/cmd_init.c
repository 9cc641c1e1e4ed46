/* weightinit init MODEL.json [options] */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char init_usage[] =
    "usage: weightinit init MODEL.json [options]\n"
    "\n"
    "  -o, --output FILE        write the state dict as safetensors (atomically)\n"
    "      --init-cfg FILE      JSON object or list replacing the root's init_cfg\n"
    "      --seed N             generator seed in [-2^63, 2^64) (default 0)\n"
    "      --rng-profile P      avx2 (default) or default: the PyTorch CPU kernels\n"
    "                           to reproduce bit for bit\n"
    "      --threads N          threads for large tensors (default: all cores, or\n"
    "                           WEIGHTINIT_THREADS); never changes the values\n"
    "      --report FILE        write the per-parameter report as JSON\n"
    "      --plugin PATH        load this plugin first (repeatable)\n"
    "  -q, --quiet              only warnings and errors\n"
    "  -v, --verbose            debug messages too\n"
    "  -h, --help               this help\n";

struct init_opts {
    const char *model, *output, *init_cfg, *report;
    char seed_text[24]; /* canonical decimal, as given (negative stays) */
    const char *plugins[64];
    int n_plugins;
    uint64_t seed;
    wi_rng_profile_t profile;
    int threads; /* 0 = all cores */
};

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

/* arg with control characters escaped and cut to fit: errors stay one line. */
static const char *printable(const char *arg, char *buf, size_t size)
{
    size_t n = 0;
    for (; *arg && n + 8 < size; arg++) {
        unsigned char ch = (unsigned char)*arg;
        if (ch < 0x20 || ch == 0x7f)
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", ch);
        else
            buf[n++] = (char)ch;
    }
    buf[n] = '\0';
    if (*arg)
        snprintf(buf + n, size - n, "...");
    return buf;
}

static int parse_args(int argc, char **argv, struct init_opts *o)
{
    enum { OPT_INIT_CFG = 256, OPT_SEED, OPT_PROFILE, OPT_REPORT, OPT_PLUGIN,
           OPT_THREADS };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"init-cfg", required_argument, NULL, OPT_INIT_CFG},
        {"seed", required_argument, NULL, OPT_SEED},
        {"rng-profile", required_argument, NULL, OPT_PROFILE},
        {"report", required_argument, NULL, OPT_REPORT},
        {"plugin", required_argument, NULL, OPT_PLUGIN},
        {"threads", required_argument, NULL, OPT_THREADS},
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
        case OPT_PLUGIN:
            if (o->n_plugins == 64) {
                cli_errorf("--plugin: at most 64 plugins");
                return -1;
            }
            o->plugins[o->n_plugins++] = optarg;
            break;
        case 'q': cli_log_level = WI_LOG_WARNING; break;
        case 'v': cli_log_level = WI_LOG_DEBUG; break;
        case 'h': fputs(init_usage, stdout); return 1;
        case OPT_SEED:
            if (parse_seed(optarg, &o->seed, o->seed_text,
                           sizeof o->seed_text) < 0) {
                char shown[80];
                cli_errorf("--seed: expected a decimal integer in [-2^63, "
                           "2^64) (digits, optionally after '-'), got '%s'",
                           printable(optarg, shown, sizeof shown));
                return -1;
            }
            break;
        case OPT_THREADS:
            if (parse_threads("--threads", optarg, &o->threads) < 0)
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
    /* A WEIGHTINIT_ISA this CPU cannot honour is a bad setting (exit 2). */
    if (!wi_kernel_isa(&err)) {
        cli_error(&err);
        return -1;
    }
    return 0;
}

/* One report entry: the MMEngine-layout log record and the JSON line. */
static int report_entry(const char *name, const wi_tensor_t *t,
                        const char *info, void *ud)
{
    json_t *report = ud;
    char shape[256];
    wi_shape_format(wi_tensor_ndim(t), wi_tensor_shape(t), shape, sizeof shape);
    if (WI_LOG_INFO >= cli_log_level) {
        size_t n = strlen(name) + strlen(shape) + strlen(info) + 64;
        char *msg = malloc(n);
        if (msg) {
            snprintf(msg, n, "\n%s - torch.Size(%s): \n%s \n ", name, shape, info);
            cli_log(WI_LOG_INFO, msg, NULL);
            free(msg);
        }
    }
    json_t *dims = json_array();
    for (int i = 0; dims && i < wi_tensor_ndim(t); i++)
        json_array_append_new(dims, json_integer(wi_tensor_shape(t)[i]));
    return json_array_append_new(report, json_pack("{s:s, s:o, s:s}", "name", name,
                                                   "shape", dims, "info", info));
}

static int write_report(const char *path, const json_t *report)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    int rc = json_dump_file(report, tmp, JSON_INDENT(1));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        unlink(tmp);
        cli_errorf("%s: cannot write the report: %s", path, strerror(errno));
    }
    free(tmp);
    return rc;
}

static json_t *load_init_cfg(const char *path)
{
    json_error_t jerr;
    json_t *cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!cfg) {
        if (jerr.line > 0)
            cli_errorf("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        else
            cli_errorf("%s: %s", path, jerr.text);
        return NULL;
    }
    if (!json_is_object(cfg) && !json_is_array(cfg)) {
        cli_errorf("%s: expected an init_cfg object or a list of them", path);
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

static int save_output(const struct init_opts *o, wi_module_t *root)
{
    wi_error_t err;
    json_t *meta = json_pack("{s:s, s:s, s:s, s:s, s:s}", "format", "pt",
                             "seed", o->seed_text[0] ? o->seed_text : "0",
                             "rng_profile", wi_rng_profile_name(o->profile),
                             "weightinit_version", wi_version(),
                             "model", o->model);
    wi_state_dict_t *sd = wi_module_state_dict(root, &err);
    int rc = sd && meta ? wi_safetensors_save(o->output, sd, meta, &err) : -1;
    if (rc < 0)
        cli_error(&err);
    wi_state_dict_free(sd);
    json_decref(meta);
    return rc;
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

/* Builds, initialises, reports and saves; returns the exit status. */
static int run(const struct init_opts *o, wi_context_t *ctx)
{
    wi_error_t err;
    json_t *cfg = NULL;
    if (o->init_cfg && !(cfg = load_init_cfg(o->init_cfg)))
        return EXIT_BAD_INPUT;
    wi_module_t *root = wi_model_load_file(o->model, ctx, &err);
    if (!root) {
        cli_error(&err);
        json_decref(cfg);
        return EXIT_BAD_INPUT;
    }
    int rc;
    if (cfg && !wi_module_is_base_module(root)) {
        rc = wi_initialize(root, cfg, ctx, &err);
        json_decref(cfg);
    } else {
        if (cfg)
            wi_module_set_init_cfg_new(root, cfg);
        rc = wi_module_is_base_module(root) || wi_module_init_weights_fn(root)
                 ? wi_init_weights(root, ctx, &err)
                 : 0;
    }
    int status = 0;
    json_t *report = json_array();
    if (rc < 0) {
        locate_cfg_error(&err, o);
        cli_error(&err);
        /* A value the config should not have had is an input error. */
        status = err.code == WI_EINVAL ? EXIT_BAD_INPUT : EXIT_INIT_FAILED;
    } else if (!report || wi_init_report(root, report_entry, report) != 0) {
        cli_errorf("out of memory");
        status = EXIT_INIT_FAILED;
    } else if (o->output && save_output(o, root) < 0) {
        status = EXIT_INIT_FAILED;
    } else if (o->report && write_report(o->report, report) < 0) {
        status = EXIT_INIT_FAILED;
    }
    json_decref(report);
    wi_module_free(root);
    return status;
}

int cmd_init(int argc, char **argv)
{
    struct init_opts o = {0};
    o.profile = WI_RNG_AVX2;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_BAD_INPUT;
    wi_generator_t *g = wi_generator_new(o.seed, o.profile);
    wi_context_t *ctx = g ? wi_context_new(g) : NULL;
    if (!ctx) {
        cli_errorf("out of memory");
        wi_generator_free(g);
        return EXIT_INIT_FAILED;
    }
    wi_context_set_log(ctx, cli_log, NULL);
    wi_context_set_threads(ctx, o.threads);
    if (isatty(STDERR_FILENO) && cli_log_level <= WI_LOG_INFO)
        wi_context_set_progress(ctx, cli_progress, NULL);
    int status = cli_load_plugins(o.plugins, o.n_plugins) < 0 ? EXIT_BAD_INPUT
                                                              : run(&o, ctx);
    wi_context_free(ctx);
    wi_generator_free(g);
    return status;
}
