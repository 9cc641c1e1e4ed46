/* JSON helpers shared by the model loader and the init_cfg engine: short
 * renderings of offending values (and, through base/path.h, paths).
 * Internal; not exported. */
#ifndef WI_JSONUTIL_H
#define WI_JSONUTIL_H

#include <stddef.h>

#include "base/internal.h"

#include <jansson.h>

#include "base/path.h"

/* A compact, truncated rendering of v for "got ..." (e.g. `"3"`, `[1, 2]`,
 * `an object`). */
WI_INTERNAL const char *wi_priv_json_repr(const json_t *v, char *buf, size_t size);
/* "an int", "a string", ... for messages. */
WI_INTERNAL const char *wi_priv_json_kind(const json_t *v);

#endif
