/* libFuzzer harness: the model loader and the init_cfg engine, end to end
 * as `weightinit init` runs them.  The input is one JSON document
 *
 *   {"model": MODEL, "init_cfg": CFG, "seed": N, "rng_profile": "default",
 *    "init_twice": true, "dtype": "bf16", "format": "pth", "max_shard": N}
 *
 * (every key but "model" optional): the model is built (and its root's
 * "tie" checked), init_cfg replaces the root's (or is applied with
 * initialize() to a plain root, as the CLI's --init-cfg does),
 * init_weights runs with a diagnostics list (init's warnings) lent to the
 * context, the diagnostics and the report are walked, the ties are
 * applied, the
 * state dict is converted to "dtype" (f32, bf16, f16: --dtype) and saved
 * in "format" (safetensors, or pth), in shards of at most "max_shard"
 * bytes with their index when given (--max-shard-size), into a folder of
 * the harness's own; then it is read back (through the index when there
 * is one), and the read-back tensors must equal the saved ones byte for
 * byte (fuzz_check.h).
 *
 * The built-in initializer plugins (and the fixture/example module types)
 * are compiled into the harness and registered statically through a copy
 * of the host table (build.sh renames each plugin's descriptor function),
 * so their argument checks are instrumented too.  Not covered: Pretrained
 * (file and network access; the readers have their own harnesses) and a
 * model's root "plugins" key (it dlopens paths from the input).
 *
 * Sizes: build.sh links with -Wl,--wrap=calloc, which every tensor
 * allocation goes through; __wrap_calloc refuses a single block over
 * 4 MiB and large blocks beyond 32 MiB per input, so a valid but huge
 * model fails fast with the library's out-of-memory error (which is
 * exercised that way) instead of timing out. */
#include <jansson.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weightinit/weightinit.h>

#include "fuzz_check.h"

#define PLUGIN(name) const wi_plugin_descriptor_t *wi_fuzz_plugin_##name(void);
#define BUILTIN_PLUGINS(X)                                                   \
    X(constant) X(xavier) X(normal) X(trunc_normal) X(uniform) X(kaiming)    \
    X(caffe2_xavier) X(orthogonal) X(positional_embedding) X(toyconv)         \
    X(toyhead)
BUILTIN_PLUGINS(PLUGIN)
#undef PLUGIN

#define SINGLE_LIMIT ((size_t)4 << 20)
#define INPUT_LIMIT ((size_t)32 << 20)
#define LARGE_BLOCK ((size_t)64 << 10)

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static size_t large_bytes; /* in blocks >= LARGE_BLOCK, this input */
static size_t refusals;    /* blocks refused, this input */

void *__wrap_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        refusals++;
        return NULL;
    }
    size_t total = n * size;
    if (total >= LARGE_BLOCK) {
        if (total > SINGLE_LIMIT || large_bytes + total > INPUT_LIMIT) {
            refusals++;
            return NULL;
        }
        large_bytes += total;
    }
    return __real_calloc(n, size);
}

static wi_registry_t *registry;
static int debug; /* WI_FUZZ_DEBUG=1: print why an input was refused */
static wi_host_t static_host;
static char out_dir[64]; /* the outputs of one input, emptied after it */

static int add_initializer(wi_plugin_t *plugin, const wi_initializer_type_t *t,
                           wi_error_t *err)
{
    return wi_registry_add_initializer((wi_registry_t *)plugin, t, "built-in",
                                       err);
}

static int add_module_type(wi_plugin_t *plugin, const wi_module_type_t *t,
                           wi_error_t *err)
{
    return wi_registry_add_module_type((wi_registry_t *)plugin, t, "built-in",
                                       err);
}

static void register_static(const wi_plugin_descriptor_t *d)
{
    wi_error_t err;
    if (d->register_types(&static_host, (wi_plugin_t *)registry, &err) < 0) {
        fprintf(stderr, "fuzz_model: registering %s: %s\n", d->name, err.text);
        abort();
    }
}

