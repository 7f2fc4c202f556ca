/* JSON string escaping exactly as ECMAScript's JSON.stringify does it, so that our payload bytes
   equal those of Auth0's Node generator: only '"', '\\' and C0 controls are escaped
   (\b \f \n \r \t, else \u00xx in lower case); '/', DEL and non-ASCII pass through. Lua-free. */
#ifndef APIV2_JSON_ESCAPE_H
#define APIV2_JSON_ESCAPE_H

#include <stddef.h>
#include "hidden.h"

/* Length of the escaped text without quotes; 0 with *overflow set when it would not fit size_t. */
APIV2_HIDDEN size_t apiv2_json_escaped_len(const char *s, size_t n, int *overflow);
/* Writes apiv2_json_escaped_len(s, n) bytes to out. */
APIV2_HIDDEN void apiv2_json_escape(const char *s, size_t n, char *out);

#endif
