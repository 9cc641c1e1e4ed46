/* The init_cfg engine: MMEngine's BaseModule.init_weights and functional
 * initialize(), with exact provenance (every parameter write is tracked
 * through tensor versions, so the report says who really wrote what). */
#ifndef WEIGHTINIT_ENGINE_H
#define WEIGHTINIT_ENGINE_H


#include <weightinit/context.h>
#include <weightinit/error.h>
#include <weightinit/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The top-level init_weights() on m (MMEngine semantics: own init_cfg,
 * then children, then Pretrained entries).  Logs through ctx; a second
 * call on an initialised module only warns.  Errors name the module path
 * and the init_cfg JSON path.  An init_cfg entry may also carry `names`
 * (weightinit's extension: parameters by dotted-name pattern,
 * docs/model-format.md).  With a wi_diagnostics_t lent to ctx
 * (diagnostics.h), the rules that matched or did nothing are recorded;
 * wi_initialize records them too. */
int wi_init_weights(wi_module_t *m, wi_context_t *ctx, wi_error_t *err);

/* MMEngine's initialize(module, init_cfg) for any module (cfg: an object
 * or a list of objects; borrowed).  Called on its own (not from an
 * init_weights) it attributes its writes for wi_init_report like
 * wi_init_weights does; a parameter it left alone reads "The value is the
 * same before and after calling `initialize` on TYPE". */
int wi_initialize(wi_module_t *m, const wi_value_t *init_cfg, wi_context_t *ctx,
                  wi_error_t *err);

/* Reads an init_cfg file: a JSON object or a list of them, opened as
 * model files are (a regular file of at most 64 MiB; a directory, FIFO or
 * device is refused, never waited on).  Returns a new reference, or NULL
 * with err set: WI_EFILE when it cannot be opened, WI_EINVAL (with line
 * and column for syntax errors) when it is not an init_cfg. */
wi_value_t *wi_init_cfg_load_file(const char *path, wi_error_t *err);

/* The per-parameter report after init_weights: for every parameter in
 * named_parameters() order, its dotted name, tensor and the description
 * of what last wrote it (MMEngine's wording; for a parameter nothing wrote:
 * "The value is the same before and after calling `init_weights` of
 * ROOT").  Strings are borrowed for the call.  Stops at a non-zero
 * return. */
typedef int (*wi_report_fn)(const char *name, const wi_tensor_t *t,
                            const char *info, void *ud);
int wi_init_report(wi_module_t *root, wi_report_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
