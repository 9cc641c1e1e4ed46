/* The module tree: PyTorch's nn.Module as data.  A module has a type name
 * (its class), direct base-class names (what `layer` also matches), a flag
 * for MMEngine's BaseModule, ordered parameters (F32), ordered buffers,
 * ordered children, an optional init_cfg (a jansson value) and an optional
 * user-defined init_weights hook.  Registration order is the order of
 * state_dict() and of random draws, exactly as in PyTorch. */
#ifndef WEIGHTINIT_MODULE_H
#define WEIGHTINIT_MODULE_H

#include <stddef.h>


#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/state_dict.h>
#include <weightinit/tensor.h>
#include <weightinit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A module tree is at most this many modules deep (the root counts one):
 * every walk of a tree (init_weights, state_dict, deep copies, free)
 * recurses once per level, so the depth bounds their stack.  The deepest
 * real models are about 10 deep. */
#define WI_MODULE_MAX_DEPTH 64

/* A user-defined init_weights (wi_init_weights_fn, types.h: a module
 * type's own method) writes the module's parameters through the init.h /
 * functional.h calls (or raw writes followed by wi_tensor_bump_version)
 * and returns 0 or a WI_E* code with err filled. */

/* A new empty module of class `type` (copied), owned by the caller until
 * added to a parent; free with wi_module_free.  is_base_module: 1 for an
 * MMEngine BaseModule (has init_cfg and init_weights), 0 for a plain
 * nn.Module.  Base names start empty.  NULL only when out of memory. */
wi_module_t *wi_module_new(const char *type, int is_base_module);
/* Frees the module, its whole subtree, tensors and init_cfg.  NULL ok. */
void wi_module_free(wi_module_t *m);

/* Borrowed (owned by m, valid while it lives). */
const char *wi_module_type(const wi_module_t *m);
int wi_module_is_base_module(const wi_module_t *m);

/* Direct base-class names, in order (copied). */
int wi_module_add_base(wi_module_t *m, const char *name, wi_error_t *err);
size_t wi_module_base_count(const wi_module_t *m);
/* Borrowed (owned by m). */
const char *wi_module_base(const wi_module_t *m, size_t i);
/* 1 when `name` is the type or one of the direct bases (MMEngine's
 * `layer` rule). */
int wi_module_matches_layer(const wi_module_t *m, const char *name);

/* Adds a child; steals `child` even on failure.  WI_EINVAL for a
 * duplicate name (child, parameter or buffer) and for a child whose
 * subtree would make the tree deeper than WI_MODULE_MAX_DEPTH.  A child
 * that already has a parent, or is m or one of m's ancestors (a cycle),
 * is WI_EINVAL too and is not stolen: it belongs to its tree. */
int wi_module_add_child_new(wi_module_t *m, const char *name,
                            wi_module_t *child, wi_error_t *err);
size_t wi_module_child_count(const wi_module_t *m);
/* Child i and its name: borrowed (owned by m; i < the count). */
wi_module_t *wi_module_child(const wi_module_t *m, size_t i);
const char *wi_module_child_name(const wi_module_t *m, size_t i);
/* Borrowed, NULL when there is no such direct child. */
wi_module_t *wi_module_find_child(const wi_module_t *m, const char *name);
/* The parent (borrowed: it owns m), NULL for a root. */
wi_module_t *wi_module_parent(const wi_module_t *m);
/* Resolves a dotted path of children ("" = m itself): borrowed (owned
 * by m's tree), NULL if absent. */
wi_module_t *wi_module_get_submodule(wi_module_t *m, const char *path);

/* Parameters and buffers: steal `t` even on failure.  A parameter may be
 * absent (PyTorch's None, e.g. bias=False): pass t = NULL; it then takes
 * part in nothing but keeps its registration slot. */
int wi_module_add_parameter_new(wi_module_t *m, const char *name,
                                wi_tensor_t *t, wi_error_t *err);
int wi_module_add_buffer_new(wi_module_t *m, const char *name,
                             wi_tensor_t *t, wi_error_t *err);
