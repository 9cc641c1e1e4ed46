#ifndef WI_MATH_LOGF_DATA_H
#define WI_MATH_LOGF_DATA_H

#include <stdint.h>

#include "base/internal.h"

/* logf's table ({1/c, log(c)} bits) and polynomial, shared with the
 * vector version. */
WI_INTERNAL extern const uint64_t wi_logf_tab[16][2];
WI_INTERNAL extern const double wi_logf_poly[3];
#define WI_LOGF_LN2 0x1.62e42fefa39efp-1

#endif
