/* The model description format (docs/model-format.md, versions 1 and 2):
 * a JSON tree of module nodes.  Building a tree constructs every built-in
 * layer with PyTorch's default initialisation and draws every parameter
 * with an "init", from the context's generator in construction order
 * (depth-first, keys in file order or a node's "order"). */
#ifndef WEIGHTINIT_MODEL_H
#define WEIGHTINIT_MODEL_H

#include <stddef.h>


#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads and builds a model file.  Errors name the file (err->source), the
 * JSON path (err->path, e.g. "children.conv1.kernel_size") and, for
 * syntax errors, line and column.  The file must be a regular file of at
 * most 64 MiB: a missing one ("PATH can not be found."), a directory,
 * FIFO or device (refused without waiting on it) is WI_EFILE.  Returns a
 * new tree (wi_module_free). */
wi_module_t *wi_model_load_file(const char *path, wi_context_t *ctx,
                                wi_error_t *err);

/* Parses a model file without building it (new reference; NULL with
 * err on an unreadable file, WI_EIO, or a syntax error, WI_EINVAL with
 * line and column). */
wi_value_t *wi_model_read_file(const char *path, wi_error_t *err);

/* Loads the plugins a parsed model (borrowed) names in its top-level
 * "plugins" key, relative to the folder of source, into the context's
 * registry.  This runs native code from the files the model names; each
 * file loaded now is logged at WI_LOG_WARNING ("loading plugin F (native
 * code) from model M": a data file running code is worth a warning at
 * any usual log level), a file loaded before is skipped silently.
 * wi_model_build does it too; calling it first lets a caller load other
 * plugins after the model's and before the tree is built. */
int wi_model_load_plugins(const wi_value_t *root, wi_context_t *ctx,
                          const char *source, wi_error_t *err);

/* Builds a tree from a parsed node (borrowed).  source names the file in
 * errors (may be NULL); path is the JSON path of node ("" for a root).
 * Only a root (path "" or NULL) reads "plugins" and "definitions"; a
 * "use" below a non-root node finds no definitions. */
wi_module_t *wi_model_build(const wi_value_t *node, wi_context_t *ctx,
                            const char *source, const char *path,
                            wi_error_t *err);

/* The root's "tie" (model-format.md): {"NAME": "TARGET", ...} in a parsed
 * model file (doc, borrowed).  check validates every tie against the
 * built tree without changing it (unknown names with a did-you-mean,
 * shapes, self-ties, chains; err->path is "tie.NAME"); apply checks them
 * all, then ties each with wi_module_tie.  Hugging Face's order: build
 * and initialise as if untied, then apply.  No "tie" key: 0. */
int wi_model_check_ties(wi_module_t *root, const wi_value_t *doc,
                        const char *source, wi_error_t *err);
int wi_model_apply_ties(wi_module_t *root, const wi_value_t *doc,
                        const char *source, wi_error_t *err);

/* 1 when `type` is a built-in layer type (Linear, Conv2d, ...). */
int wi_layer_is_builtin(const char *type);

/* The built-in layer types, in the order of docs/model-format.md: the
 * name of type i < wi_layer_builtin_count() (static string; NULL past
 * the end). */
size_t wi_layer_builtin_count(void);
const char *wi_layer_builtin_name(size_t i);

/* Constructs one built-in layer from its constructor arguments (a JSON
 * object with PyTorch's names; borrowed; a "type" key is ignored) and runs
 * its default reset_parameters with the context's generator.  Unknown or
 * ill-typed arguments are WI_EINVAL with the accepted names listed. */
wi_module_t *wi_layer_new(const char *type, const wi_value_t *args,
                          wi_context_t *ctx, const char *source,
                          const char *path, wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
