/* JSON paths for error messages.  Internal; not exported. */
#ifndef WI_PATH_H
#define WI_PATH_H

#include <stddef.h>

#include "base/internal.h"

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
#endif
