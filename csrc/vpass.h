/* The one pass of verification over a compact HS256 token (Lua-free, for core.c and the
   fuzzers): the byte rules of jws.h, the strict UTF-8/JSON check of both segments with the
   header's and the claims' members of interest recorded while checking, the header rules
   (alg, crit, enc, b64, signature length), and readers for the recorded claims: numbers, the
   audience, the scopes matched against a rule. The MAC is the caller's (it holds the key). */
#ifndef APIV2_VPASS_H
#define APIV2_VPASS_H

#include <stddef.h>
#include "hidden.h"
#include "json_check.h"
#include "jws.h"

/* Recorded header members. */
enum { APIV2_H_ALG, APIV2_H_CRIT, APIV2_H_ENC, APIV2_H_B64, APIV2_H_COUNT };
/* Recorded claims. */
enum {
    APIV2_C_EXP,
    APIV2_C_NBF,
    APIV2_C_IAT,
    APIV2_C_AUD,
    APIV2_C_JTI,
    APIV2_C_SCOPES,
    APIV2_C_SCOPE,
    APIV2_C_COUNT
};

/* How many of the payload's arrays and objects have their size recorded (tables are made at
   their final size from it; more than a few dozen never occur in a real token). */
#define APIV2_VPASS_SIZES 64

typedef struct {
    apiv2_jws jws; /* decoded segments, signing input length */
    apiv2_json_span header[APIV2_H_COUNT];
    apiv2_json_span claim[APIV2_C_COUNT];
    unsigned char scratch[APIV2_JWS_SEGMENT_MAX]; /* decoded strings */
    unsigned char memo[128]; /* the last header segment that passed, while jws.header holds it */
    size_t memo_len;         /* 0: none */
    unsigned claim_sizes[APIV2_VPASS_SIZES]; /* the sizes of the payload's first containers */
    apiv2_json_sizes sizes;                  /* ... as the check recorded them */
} apiv2_vpass;

/* Readies a work area for its first apiv2_vpass_run (which may then be called any number of
   times on it). */
APIV2_HIDDEN void apiv2_vpass_init(apiv2_vpass *v);

/* NULL when the token passes every rule before the MAC, else the reason, in the order of
   token.verify: "token too long", "malformed token", "invalid base64url", "invalid utf8",
   "invalid json", "duplicate member", "too deep", "out of memory", "header not an object",
   "payload not an object", "alg missing", "alg not allowed", "unsupported crit",
   "unsupported enc", "unsupported b64", "signature length". */
APIV2_HIDDEN const char *apiv2_vpass_run(const char *jwt, size_t n, apiv2_vpass *v);

/* The value of a JSON number text (checked), as strtod reads it whatever the C locale;
   *is_integer is set when the text has no fraction or exponent and |value| <= 2^53. */
APIV2_HIDDEN double apiv2_vpass_number(const unsigned char *text, size_t n, int *is_integer);

/* Whether the aud claim equals audience, or is an array holding a string equal to it. */
APIV2_HIDDEN int apiv2_vpass_audience(apiv2_vpass *v, const char *audience, size_t len);

/* Whether the claims grant scope ("action:entity", split at the first colon): the scopes
   object's entity.actions holds the action, or the flat scope string holds the scope as a
   space-separated word. */
APIV2_HIDDEN int apiv2_vpass_granted(apiv2_vpass *v, const char *scope, size_t len);

/* The offset just past the checked JSON value starting at text[pos] (no checks: the text
   passed apiv2_json_check). */
APIV2_HIDDEN size_t apiv2_vpass_skip(const unsigned char *text, size_t pos);

#endif
