/* How the module tree scales with the number of modules: building from
 * JSON, init_weights with its provenance, the report, state_dict() and
 * load_state_dict (with unexpected keys), each timed in seconds for
 *   wide:   N BaseModule children, each holding a Linear, every child
 *           with its own init_cfg and the root's covering all Linears;
 *   flat:   M sibling Linear layers under one root.
 * Every step should grow linearly (wall seconds per step, then the CPU
 * seconds of all steps).  Usage: bench_modules [N [M]] (default 16384 and
 * 100000). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <weightinit/weightinit.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* On a shared machine the process's CPU time is the steadier measure. */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static json_t *linear(void)
{
    return json_pack("{s:s, s:i, s:i}", "type", "Linear", "in_features", 2,
                     "out_features", 2);
}

static json_t *wide_model(long n)
{
    json_t *children = json_object();
    for (long i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "block%ld", i);
        json_object_set_new(children, name,
                            json_pack("{s:s, s:{s:s, s:s, s:f}, s:{s:o}}",
                                      "type", "Block", "init_cfg", "type",
                                      "Constant", "layer", "Linear", "val", 0.5,
                                      "children", "fc", linear()));
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o}", "type", "Wide", "init_cfg",
                     "type", "Kaiming", "layer", "Linear", "children", children);
}

static json_t *flat_model(long n)
{
    json_t *children = json_object();
    for (long i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "fc%ld", i);
        json_object_set_new(children, name, linear());
    }
    return json_pack("{s:s, s:{s:s, s:s, s:f}, s:o}", "type", "Flat", "init_cfg",
                     "type", "Constant", "layer", "Linear", "val", 1.0,
                     "children", children);
}

static int count_param(const char *name, const wi_tensor_t *t, const char *info,
                       void *ud)
{
    (void)name, (void)t, (void)info;
    ++*(long *)ud;
    return 0;
}

static void quiet(wi_log_level_t level, const char *message, void *ud)
{
    (void)level, (void)message, (void)ud;
}

static int fail(const char *what, const wi_error_t *err)
{
    char line[WI_ERROR_TEXT_LENGTH + 600];
    fprintf(stderr, "bench_modules: %s: %s\n", what,
            err ? wi_error_format(err, line, sizeof line) : "failed");
    return 1;
}

/* Times every step on one model; prints one line. */
static int run(const char *label, json_t *model, wi_context_t *ctx)
{
    wi_error_t err;
    double c0 = cpu(), t0 = now();
    wi_module_t *root = wi_model_build((const wi_value_t *)model, ctx, "bench", "", &err);
    if (!root)
        return fail(label, &err);
    double t1 = now();
    if (wi_init_weights(root, ctx, &err) < 0)
        return fail(label, &err);
    double t2 = now();
    long n_params = 0;
    wi_init_report(root, count_param, &n_params);
    double t3 = now();
    wi_state_dict_t *sd = wi_module_state_dict(root, &err);
    if (!sd)
        return fail(label, &err);
    double t4 = now();
    /* Unexpected keys at the root and under the last child. */
    wi_state_dict_t *in = wi_state_dict_new();
    for (size_t i = 0; i < wi_state_dict_size(sd); i++)
        wi_state_dict_append(in, wi_state_dict_name(sd, i), wi_state_dict_tensor(sd, i), NULL);
    wi_state_dict_append(in, "extra.weight", wi_state_dict_tensor(sd, 0), NULL);
    double t5 = now();
    if (wi_module_load_state_dict(root, in, 0, ctx, &err) < 0)
        return fail(label, &err);
    double t6 = now(), c6 = cpu();
    printf("%-5s %7zu modules %7ld params: build %.3f s, init_weights %.3f s, "
           "report %.3f s, state_dict %.3f s, load_state_dict %.3f s; "
           "CPU %.3f s in all\n",
           label, json_object_size(json_object_get(model, "children")) + 1,
           n_params, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t6 - t5,
           c6 - c0 - (t5 - t4));
    wi_state_dict_free(in);
    wi_state_dict_free(sd);
    wi_module_free(root);
    return 0;
}

int main(int argc, char **argv)
{
    long wide = argc > 1 ? atol(argv[1]) : 16384;
    long flat = argc > 2 ? atol(argv[2]) : 100000;
    wi_generator_t *g = wi_generator_new(0, WI_RNG_AVX2);
    wi_context_t *ctx = g ? wi_context_new(g) : NULL;
    if (!ctx || wi_registry_load_search_path(wi_context_registry(ctx)) < 0)
        return fail("setup", NULL);
    wi_context_set_log(ctx, quiet, NULL);
    json_t *w = wide_model(wide), *f = flat_model(flat);
    int rc = run("wide", w, ctx) || run("flat", f, ctx);
    json_decref(w);
    json_decref(f);
    wi_context_free(ctx);
    wi_generator_free(g);
    return rc;
}
