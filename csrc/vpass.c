#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vpass.h"
#include "b64url.h"

static const apiv2_json_want HEADER_WANT[APIV2_H_COUNT] = {
    { "alg", 3 }, { "crit", 4 }, { "enc", 3 }, { "b64", 3 }
};
static const apiv2_json_want CLAIM_WANT[APIV2_C_COUNT] = { { "exp", 3 },  { "nbf", 3 },
                                                           { "iat", 3 },  { "aud", 3 },
                                                           { "jti", 3 },  { "scopes", 6 },
                                                           { "scope", 5 } };

static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the checked JSON string at span (quotes included) decodes to exactly s[0..n). */
static int string_equals(apiv2_vpass *v, const unsigned char *text, size_t start, size_t end,
                         const char *s, size_t n) {
    const unsigned char *body = text + start + 1;
    size_t len = end - start - 2, got;
    if (memchr(body, '\\', len) == NULL) return len == n && memcmp(body, s, n) == 0;
    if (len < n) return 0; /* an escape never decodes longer than itself */
    got = apiv2_json_unescape((const char *)body, len, v->scratch);
    return got == n && memcmp(v->scratch, s, n) == 0;
}

static const char *header_rules(apiv2_vpass *v) {
    const apiv2_json_span *h = v->header;
    const unsigned char *text = v->jws.header;
    if (h[APIV2_H_ALG].kind == 0) return "alg missing";
    if (h[APIV2_H_ALG].kind != '"' ||
        !string_equals(v, text, h[APIV2_H_ALG].start, h[APIV2_H_ALG].end, "HS256", 5))
        return "alg not allowed";
    if (h[APIV2_H_CRIT].kind != 0) return "unsupported crit";
    if (h[APIV2_H_ENC].kind != 0) return "unsupported enc";
    if (h[APIV2_H_B64].kind != 0 && h[APIV2_H_B64].kind != 't') return "unsupported b64";
    return NULL;
}

void apiv2_vpass_init(apiv2_vpass *v) {
    v->memo_len = 0;
    v->sizes.sizes = v->claim_sizes;
    v->sizes.capacity = APIV2_VPASS_SIZES;
    v->sizes.count = 0;
}

/* The rules in the order of jws.h (form, base64url, JSON), then the header's, with two
   shortcuts that give the same verdicts and reasons:
   - the per-byte alphabet check is left to the base64url decoder, which refuses every other
     byte; only when a segment fails to decode does the whole token get the per-byte check,
     which then tells "malformed token" from "invalid base64url";
   - a header segment byte-identical to the last one that passed every rule (every token of a
     tenant has the same) is not decoded and checked again: v->jws.header still holds it,
     because every decode into it first forgets the memo. */
const char *apiv2_vpass_run(const char *jwt, size_t n, apiv2_vpass *v) {
    size_t dot1, dot2, header_n, payload_n, signature_n;
    const char *reason = apiv2_jws_find_dots(jwt, n, &dot1, &dot2);
    const char *payload_seg, *signature_seg;
    apiv2_jws *out = &v->jws;
    int header_ok = 1, payload_ok, signature_ok, memo_hit;
    if (reason) return reason; /* (the dots are set only when there is none) */
    payload_seg = jwt + dot1 + 1;
    signature_seg = jwt + dot2 + 1;
    header_n = dot1;
    payload_n = dot2 - dot1 - 1;
    signature_n = n - dot2 - 1;
    memo_hit = v->memo_len == header_n && memcmp(v->memo, jwt, header_n) == 0;
    if (!memo_hit) {
        v->memo_len = 0;
        header_ok = apiv2_b64url_decode(jwt, header_n, out->header, &out->header_len);
    }
    payload_ok = apiv2_b64url_decode(payload_seg, payload_n, out->payload, &out->payload_len);
    signature_ok =
        apiv2_b64url_decode(signature_seg, signature_n, out->signature, &out->signature_len);
    if (!(header_ok && payload_ok && signature_ok) && !apiv2_jws_chars_ok(jwt, n))
        return "malformed token";
    if (!header_ok) return "invalid base64url";
    if (!memo_hit) {
        reason = apiv2_jws_json_object(out->header, out->header_len, HEADER_WANT, APIV2_H_COUNT,
                                       v->header, NULL, "header not an object");
        if (reason) return reason;
    }
    if (!payload_ok) return "invalid base64url";
    reason = apiv2_jws_json_object(out->payload, out->payload_len, CLAIM_WANT, APIV2_C_COUNT,
                                   v->claim, &v->sizes, "payload not an object");
    if (reason) return reason;
    if (!signature_ok) return "invalid base64url";
    out->signing_input_len = dot2;
    if (!memo_hit) {
        reason = header_rules(v);
        if (reason) return reason;
    }
    if (out->signature_len != 32) return "signature length";
    if (!memo_hit && header_n <= sizeof v->memo) {
        memcpy(v->memo, jwt, header_n);
        v->memo_len = header_n;
    }
    return NULL;
}