size_t wi_module_parameter_count(const wi_module_t *m);
/* Parameter i's name and tensor (NULL for None): borrowed, owned by m (a
 * tied parameter's tensor by the parameter it is tied to). */
const char *wi_module_parameter_name(const wi_module_t *m, size_t i);
wi_tensor_t *wi_module_parameter(const wi_module_t *m, size_t i);
/* Borrowed; NULL when absent or None (MMEngine's hasattr+not None). */
wi_tensor_t *wi_module_find_parameter(const wi_module_t *m, const char *name);
size_t wi_module_buffer_count(const wi_module_t *m);
/* Buffer i's name and tensor: borrowed, owned by m. */
const char *wi_module_buffer_name(const wi_module_t *m, size_t i);
wi_tensor_t *wi_module_buffer(const wi_module_t *m, size_t i);

/* Provenance: the description of whatever last wrote parameter i during
 * init_weights (copied when set; returned borrowed, valid until the next
 * set or m is freed; NULL = nothing wrote it). */
int wi_module_set_parameter_info(wi_module_t *m, size_t i, const char *info,
                                 wi_error_t *err);
const char *wi_module_parameter_info(const wi_module_t *m, size_t i);

/* init_cfg: steals cfg (may be NULL to clear).  Borrowed accessor. */
void wi_module_set_init_cfg_new(wi_module_t *m, wi_value_t *cfg);
wi_value_t *wi_module_init_cfg(const wi_module_t *m);
/* Constructor arguments as given in the model file (steals; borrowed).
 * Read-only: modules with equal arguments may share one object. */
void wi_module_set_args_new(wi_module_t *m, wi_value_t *args);
wi_value_t *wi_module_args(const wi_module_t *m);

/* The user-defined init_weights hook, NULL for none. */
void wi_module_set_init_weights(wi_module_t *m, wi_init_weights_fn fn);
wi_init_weights_fn wi_module_init_weights_fn(const wi_module_t *m);

/* MMEngine's `is_init` flag. */
int wi_module_is_init(const wi_module_t *m);
void wi_module_set_is_init(wi_module_t *m, int is_init);

/* Private data of a module-type plugin; free_fn runs in wi_module_free.
 * The accessor returns it borrowed (m owns it once set). */
void wi_module_set_user_data(wi_module_t *m, void *data,
                             void (*free_fn)(void *data));
void *wi_module_user_data(const wi_module_t *m);

/* Visits the module and its descendants children-first, in registration
 * order (nn.Module.apply).  Stops at the first non-zero return. */
typedef int (*wi_module_visit_fn)(wi_module_t *m, void *ud);
int wi_module_apply(wi_module_t *m, wi_module_visit_fn fn, void *ud);

/* Visits every present parameter in named_parameters() order with its
 * dotted name.  Stops at the first non-zero return. */
typedef int (*wi_parameter_visit_fn)(const char *name, wi_module_t *owner,
                                     size_t index, void *ud);
int wi_module_named_parameters(wi_module_t *m, wi_parameter_visit_fn fn,
                               void *ud);

/* Ties parameter `name` to parameter `target` (dotted names relative to
 * root, e.g. "lm_head.weight" and "wte.weight"), as Hugging Face's
 * `output_embeddings.weight = input_embeddings.weight`: name's own tensor
 * is freed and its slot borrows target's tensor from then on (target's
 * module keeps owning it; wi_module_free frees it once).  Both must be
 * present parameters of root's tree with the same shape; tying a name to
 * itself, a name already tied, or to a tied name (a chain) is WI_EINVAL.
 * Afterwards state_dict lists both names with the one tensor, and
 * named_parameters lists it once, under its first name (torch's
 * remove_duplicate).  Call it after initialisation: writes through either
 * name are writes to the one tensor. */
int wi_module_tie(wi_module_t *root, const char *name, const char *target,
                  wi_error_t *err);

/* A new state dict borrowing m's parameters and buffers, named and ordered
 * as PyTorch's state_dict().  Free it before the module. */
wi_state_dict_t *wi_module_state_dict(wi_module_t *m, wi_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
