/* The model JSON loader's parts (model-format.md): model.c builds nodes,
 * model_defs.c resolves "definitions" / "use", model_members.c builds a
 * custom node's parameters and children ("params", "children", "repeat",
 * "order").  Internal; not exported. */
#ifndef WI_MODEL_INTERNAL_H
#define WI_MODEL_INTERNAL_H

#include <jansson.h>

#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>

#include "base/internal.h"

/* One build of one model file.  err is never NULL (the loader reads back
 * the codes it set); definitions is the root's "definitions" object
 * (borrowed) or NULL. */
struct wi_loader {
    wi_context_t *ctx;
    const char *source;
    wi_error_t *err;
    const json_t *definitions;
    size_t *modules; /* built so far, against WI_MODEL_MAX_MODULES */
    size_t *depth;   /* of the node being built (the root is 1), against
                        WI_MODULE_MAX_DEPTH */
    json_t *resolved; /* definition name -> [node, origin], each "use"
                         expanded once (model_defs.c); NULL before
                         definitions were checked */
};

/* Runs a node's construction-time "init" (a list of init_cfg entries,
 * docs/model-format.md) on m, just built, whose "init" key is at path:
 * the engine's, installed when the library is loaded (engine/passes.c),
 * so that the builder never names a layer above it.  0 or the error. */
typedef int (*wi_priv_model_init_fn)(wi_module_t *m, const json_t *init,
                                     const char *path, wi_context_t *ctx,
                                     wi_error_t *err);
WI_INTERNAL void wi_priv_model_install_init(wi_priv_model_init_fn fn);

/* A few nested repeats or definitions used twice at each of many levels
 * make a tiny file describe billions of modules; the largest real models
 * have well under 100000, so a build stops at this many. */
#define WI_MODEL_MAX_MODULES 1000000

/* Counts n more modules built at path; WI_EINVAL past the limit. */
WI_INTERNAL int wi_priv_model_count_modules(const struct wi_loader *l,
                                            size_t n, const char *path);

/* Builds the node at JSON path `path` (model.c), where it is written in
 * the file: resolves "use", then a built-in layer or a custom module.  A
 * node deeper than WI_MODULE_MAX_DEPTH is refused before anything under
 * it is looked at.  NULL with l->err filled. */
WI_INTERNAL wi_module_t *wi_priv_model_build_node(const struct wi_loader *l,
                                                  const json_t *node,
                                                  const char *path);

/* "expected EXPECTED, got VALUE" at path.key, WI_EINVAL. */
WI_INTERNAL int wi_priv_model_node_error(const struct wi_loader *l,
                                         const char *path, const char *key,
                                         const json_t *v, const char *expected);

/* Checks the root's "definitions" before anything is built: an object of
 * name -> node, every "use" in the tree and in the definitions naming one
 * (with a did-you-mean), and no definition containing itself directly or
 * through others.  The result never depends on the definitions' key
 * order, and nothing recurses from one definition into another (depth is
 * the builder's limit).  Sets l->definitions and l->resolved. */
WI_INTERNAL int wi_priv_model_check_definitions(struct wi_loader *l,
                                                const json_t *root);

/* node with its "use" expanded: a new object holding the definition's keys
 * (itself expanded) with node's other keys replacing those of the same
 * name; *origin (new) maps every key to the JSON path of the object it
 * came from.  A definition is expanded once (l->resolved) and without
 * recursion, however long its chain of "use".  NULL with l->err filled. */
WI_INTERNAL json_t *wi_priv_model_resolve_use(const struct wi_loader *l,
                                              const json_t *node,
                                              const char *path,
                                              json_t **origin);

/* After building a resolved node at path failed: an error whose path goes
 * through a key that came from a definition is moved there
 * ("children.a.children.fc.bias" -> "definitions.Block.children.fc.bias"),
 * so the message names the place to fix. */
WI_INTERNAL void wi_priv_model_blame_origin(const struct wi_loader *l,
                                            const char *path,
                                            const json_t *origin);

/* The JSON path of the object key `key` of a node at `path` came from:
 * origin[key] (wi_priv_model_resolve_use) or, without origin, path.
 * Borrowed from origin or path. */
WI_INTERNAL const char *wi_priv_model_key_base(const json_t *origin,
                                               const char *path,
                                               const char *key);

/* Builds m's parameters and children from a custom node's "params",
 * "children", "repeat"/"child"/"clone" and "order", drawing construction
 * values in construction order.  Each member is located where its key is
 * written (origin, as wi_priv_model_key_base), so that paths name the
 * place to fix and stay as short as the file's own nesting. */
WI_INTERNAL int wi_priv_model_build_members(const struct wi_loader *l,
                                            wi_module_t *m, const json_t *node,
                                            const json_t *origin,
                                            const char *path);

/* The closest of the count names to `name` by edit distance (case
 * folded), or NULL when none is close. */
WI_INTERNAL const char *wi_priv_model_suggest(const char *name,
                                              const char *const *names,
                                              size_t count);

#endif
