/* Python's repr(float), apart from the JSON printing in pyrepr.h so the
 * nn.init code builds without jansson (tests/musl).  Internal. */
#ifndef WI_PYFLOAT_H
#define WI_PYFLOAT_H

#include <stddef.h>

#include "base/internal.h"

/* repr(float): the shortest digits that round-trip, fixed notation for
 * exponents in [-4, 16), otherwise d.ddde+XX; "1.0", "0.01", "1e-05". */
WI_INTERNAL char *wi_priv_format_double(double x, char *buf, size_t size);

#endif
