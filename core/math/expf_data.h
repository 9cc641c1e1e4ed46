/* expf.c's table and constants, shared with its AVX2 version. */
#ifndef WI_MATH_EXPF_DATA_H
#define WI_MATH_EXPF_DATA_H

#include <stdint.h>

#include "base/internal.h"

/* bits(2^(i/32)) - (i << 47): the exponent is added back from k. */
WI_INTERNAL extern const uint64_t wi_expf_tab[32];
WI_INTERNAL extern const double wi_expf_poly[3];
#define WI_EXPF_INVLN2N (0x1.71547652b82fep+0 * 32)
#define WI_EXPF_SHIFT 0x1.8p+52

#endif
