/* Tensor facts shared by core files; not part of the ABI. */
#ifndef WI_TENSOR_INTERNAL_H
#define WI_TENSOR_INTERNAL_H

#include <stdint.h>

#include "base/internal.h"

/* Version bumps of all tensors of the process so far.  The engine compares
 * it with the bumps it sees in a subtree to know that nothing outside the
 * subtree was written, without looking at every other tensor. */
WI_INTERNAL uint64_t wi_priv_tensor_writes(void);

#endif
