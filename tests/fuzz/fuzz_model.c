/* libFuzzer harness: the model loader and the init_cfg engine, end to end
 * as `weightinit init` runs them.  The input is one JSON document
 *
 *   {"model": MODEL, "init_cfg": CFG, "seed": N, "rng_profile": "default",
 *    "init_twice": true}
 *
 * (every key but "model" optional): the model is built, init_cfg replaces
 * the root's (or is applied with initialize() to a plain root, as the CLI's
 * --init-cfg does), init_weights runs, the report is walked, the state dict
 * is saved as safetensors to a temporary file and read back, and the read
 * back tensors must equal the saved ones byte for byte.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weightinit/weightinit.h>

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
static char out_path[64];

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
    char dir[48];
    snprintf(dir, sizeof dir, "%s/wi-fuzz-XXXXXX", tmp && strlen(tmp) < 24 ? tmp : "/tmp");
    if (!registry || !mkdtemp(dir))
        abort();
    snprintf(out_path, sizeof out_path, "%s/out.st", dir);
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

static int same_tensor(const wi_tensor_t *a, const wi_tensor_t *b)
{
    return wi_tensor_dtype(a) == wi_tensor_dtype(b) && wi_tensor_same_shape(a, b) &&
           memcmp(wi_tensor_const_data(a), wi_tensor_const_data(b),
                  (size_t)wi_tensor_nbytes(a)) == 0;
}

/* Saves the state dict and reads it back: what comes back must be what
 * went in (names, order, dtypes, shapes, bytes). */
static void save_and_read_back(wi_module_t *root, uint64_t seed)
{
    wi_error_t err;
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    json_t *meta = json_pack("{s:s, s:s}", "format", "pt", "seed", seed_text);
    wi_state_dict_t *sd = wi_module_state_dict(root, &err);
    if (sd && meta && refused(wi_safetensors_save(out_path, sd, meta, &err), &err) == 0) {
        wi_state_dict_t *back = wi_checkpoint_load(out_path, &err);
        if (!back && err.code == WI_ENOMEM && refusals) {
            unlink(out_path); /* the calloc cap, not a reader bug */
            wi_state_dict_free(sd);
            json_decref(meta);
            return;
        }
        if (!back || wi_state_dict_size(back) != wi_state_dict_size(sd)) {
            fprintf(stderr, "read-back failed: %s\n", back ? "size" : err.text);
            abort();
        }
        for (size_t i = 0; i < wi_state_dict_size(sd); i++)
            if (strcmp(wi_state_dict_name(sd, i), wi_state_dict_name(back, i)) != 0 ||
                !same_tensor(wi_state_dict_tensor(sd, i), wi_state_dict_tensor(back, i))) {
                fprintf(stderr, "read-back differs at %s\n", wi_state_dict_name(sd, i));
                abort();
            }
        if (debug)
            fprintf(stderr, "fuzz_model: %zu tensors saved and read back\n",
                    wi_state_dict_size(back));
        wi_state_dict_free(back);
        unlink(out_path);
    }
    wi_state_dict_free(sd);
    json_decref(meta);
}

/* What `weightinit init` does after loading the model (tools/cmd_init.c). */
static int initialise(wi_module_t *root, json_t *cfg, int twice,
                      wi_context_t *ctx, wi_error_t *err)
{
    if (cfg && !wi_module_is_base_module(root))
        return wi_initialize(root, cfg, ctx, err);
    if (cfg)
        wi_module_set_init_cfg_new(root, json_incref(cfg));
    if (!wi_module_is_base_module(root) && !wi_module_init_weights_fn(root))
        return 0;
    int rc = wi_init_weights(root, ctx, err);
    if (rc == 0 && twice)
        rc = wi_init_weights(root, ctx, err);
    return rc;
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
    wi_generator_t *g = wi_generator_new(s, p);
    wi_context_t *ctx = g ? wi_context_new(g) : NULL;
    size_t logged = 0, reported = 0;
    if (ctx) {
        wi_context_set_registry(ctx, registry);
        wi_context_set_log(ctx, log_sink, &logged);
        wi_error_t err;
        wi_module_t *root = wi_model_build(model, ctx, "fuzz.json", "", &err);
        int twice = json_is_true(json_object_get(doc, "init_twice"));
        if (!root)
            refused(-1, &err);
        else if (refused(initialise(root, cfg, twice, ctx, &err), &err) == 0 &&
                 wi_init_report(root, report_entry, &reported) == 0)
            save_and_read_back(root, s);
        wi_module_free(root);
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
