/* The byte rules of a compact HS256 token (spec/fixtures/vectors/README.md, "Token verification"
   1-5): length first, only the base64url alphabet and dots, exactly three non-empty
   segments, strict base64url, strict JSON objects. Lua-free; used by core.c and the fuzzers. */
#ifndef APIV2_JWS_H
#define APIV2_JWS_H

#include <stddef.h>
#include "hidden.h"
#include "json_check.h"

#define APIV2_TOKEN_MAX 8192
/* Decoded segments are shorter than the token: each buffer below holds any of them. */
#define APIV2_JWS_SEGMENT_MAX (APIV2_TOKEN_MAX / 4 * 3 + 2)

typedef struct {
    unsigned char header[APIV2_JWS_SEGMENT_MAX];
    unsigned char payload[APIV2_JWS_SEGMENT_MAX];
    unsigned char signature[APIV2_JWS_SEGMENT_MAX];
    size_t header_len, payload_len, signature_len;
    size_t signing_input_len; /* the token up to (not including) its second dot */
} apiv2_jws;

/* The form of a compact token: NULL when jwt[0..n) is at most APIV2_TOKEN_MAX bytes of the
   base64url alphabet and dots, with exactly two dots around three non-empty segments (their
   offsets in *dot1, *dot2), else "token too long" or "malformed token". */
APIV2_HIDDEN const char *apiv2_jws_split(const char *jwt, size_t n, size_t *dot1, size_t *dot2);
/* The two halves of apiv2_jws_split: the dots alone (length first, then exactly two dots
   around three non-empty segments; the bytes unchecked), and whether every byte is of the
   base64url alphabet or a dot. */
APIV2_HIDDEN const char *apiv2_jws_find_dots(const char *jwt, size_t n, size_t *dot1, size_t *dot2);
APIV2_HIDDEN int apiv2_jws_chars_ok(const char *jwt, size_t n);

/* NULL when the decoded segment text[0..n) is one strict JSON text (apiv2_json_check) and an
   object, else "invalid utf8", "invalid json", "duplicate member", "too deep", "out of
   memory" or not_object; records as apiv2_json_check_members does (want may be NULL). */
APIV2_HIDDEN const char *apiv2_jws_json_object(const unsigned char *text, size_t n,
                                               const apiv2_json_want *want, size_t want_count,
                                               apiv2_json_span *found, apiv2_json_sizes *sizes,
                                               const char *not_object);

/* NULL when jwt[0..n) passes the rules (out is filled), else a static reason:
   "token too long", "malformed token", "invalid base64url", "invalid utf8", "invalid json",
   "duplicate member", "too deep", "out of memory", "header not an object",
   "payload not an object". Never relies on NUL termination. */
APIV2_HIDDEN const char *apiv2_jws_parse(const char *jwt, size_t n, apiv2_jws *out);

#endif
