/* The smallest useful C program on libweightinit: build a model file with
 * PyTorch's default initialisation, run its init_cfg (MMEngine's
 * init_weights) and save the state dict, as
 * `weightinit init MODEL.json --seed SEED -o OUT.safetensors` does.
 *
 *   cc minimal.c -o minimal $(pkg-config --cflags --libs weightinit)
 *   ./minimal examples/toynet.json 0 toynet.safetensors
 */
#include <stdio.h>
#include <stdlib.h>

#include <weightinit/weightinit.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.json SEED OUT.safetensors\n", argv[0]);
        return 2;
    }
    /* torch.manual_seed(SEED); the default profile reproduces torch on
     * an x86 CPU with AVX2 (weightinit init --rng-profile avx2). */
    wi_generator_t *g = wi_generator_new(strtoull(argv[2], NULL, 10), WI_RNG_AVX2);
    wi_context_t *ctx = g ? wi_context_new(g) : NULL;
    if (!ctx) {
        fprintf(stderr, "minimal: out of memory\n");
        return 1;
    }
    /* Every initializer (Kaiming, Normal, ...) is a plugin: load the
     * built-in ones and those in $WEIGHTINIT_PLUGIN_PATH before building,
     * or the first init_cfg fails with "unknown initializer". */
    wi_registry_load_search_path(wi_context_registry(ctx));

    wi_error_t err;
    wi_module_t *root = wi_model_load_file(argv[1], ctx, &err);
    int rc = root ? wi_init_weights(root, ctx, &err) : -1;
    wi_state_dict_t *sd = rc == 0 ? wi_module_state_dict(root, &err) : NULL;
    wi_value_t *meta = wi_value_parse("{\"format\": \"pt\"}", &err);
    rc = sd ? wi_safetensors_save(argv[3], sd, meta, &err) : -1;
    if (rc < 0) {
        char line[1024];
        fprintf(stderr, "minimal: %s\n", wi_error_format(&err, line, sizeof line));
    }
    wi_value_free(meta);
    wi_state_dict_free(sd);
    wi_module_free(root);
    wi_context_free(ctx);
    wi_generator_free(g);
    return rc < 0 ? 1 : 0;
}
