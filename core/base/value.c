/* wi_value_t (types.h) is jansson's json_t: parsing, printing and
 * freeing one for callers that do not use jansson themselves. */
#include <string.h>

#include <jansson.h>

#include <weightinit/error.h>
#include <weightinit/value.h>

#include "base/internal.h"

wi_value_t *wi_value_parse(const char *text, wi_error_t *err)
{
    json_error_t je;
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je)
                     : NULL;
    if (v)
        return (wi_value_t *)v;
    if (!text) {
        wi_error_set(err, WI_EINVAL, NULL, NULL, "wi_value_parse: text is NULL");
        return NULL;
    }
    wi_error_set(err, WI_EFORMAT, NULL, NULL, "invalid JSON: %s", je.text);
    if (err) {
        err->line = je.line;
        err->column = je.column;
    }
    return NULL;
}

char *wi_value_dump(const wi_value_t *v)
{
    return v ? json_dumps((const json_t *)v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

void wi_value_free(wi_value_t *v) { json_decref((json_t *)v); }
