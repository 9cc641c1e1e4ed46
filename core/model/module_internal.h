/* Module-tree lookups for the engine and the checkpoint loader that the
 * public API does not need.  Internal; not exported. */
#ifndef WI_MODULE_INTERNAL_H
#define WI_MODULE_INTERNAL_H

#include <stddef.h>

#include <weightinit/module.h>

#include "base/internal.h"

/* The name m is registered under in its parent ("" for a root); borrowed. */
WI_INTERNAL const char *wi_priv_module_name(const wi_module_t *m);
/* The child of m named by the first len bytes of name, or NULL. */
WI_INTERNAL wi_module_t *wi_priv_module_find_child_n(const wi_module_t *m,
                                                     const char *name,
                                                     size_t len);
/* 1 and *index when name is a parameter of m (None included), else 0;
 * a hash lookup. */
WI_INTERNAL int wi_priv_module_parameter_index(const wi_module_t *m,
                                               const char *name,
                                               size_t *index);
/* 1 when the first len bytes of name are a parameter or buffer of m that
 * is not None (torch's local_state), else 0. */
WI_INTERNAL int wi_priv_module_has_state(const wi_module_t *m,
                                         const char *name, size_t len);

/* Ties: parameter i of m becomes t, a tensor owned by another parameter
 * of the same tree (its own tensor is freed).  The slot then borrows t:
 * wi_module_free never frees it, named_parameters skips it (torch lists
 * a shared Parameter once), state_dict still lists it. */
WI_INTERNAL void wi_priv_module_tie_parameter(wi_module_t *m, size_t i,
                                              wi_tensor_t *t);
WI_INTERNAL int wi_priv_module_parameter_tied(const wi_module_t *m, size_t i);

/* Whether parameter i of m was written by an initializer or
 * init_weights during the tracked run (the engine sets it as it
 * attributes writes; construction does not count).  Diagnostics read it:
 * a fact, where the report's wording is for people. */
WI_INTERNAL void wi_priv_module_set_written(wi_module_t *m, size_t i, int written);
WI_INTERNAL int wi_priv_module_parameter_written(const wi_module_t *m, size_t i);

/* wi_module_add_parameter_new (is_buffer 0) or wi_module_add_buffer_new
 * (1); with borrow, name must be a string that lives as long as the
 * process (the layer table's "weight") and is kept, not copied.
 * state_borrowed tells whether slot i's name was. */
WI_INTERNAL int wi_priv_module_add_state(wi_module_t *m, int is_buffer,
                                         const char *name, int borrow,
                                         wi_tensor_t *t, wi_error_t *err);
WI_INTERNAL int wi_priv_module_state_borrowed(const wi_module_t *m, int is_buffer,
                                              size_t i);

/* wi_module_new and wi_module_add_base for a string that lives as long
 * as the process (a literal, the layer table's): borrowed, not copied. */
WI_INTERNAL wi_module_t *wi_priv_module_new_static(const char *type,
                                                   int is_base_module);
WI_INTERNAL int wi_priv_module_add_base_static(wi_module_t *m, const char *name,
                                               wi_error_t *err);
/* A new module of m's type and bases (borrowed where m's are), nothing
 * else.  NULL with err when out of memory. */
WI_INTERNAL wi_module_t *wi_priv_module_new_as(const wi_module_t *m,
                                               wi_error_t *err);

/* A deep copy of m's subtree (copy.deepcopy of an nn.Module): new tensors
 * with the same values, init_cfg, arguments, bases and init_weights; the
 * copy has no parent.  A module whose plugin type keeps private data
 * (wi_module_set_user_data) cannot be copied: WI_EUNSUPPORTED.  New
 * reference, NULL with err filled. */
WI_INTERNAL wi_module_t *wi_priv_module_clone(const wi_module_t *m,
                                              wi_error_t *err);

#endif
