/* The init_cfg engine's parts: provenance.c attributes parameter writes,
 * init_cfg.c builds and runs one initializer config, names.c and
 * overrides.c run the entries that select by name, engine.c runs
 * initialize() and init_weights; and what the engine gives the host table
 * (host/host.c) beyond the public API.  Not part of the ABI. */
#ifndef WI_ENGINE_INTERNAL_H
#define WI_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <weightinit/diagnostics.h>
#include <weightinit/plugin.h>
#include <weightinit/types.h>

#include "base/internal.h"
#include "base/map.h"

/* BaseModule.init_weights' own behaviour: the init_cfg of m, then each
 * child's init_weights (engine.c); the host table's base_init_weights. */
WI_INTERNAL int wi_priv_base_init_weights(wi_module_t *m, wi_context_t *ctx,
                                          wi_error_t *err);

struct wi_priv_tracked {
    wi_module_t *owner;
    size_t index;
    uint64_t version;
};

/* The parameters in named_parameters() order, so every subtree's are one
 * run [begin, end); `subtrees` maps a module to its run's index in runs. */
struct wi_priv_run {
    size_t begin, end;
};

struct wi_priv_tracker {
    struct wi_priv_tracked *items;
    size_t n, cap;
    struct wi_priv_run *runs;
    size_t n_runs, cap_runs;
    wi_priv_map_t subtrees;
    uint64_t writes; /* wi_priv_tensor_writes() when last attributed */
    int keep_info;   /* wi_priv_start_tracking's */
};

/* Records every parameter's version (provenance.c) and clears its last
 * writer, unless keep_info (construction, where an inner node's init
 * already attributed some); the caller points ctx->tracker at t for the
 * run and clears it (wi_priv_stop_tracking) before t goes away. */
WI_INTERNAL int wi_priv_start_tracking(wi_module_t *m, int keep_info,
                                       struct wi_priv_tracker *t,
                                       wi_error_t *err);
WI_INTERNAL void wi_priv_stop_tracking(wi_context_t *ctx,
                                       struct wi_priv_tracker *t);

/* Attributes every parameter written since the last call to `info`,
 * adding the number of writes seen to *count (when not NULL).
 * Initializers and init_weights write inside the subtree of m they were
 * given, so only that run is compared; when the process-wide write count
 * says some write happened elsewhere (a plugin writing outside its
 * module, scratch tensors), the rest of the tree is compared too. */
WI_INTERNAL int wi_priv_attribute(wi_context_t *ctx, wi_module_t *m,
                                  const char *info, const char *source,
                                  int64_t *count, wi_error_t *err);

/* What one init_cfg entry did, for the diagnostics.  NULL when they are
 * not collected: no list on the context, or an initialize() nested in a
 * user's init_weights, whose JSON paths are not the model file's. */
struct wi_priv_entry_diag {
    wi_diagnostics_t *list;
    int64_t writes; /* parameter writes the entry made */
    int explained;  /* a more specific diagnostic was added */
};

/* An initializer built from one config (which has no override). */
struct wi_priv_instance {
    const wi_initializer_type_t *type;
    void *self;
    json_t *args, *layer;
};

/* Sets err at path.key (init_cfg.c) and returns code. */
WI_INTERNAL int wi_priv_cfg_error(const char *path, const char *key,
                                  wi_error_t *err, int code, const char *fmt,
                                  const char *detail);

/* Builds in from cfg (init_cfg.c): the registered type its "type" names,
 * created with the rest as arguments.  0, or a negative code with err
 * set and in cleared. */
WI_INTERNAL int wi_priv_instance_new(const json_t *cfg, const char *path,
                                     wi_context_t *ctx,
                                     struct wi_priv_instance *in,
                                     wi_error_t *err);
WI_INTERNAL void wi_priv_instance_free(struct wi_priv_instance *in);

/* wi_module_apply's visitor offering a module's type and bases to the
 * wi_priv_suggest_t ud (did-you-mean for a layer name; init_cfg.c). */
WI_INTERNAL int wi_priv_offer_types(wi_module_t *m, void *ud);

/* out = path.key[i] when v is a list, else path.key. */
WI_INTERNAL void wi_priv_element_path(char *out, size_t size, const char *path,
                                      const char *key, const json_t *v,
                                      size_t i);

/* _initialize(module, cfg, wholemodule): builds the initializer from cfg
 * (which has no override) and runs it on m (init_cfg.c). */
WI_INTERNAL int wi_priv_run_initializer(wi_module_t *m, const json_t *cfg,
                                        int wholemodule, const char *path,
                                        wi_context_t *ctx,
                                        struct wi_priv_entry_diag *de,
                                        wi_error_t *err);

/* `names` is weightinit's own key: a list of patterns, alone in its entry
 * beside the initializer's arguments (what layer, override or a bias
 * would mean next to it is ambiguous, so they are refused; names.c). */
WI_INTERNAL int wi_priv_check_names(const json_t *cfg, const json_t *names,
                                    const char *path, wi_error_t *err);

/* The names entry: the initializer's tensor function on every parameter
 * of m whose dotted name (relative to m) a pattern matches, in
 * state_dict order (names.c). */
WI_INTERNAL int wi_priv_run_names(wi_module_t *m, const json_t *cfg,
                                  const json_t *names, const char *path,
                                  wi_context_t *ctx,
                                  struct wi_priv_entry_diag *de,
                                  wi_error_t *err);

/* wi_priv_run_names with the initializer already built (an apply or
 * modules pass builds each step's once, for every module it visits). */
WI_INTERNAL int wi_priv_run_names_with(wi_module_t *m, struct wi_priv_instance *in,
                                       const json_t *names, const char *path,
                                       wi_context_t *ctx, struct wi_priv_entry_diag *de,
                                       wi_error_t *err);

/* 1 when pattern (names' syntax: '*' within a component, '**' across
 * them) matches the dotted name, 0 when not, WI_ENOMEM (names.c). */
WI_INTERNAL int wi_priv_glob_match(const char *pattern, const char *name);

/* A pass entry: {"apply": RULES} or {"modules": RULES} (passes.c). */
WI_INTERNAL int wi_priv_is_pass(const json_t *cfg);
/* Checks a pass entry's shape: 0 or WI_EINVAL at its JSON path. */
WI_INTERNAL int wi_priv_check_pass(const json_t *cfg, const char *path,
                                   wi_error_t *err);
/* Runs a pass entry on m's subtree: each module, in post-order (apply) or
 * pre-order (modules), gets the first rule that matches it. */
WI_INTERNAL int wi_priv_run_pass(wi_module_t *m, const json_t *cfg, const char *path,
                                 wi_context_t *ctx, struct wi_priv_entry_diag *de,
                                 wi_error_t *err);
/* initialize(m, cfgs) with the entries' JSON paths under base (a node's
 * construction-time "init"): diagnostics collected, writes attributed
 * (engine.c). */
WI_INTERNAL int wi_priv_initialize_at(wi_module_t *m, const json_t *cfgs,
                                      const char *base, wi_context_t *ctx,
                                      wi_error_t *err);

/* The entry's override, a dict or a list of dicts (overrides.c): each
 * names a child of m, which gets the override's initializer, or cfg's
 * when the override gives only the name. */
WI_INTERNAL int wi_priv_run_overrides(wi_module_t *m, const json_t *override,
                                      const json_t *cfg, const char *path,
                                      wi_context_t *ctx,
                                      struct wi_priv_entry_diag *de,
                                      wi_error_t *err);

#endif