double apiv2_vpass_number(const unsigned char *text, size_t n, int *is_integer) {
    char buf[512];
    char *copy = buf, *end;
    size_t i, digits = 0;
    int integral = 1, negative = text[0] == '-';
    double value = 0;
    uint64_t whole = 0; /* the first 15 digits: below 2^53, so exact as a double */
    const char *point;
    for (i = negative; i < n; i++) {
        unsigned int digit = (unsigned int)text[i] - '0';
        if (digit > 9) {
            integral = 0;
            break;
        }
        if (digits < 15) whole = whole * 10 + digit;
        digits++;
    }
    if (integral && digits <= 15) { /* exact in a double: no strtod needed */
        value = (double)whole;
        *is_integer = 1;
        return negative ? -value : value;
    }
    /* strtod reads the locale's decimal point: give it that one. */
    if (n + 1 > sizeof buf) {
        copy = (char *)malloc(n + 1);
        if (copy == NULL) {
            *is_integer = 0;
            return 0;
        }
    }
    memcpy(copy, text, n);
    copy[n] = '\0';
    point = localeconv()->decimal_point;
    if (point != NULL && point[0] != '\0' && point[0] != '.' && point[1] == '\0') {
        for (i = 0; i < n; i++)
            if (copy[i] == '.') copy[i] = point[0];
    }
    value = strtod(copy, &end);
    if (copy != buf) free(copy);
    *is_integer = integral && value <= 9007199254740992.0 && value >= -9007199254740992.0;
    return value;
}

static size_t skip_string(const unsigned char *text, size_t pos) {
    pos++; /* the opening quote */
    for (;;) {
        if (text[pos] == '\\') pos += 2;
        else if (text[pos] == '"') return pos + 1;
        else pos++;
    }
}

size_t apiv2_vpass_skip(const unsigned char *text, size_t pos) {
    size_t depth = 0;
    do {
        unsigned char c = text[pos];
        if (c == '"') {
            pos = skip_string(text, pos);
        } else if (c == '{' || c == '[') {
            depth++;
            pos++;
        } else if (c == '}' || c == ']') {
            depth--;
            pos++;
        } else if (depth > 0) {
            pos++; /* separators, whitespace, scalars inside a container */
        } else {
            while (c != ',' && c != '}' && c != ']' && !is_space(c) && c != ':') c = text[++pos];
            return pos; /* a scalar at the top: numbers and literals end at a delimiter */
        }
    } while (depth > 0);
    return pos;
}

static size_t skip_space(const unsigned char *text, size_t pos) {
    while (is_space(text[pos])) pos++;
    return pos;
}

/* Calls back on each element of the checked array at text[pos] ('['); stops early when the
   callback returns nonzero, which it then returns. */
typedef int (*element_fn)(apiv2_vpass *v, const unsigned char *text, size_t start, size_t end,
                          const void *arg, size_t arg_len);

static int each_element(apiv2_vpass *v, const unsigned char *text, size_t pos, element_fn fn,
                        const void *arg, size_t arg_len) {
    pos = skip_space(text, pos + 1);
    if (text[pos] == ']') return 0;
    for (;;) {
        size_t end = apiv2_vpass_skip(text, pos);
        if (fn(v, text, pos, end, arg, arg_len)) return 1;
        pos = skip_space(text, end);
        if (text[pos] == ']') return 0;
        pos = skip_space(text, pos + 1); /* the comma */
    }
}

static int string_element(apiv2_vpass *v, const unsigned char *text, size_t start, size_t end,
                          const void *arg, size_t arg_len) {
    return text[start] == '"' && string_equals(v, text, start, end, (const char *)arg, arg_len);
}

/* The value of member name in the checked object at text[pos] ('{'): its offset, or 0. */
static size_t member_value(apiv2_vpass *v, const unsigned char *text, size_t pos, const char *name,
                           size_t len) {
    pos = skip_space(text, pos + 1);
    if (text[pos] == '}') return 0;
    for (;;) {
        size_t name_end = skip_string(text, pos), value = skip_space(text, name_end);
        int match = string_equals(v, text, pos, name_end, name, len);
        value = skip_space(text, value + 1); /* the colon */
        if (match) return value;
        pos = skip_space(text, apiv2_vpass_skip(text, value));
        if (text[pos] == '}') return 0;
        pos = skip_space(text, pos + 1);
    }
}

int apiv2_vpass_audience(apiv2_vpass *v, const char *audience, size_t len) {
    const apiv2_json_span *aud = &v->claim[APIV2_C_AUD];
    const unsigned char *text = v->jws.payload;
    if (aud->kind == '"') return string_equals(v, text, aud->start, aud->end, audience, len);
    if (aud->kind == '[') return each_element(v, text, aud->start, string_element, audience, len);
    return 0;
}

int apiv2_vpass_granted(apiv2_vpass *v, const char *scope, size_t len) {
    const unsigned char *text = v->jws.payload;
    const apiv2_json_span *scopes = &v->claim[APIV2_C_SCOPES], *flat = &v->claim[APIV2_C_SCOPE];
    const char *colon = (const char *)memchr(scope, ':', len);
    if (colon != NULL && scopes->kind == '{') {
        size_t action_len = (size_t)(colon - scope);
        size_t entity = member_value(v, text, scopes->start, colon + 1, len - action_len - 1);
        if (entity != 0 && text[entity] == '{') {
            size_t actions = member_value(v, text, entity, "actions", 7);
            if (actions != 0 && text[actions] == '[' &&
                each_element(v, text, actions, string_element, scope, action_len))
                return 1;
        }
    }
    if (flat->kind == '"') {
        const unsigned char *words;
        size_t n, i = 0, start;
        if (memchr(text + flat->start + 1, '\\', flat->end - flat->start - 2) != NULL) {
            n = apiv2_json_unescape((const char *)text + flat->start + 1,
                                    flat->end - flat->start - 2, v->scratch);
            words = v->scratch;
        } else {
            words = text + flat->start + 1;
            n = flat->end - flat->start - 2;
        }
        while (i < n) {
            while (i < n && words[i] == ' ') i++;
            start = i;
            while (i < n && words[i] != ' ') i++;
            if (i > start && i - start == len && memcmp(words + start, scope, len) == 0) return 1;
        }
    }
    return 0;
}
