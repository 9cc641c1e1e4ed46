/* How the engine adds to a diagnostics list (diagnostics.c). */
#ifndef WI_DIAGNOSTICS_INTERNAL_H
#define WI_DIAGNOSTICS_INTERNAL_H

#include <stddef.h>

#include <weightinit/diagnostics.h>

#include "base/internal.h"

/* Appends one diagnostic (d may be NULL: nothing happens).  suggestion
 * may be NULL.  0 or WI_ENOMEM. */
WI_INTERNAL int wi_priv_diag_add(wi_diagnostics_t *d, wi_diag_kind_t kind,
                                 const char *path, const char *suggestion,
                                 const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The JSON path of m's init_cfg in the model file:
 * children.a.children.b.init_cfg (engine.c). */
WI_INTERNAL void wi_priv_cfg_path(const wi_module_t *m, char *out, size_t size);

#endif
