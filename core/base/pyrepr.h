/* Python's printing of config values, for MMEngine-identical info strings
 * and log lines.  Internal. */
#ifndef WI_PYREPR_H
#define WI_PYREPR_H

#include <stddef.h>

#include <jansson.h>

#include "base/internal.h"
#include "base/pyfloat.h"

/* str() of a JSON number: ints as ints, reals as repr(float); other values
 * as wi_priv_python_repr would print them (truncated). */
WI_INTERNAL char *wi_priv_value_repr(const json_t *v, char *buf, size_t size);
/* repr() of a JSON value as the equivalent Python object (dicts, lists,
 * 'strings', True/False/None); malloc'd, NULL when out of memory. */
WI_INTERNAL char *wi_priv_python_repr(const json_t *v);

#endif