/* Unlinks every file of out_dir (a sharded save writes several). */
static void empty_out_dir(void)
{
    DIR *d = opendir(out_dir);
    struct dirent *e;
    char path[400];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", out_dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

static void remove_out_dir(void)
{
    empty_out_dir();
    rmdir(out_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    registry = wi_registry_new();
    static_host = *wi_host();
    static_host.register_initializer = add_initializer;
    static_host.register_module_type = add_module_type;
#define REGISTER(name) register_static(wi_fuzz_plugin_##name());
    BUILTIN_PLUGINS(REGISTER)
#undef REGISTER
    debug = getenv("WI_FUZZ_DEBUG") != NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(out_dir, sizeof out_dir, "%s/wi-fuzz-XXXXXX",
             tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!registry || !mkdtemp(out_dir))
        abort();
    atexit(remove_out_dir);
    return 0;
}

static void log_sink(wi_log_level_t level, const char *message, void *ud)
{
    (void)level;
    *(size_t *)ud += strlen(message);
}

/* Touches every byte of the report's strings and tensors.  A deferred
 * tensor gets its storage here, on first access, so NULL (out of memory,
 * as tensor.h documents) is what a tensor over the calloc cap gives: the
 * walk stops.  NULL when nothing was refused would be a library bug. */
static int report_entry(const char *name, const wi_tensor_t *t,
                        const char *info, void *ud)
{
    volatile uint8_t sink = 0;
    const uint8_t *p = wi_tensor_const_data(t);
    if (!p && wi_tensor_nbytes(t) > 0) {
        if (!refusals) {
            fprintf(stderr, "fuzz_model: no data for %s, yet no allocation failed\n", name);
            abort();
        }
        return 1;
    }
    for (uint64_t i = 0; i < wi_tensor_nbytes(t); i++)
        sink ^= p[i];
    *(size_t *)ud += strlen(name) + strlen(info) + sink;
    return 0;
}

static int refused(int rc, const wi_error_t *err)
{
    char line[WI_ERROR_TEXT_LENGTH + 600];
    if (debug && rc < 0)
        fprintf(stderr, "fuzz_model: %s\n", wi_error_format(err, line, sizeof line));
    return rc;
}

/* What -o, --dtype and --max-shard-size make of the state dict. */
struct save_opts {
    wi_dtype_t dtype;
    wi_rng_profile_t profile;
    wi_checkpoint_format_t format;
    uint64_t max_shard; /* 0: one file */
};

/* Writes out (one file, or shards and their index) as `init -o` does,
 * without fsync (the harness's files are never kept): 0, or -1 with err
 * set.  *index receives whether an index was written. */
static int save(const wi_state_dict_t *out, const json_t *meta, const char *path,
                const struct save_opts *o, const wi_context_t *ctx, int *index,
                wi_error_t *err)
{
    wi_output_group_t *g = wi_output_group_new();
    size_t files = 1;
    if (!g)
        return wi_error_set(err, WI_ENOMEM, NULL, NULL, "out of memory");
    wi_output_group_set_sync(g, 0);
    int rc = wi_checkpoint_write_sharded(g, path, o->format, out, (const wi_value_t *)meta, o->max_shard,
                                         ctx, &files, err);
    if (rc == 0)
        rc = wi_output_group_commit(g, err);
    wi_output_group_free(g);
    *index = files > 1;
    return rc;
}

/* Saves the state dict and reads it back: what comes back must be what
 * went in (names, order, dtypes, shapes, bytes). */
static void save_and_read_back(wi_module_t *root, uint64_t seed,
                               const struct save_opts *o, const wi_context_t *ctx)
{
    wi_error_t err;
    char seed_text[24], path[128], read_path[160];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    json_t *meta = json_pack("{s:s, s:s, s:s}", "format", "pt", "seed", seed_text, "dtype",
                             o->dtype == WI_DTYPE_BF16  ? "bfloat16"
                             : o->dtype == WI_DTYPE_F16 ? "float16"
                                                        : "float32");
    wi_state_dict_t *sd = wi_module_state_dict(root, &err), *conv = NULL, *once = NULL;
    const wi_state_dict_t *out = sd;
    /* model.to(dtype) just before saving, as cmd_init.c does. */
    if (sd && o->dtype != WI_DTYPE_F32 &&
        refused((out = conv = wi_state_dict_to_dtype(sd, o->dtype, o->profile, &err)) ? 0 : -1,
                &err) < 0)
        out = NULL;
    /* safetensors holds a tied tensor once (save_model's rule). */
    if (out && meta && o->format == WI_CHECKPOINT_SAFETENSORS &&
        refused((out = once = wi_state_dict_remove_duplicates(out, (wi_value_t *)meta, &err)) ? 0 : -1,
                &err) < 0)
        out = NULL;
    snprintf(path, sizeof path, "%s/model.%s", out_dir,
             o->format == WI_CHECKPOINT_PTH ? "pth" : "safetensors");
    int index = 0, rc = out && meta ? refused(save(out, meta, path, o, ctx, &index, &err), &err) : -1;
    /* Out of memory while nothing was refused is a message that lies. */
    if (out && meta && rc < 0 && err.code == WI_ENOMEM && !refusals) {
        fprintf(stderr, "fuzz_model: saving says out of memory, yet no allocation failed: %s\n",
                err.text);
        abort();
    }
    if (rc == 0) {
        snprintf(read_path, sizeof read_path, "%s%s", path, index ? ".index.json" : "");
        /* The top level: a parameter named "state_dict" is not MMEngine's
         * wrapper here. */
        wi_state_dict_t *back = wi_checkpoint_load_key(read_path, "", NULL, &err);
        if (!back && !(err.code == WI_ENOMEM && refusals)) {
            fprintf(stderr, "read-back of %s failed: %s\n", read_path, err.text);
            abort();
        }
        /* A deferred tensor whose storage the calloc cap refused has no
         * data: allowed only when a block was refused. */
        if (back && fuzz_same_state_dict(out, back, index, read_path) && !refusals) {
            fprintf(stderr, "fuzz_model: a saved tensor has no data, yet no allocation failed\n");
            abort();
        }
        if (debug && back)
            fprintf(stderr, "fuzz_model: %zu tensors saved%s and read back\n",
                    wi_state_dict_size(back), index ? " in shards" : "");
        wi_state_dict_free(back);
    }
    empty_out_dir();
    wi_state_dict_free(once);
    wi_state_dict_free(conv);
    wi_state_dict_free(sd);
    json_decref(meta);
}

/* What `weightinit init` does after loading the model (tools/cmd_init.c). */
static int initialise(wi_module_t *root, json_t *cfg, int twice,
                      wi_context_t *ctx, wi_error_t *err)
{
    if (cfg && !wi_module_is_base_module(root))
        return wi_initialize(root, (const wi_value_t *)cfg, ctx, err);
    if (cfg)
        wi_module_set_init_cfg_new(root, (wi_value_t *)json_incref(cfg));
    if (!wi_module_is_base_module(root) && !wi_module_init_weights_fn(root))
        return 0;
    int rc = wi_init_weights(root, ctx, err);
    if (rc == 0 && twice)
        rc = wi_init_weights(root, ctx, err);
    return rc;
}

/* The document's "dtype", "format" and "max_shard" (an int, or a string
 * as --max-shard-size takes it): -1 for a size the CLI would refuse. */
static int save_options(const json_t *doc, wi_rng_profile_t profile,
                        struct save_opts *o)
{
    const char *dtype = json_string_value(json_object_get(doc, "dtype"));
    const char *format = json_string_value(json_object_get(doc, "format"));
    json_t *shard = json_object_get(doc, "max_shard");
    o->dtype = !dtype                       ? WI_DTYPE_F32
               : strcmp(dtype, "bf16") == 0 ? WI_DTYPE_BF16
               : strcmp(dtype, "f16") == 0  ? WI_DTYPE_F16
                                            : WI_DTYPE_F32;
    o->profile = profile;
    o->format = format && strcmp(format, "pth") == 0 ? WI_CHECKPOINT_PTH
                                                     : WI_CHECKPOINT_SAFETENSORS;
    o->max_shard = 0;
    wi_error_t err;
    if (json_is_string(shard))
        return refused(wi_checkpoint_parse_size(json_string_value(shard), &o->max_shard, &err),
                       &err) < 0 ? -1 : 0;
    if (json_is_integer(shard) && json_integer_value(shard) > 0)
        o->max_shard = (uint64_t)json_integer_value(shard);
    return 0;
}

/* Touches every string of the run's diagnostics (init's warnings). */
static int walk_diagnostics(const wi_diagnostics_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < wi_diagnostics_count(d); i++) {
        const wi_diagnostic_t *x = wi_diagnostics_get(d, i);
        n += strlen(x->path) + strlen(x->message) + strlen(wi_diag_kind_name(x->kind)) +
             (x->suggestion ? strlen(x->suggestion) : 0);
    }
    return n == SIZE_MAX; /* never: keeps the walk */
}

/* Builds, checks the ties, initialises, reports, ties, saves (run's
 * steps once the context exists). */
static void build_and_save(const json_t *doc, json_t *model, wi_context_t *ctx,
                           uint64_t seed, const struct save_opts *o)
{
    wi_error_t err;
    json_t *cfg = json_object_get(doc, "init_cfg");
    int twice = json_is_true(json_object_get(doc, "init_twice"));
    size_t reported = 0;
    wi_diagnostics_t *diags = wi_diagnostics_new();
    wi_context_set_diagnostics(ctx, diags);
    wi_module_t *root = diags ? wi_model_build((const wi_value_t *)model, ctx, "fuzz.json", "", &err) : NULL;
    if (!root)
        refused(-1, &err);
    else if (refused(wi_model_check_ties(root, (const wi_value_t *)model, "fuzz.json", &err), &err) == 0 &&
             refused(initialise(root, cfg, twice, ctx, &err), &err) == 0 &&
             refused(wi_diagnostics_check_tree(diags, root, &err), &err) == 0 &&
             walk_diagnostics(diags) == 0 &&
             wi_init_report(root, report_entry, &reported) == 0 &&
             refused(wi_model_apply_ties(root, (const wi_value_t *)model, "fuzz.json", &err), &err) == 0)
        save_and_read_back(root, seed, o, ctx);
    wi_context_set_diagnostics(ctx, NULL);
    wi_diagnostics_free(diags);
    wi_module_free(root);
}

static void run(json_t *doc)
{
    json_t *model = json_object_get(doc, "model");
    json_t *cfg = json_object_get(doc, "init_cfg");
    json_t *seed = json_object_get(doc, "seed");
    json_t *profile = json_object_get(doc, "rng_profile");
    if (!model || (json_is_object(model) && json_object_get(model, "plugins")))
        return;
    if (cfg && !json_is_object(cfg) && !json_is_array(cfg))
        return; /* the CLI refuses these before building */
    uint64_t s = json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0;
    wi_rng_profile_t p = json_is_string(profile) &&
                                 strcmp(json_string_value(profile), "default") == 0
                             ? WI_RNG_DEFAULT
                             : WI_RNG_AVX2;
    struct save_opts o;
    if (save_options(doc, p, &o) < 0)
        return; /* so does --max-shard-size */
    wi_generator_t *g = wi_generator_new(s, p);
    wi_context_t *ctx = g ? wi_context_new(g) : NULL;
    size_t logged = 0;
    if (ctx) {
        wi_context_set_registry(ctx, registry);
        wi_context_set_log(ctx, log_sink, &logged);
        build_and_save(doc, model, ctx, s, &o);
    }
    wi_context_free(ctx);
    wi_generator_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    large_bytes = 0;
    refusals = 0;
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (json_is_object(doc))
        run(doc);
    json_decref(doc);
    return 0;
}
