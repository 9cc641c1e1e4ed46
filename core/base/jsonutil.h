/* JSON helpers shared by the model loader and the init_cfg engine: path
 * building for error messages and short renderings of offending values.
 * Internal; not exported. */
#ifndef WI_JSONUTIL_H
#define WI_JSONUTIL_H

#include <stddef.h>

#include "base/internal.h"

#include <jansson.h>

#define WI_PATH_MAX 256

/* out = a sep b.  A path longer than size - 1 keeps its first two
 * components (the definition, or the root's child) and its end, which
 * names the node at fault: "definitions.B...children.fc.params.w", the
 * end starting at a component (after a '.' or at a '['), never a key cut
 * in half.  out must not overlap the inputs. */
WI_INTERNAL void wi_priv_path_join(char *out, size_t size, const char *a,
                                   const char *sep, const char *b);
/* out = base.key (or key when base is empty), as wi_priv_path_join. */
WI_INTERNAL void wi_priv_path_key(char *out, size_t size, const char *base,
                      const char *key);
/* out = base[index], as wi_priv_path_join. */
WI_INTERNAL void wi_priv_path_index(char *out, size_t size, const char *base,
                        size_t index);
/* A compact, truncated rendering of v for "got ..." (e.g. `"3"`, `[1, 2]`,
 * `an object`). */
WI_INTERNAL const char *wi_priv_json_repr(const json_t *v, char *buf, size_t size);
/* "an int", "a string", ... for messages. */
WI_INTERNAL const char *wi_priv_json_kind(const json_t *v);
/* 1 for a JSON integer, or a real with an integral value is NOT accepted:
 * PyTorch sizes are Python ints. */
WI_INTERNAL int wi_priv_json_is_int(const json_t *v);

#endif
