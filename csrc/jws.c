#include "jws.h"
#include "b64url.h"
#include "json_check.h"

/* Whether c may appear in a compact token: the base64url alphabet and '.'. */
static int token_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.';
}

/* Decodes one JSON segment and checks it strictly; NULL or a failure reason. */
static const char *decode_json_segment(const char *seg, size_t n, unsigned char *out,
                                       size_t *outlen, const char *not_object) {
    const char *reason = NULL;
    size_t i;
    if (!apiv2_b64url_decode(seg, n, out, outlen)) return "invalid base64url";
    if (apiv2_json_check((const char *)out, *outlen, &reason) != 0)
        return reason ? reason : "invalid json";
    /* lua-cjson turns arrays into tables too: only the text tells an object. */
    for (i = 0;
         i < *outlen && (out[i] == ' ' || out[i] == '\t' || out[i] == '\r' || out[i] == '\n');
         i++) {
    }
    return i < *outlen && out[i] == '{' ? NULL : not_object;
}

const char *apiv2_jws_parse(const char *jwt, size_t n, apiv2_jws *out) {
    size_t i, dot1 = 0, dot2 = 0, dots = 0;
    const char *reason;
    if (n > APIV2_TOKEN_MAX) return "token too long";
    for (i = 0; i < n; i++) {
        if (!token_char((unsigned char)jwt[i])) return "malformed token";
        if (jwt[i] == '.') {
            if (++dots == 1) dot1 = i;
            else dot2 = i;
        }
    }
    if (dots != 2 || dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == n) return "malformed token";
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
