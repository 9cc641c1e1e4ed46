#ifndef WI_MATH_EXP_DATA_H
#define WI_MATH_EXP_DATA_H

#include <stdint.h>

#include "base/internal.h"

#define WI_EXP_INVLN2N (0x1.71547652b82fep0 * 128)
#define WI_EXP_NEGLN2HIN (-0x1.62e42fefa0000p-8)
#define WI_EXP_NEGLN2LON (-0x1.cf79abc9e3b3ap-47)
#define WI_EXP_SHIFT 0x1.8p52

WI_INTERNAL extern const uint64_t wi_exp_tab[256];
WI_INTERNAL extern const double wi_exp_poly[4];

#endif
