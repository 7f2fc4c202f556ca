#include <string.h>

#include "jws.h"
#include "b64url.h"
#include "json_check.h"

const char *apiv2_jws_find_dots(const char *jwt, size_t n, size_t *dot1, size_t *dot2) {
    const char *first, *second;
    if (n > APIV2_TOKEN_MAX) return "token too long";
    first = n ? (const char *)memchr(jwt, '.', n) : NULL;
    if (first == NULL || first == jwt) return "malformed token";
    second = (const char *)memchr(first + 1, '.', n - (size_t)(first + 1 - jwt));
    if (second == NULL || second == first + 1 || second + 1 == jwt + n ||
        memchr(second + 1, '.', n - (size_t)(second + 1 - jwt)) != NULL)
        return "malformed token";
    *dot1 = (size_t)(first - jwt);
    *dot2 = (size_t)(second - jwt);
    return NULL;
}

int apiv2_jws_chars_ok(const char *jwt, size_t n) {
    const unsigned char *s = (const unsigned char *)jwt;
    size_t i;
    unsigned ok = 1;
    /* The base64url alphabet's table, and the dot: no branch per byte (a token's characters
       are random, and range tests mispredict). */
    for (i = 0; i < n; i++) ok &= (apiv2_b64url_value[s[i]] != APIV2_B64URL_BAD) | (s[i] == '.');
    return (int)ok;
}

const char *apiv2_jws_split(const char *jwt, size_t n, size_t *dot1, size_t *dot2) {
    if (n > APIV2_TOKEN_MAX) return "token too long";
    if (!apiv2_jws_chars_ok(jwt, n)) return "malformed token";
    return apiv2_jws_find_dots(jwt, n, dot1, dot2);
}

const char *apiv2_jws_json_object(const unsigned char *text, size_t n, const apiv2_json_want *want,
                                  size_t want_count, apiv2_json_span *found,
                                  apiv2_json_sizes *sizes, const char *not_object) {
    const char *reason = NULL;
    size_t i;
    if (apiv2_json_check_members((const char *)text, n, &reason, want, want_count, found, sizes) !=
        0)
        return reason ? reason : "invalid json";
    /* lua-cjson turns arrays into tables too: only the text tells an object. */
    for (i = 0; i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n');
         i++) {
    }
    return i < n && text[i] == '{' ? NULL : not_object;
}

/* Decodes one JSON segment and checks it strictly; NULL or a failure reason. */
static const char *decode_json_segment(const char *seg, size_t n, unsigned char *out,
                                       size_t *outlen, const char *not_object) {
    if (!apiv2_b64url_decode(seg, n, out, outlen)) return "invalid base64url";
    return apiv2_jws_json_object(out, *outlen, NULL, 0, NULL, NULL, not_object);
}

const char *apiv2_jws_parse(const char *jwt, size_t n, apiv2_jws *out) {
    size_t dot1, dot2;
    const char *reason = apiv2_jws_split(jwt, n, &dot1, &dot2);
    if (reason) return reason;
    reason = decode_json_segment(jwt, dot1, out->header, &out->header_len, "header not an object");
    if (reason) return reason;
    reason = decode_json_segment(jwt + dot1 + 1, dot2 - dot1 - 1, out->payload, &out->payload_len,
                                 "payload not an object");
    if (reason) return reason;
    if (!apiv2_b64url_decode(jwt + dot2 + 1, n - dot2 - 1, out->signature, &out->signature_len))
        return "invalid base64url";
    out->signing_input_len = dot2;
    return NULL;
}
