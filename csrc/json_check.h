/* Strict RFC 8259 validator for JWT header and payload bytes, run before lua-cjson (which is lax).
   Lua-free and allocation-light: (pointer, length) in, a code and a static reason out. */
#ifndef APIV2_JSON_CHECK_H
#define APIV2_JSON_CHECK_H

#include <stddef.h>

#include "hidden.h"

/* Result codes of apiv2_json_check; the reason strings are given next to each. */
#define APIV2_JSON_OK 0
#define APIV2_JSON_BAD_UTF8 1  /* "invalid utf8" */
#define APIV2_JSON_INVALID 2   /* "invalid json" */
#define APIV2_JSON_DUPLICATE 3 /* "duplicate member" */
#define APIV2_JSON_TOO_DEEP 4  /* "too deep" */
#define APIV2_JSON_NO_MEMORY 5 /* "out of memory" */

/* Deepest allowed nesting of arrays and objects; one more opening bracket is "too deep". */
#define APIV2_JSON_MAX_DEPTH 64

/* Returns 0 when buf[0..len) is one strict RFC 8259 JSON text, else a nonzero code above;
   *reason (when reason is not NULL) gets a static string naming the defect, or "ok".
   Rejects duplicate member names (compared after unescaping) in every object.
   Never reads past len and never relies on NUL termination. Thread-safe: no static state. */
APIV2_HIDDEN int apiv2_json_check(const char *buf, size_t len, const char **reason);

/* A top-level member the caller wants to know about: its name (plain ASCII, compared with the
   member name after unescaping) and, once found, where its value lies in the text. */
typedef struct {
    const char *name;
    size_t name_len;
} apiv2_json_want;

typedef struct {
    size_t start;       /* offset of the value's first byte */
    size_t end;         /* offset just past its last byte */
    unsigned char kind; /* the value's first byte ('"', '{', '[', '-', a digit, 't', 'f',
                              'n'), or 0 when the member is absent */
} apiv2_json_span;

/* The sizes of a text's arrays and objects, in document order (the order their opening
   brackets come in): sizes[k] is the number of elements or members of the k-th, for the first
   `capacity` of them; `count` says how many were recorded. */
typedef struct {
    unsigned *sizes;
    size_t capacity;
    size_t count;
} apiv2_json_sizes;

/* apiv2_json_check that also records, in found[i], the value of the top-level member named
   want[i] (when the text is an object), and, when sizes is not NULL, the containers' sizes.
   The checking is exactly apiv2_json_check's, down to the allocations it makes (so a failing
   malloc or realloc gives the same verdict); what is recorded is meaningful only when it
   returns 0. want's names need not be distinct: a name listed twice is recorded in its first
   slot only, and the later slots keep kind 0. */
APIV2_HIDDEN int apiv2_json_check_members(const char *buf, size_t len, const char **reason,
                                          const apiv2_json_want *want, size_t want_count,
                                          apiv2_json_span *found, apiv2_json_sizes *sizes);

/* Decodes the contents of a JSON string that passed the check (the bytes between its quotes)
   into out, which has room for n bytes; returns the decoded length (never more than n). */
APIV2_HIDDEN size_t apiv2_json_unescape(const char *s, size_t n, unsigned char *out);

/* Returns 1 when buf[0..len) is valid UTF-8 (no overlongs, no surrogates U+D800-DFFF, nothing
   above U+10FFFF, no stray continuation bytes), else 0. */
APIV2_HIDDEN int apiv2_utf8_valid(const char *buf, size_t len);

#endif
