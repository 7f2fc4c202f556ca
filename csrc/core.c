/* auth0.apiv2.core: the bytes behind auth0.apiv2 (private; users require auth0.apiv2.*).
   The only file that talks to Lua. Misuse raises; data failures return nil, reason. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "compat.h"
#include "b64url.h"
#include "hmac.h"
#include "json_check.h"
#include "json_escape.h"
#include "jws.h"
#include "randpool.h"
#include "vpass.h"

#define APIV2_VERSION "0.1.0"

#define KEY_MT "auth0.apiv2.key"
#define POOL_MT "auth0.apiv2.randpool"

/* Tokens longer than this are refused by every verifier of ours: never make one. */
#define TOKEN_MAX APIV2_TOKEN_MAX
/* Base64url of the fixed header {"typ":"JWT","alg":"HS256"}, the reference generator's bytes. */
static const char HEADER_B64[] = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";
#define HEADER_B64_LEN (sizeof HEADER_B64 - 1)
#define MAC_B64_LEN 43

typedef struct {
    apiv2_hmac *hmac; /* NULL once wiped */
    size_t keylen;
} key_object;

/* Per-state data of the functions that draw random ids: the pool, and the work area of
   sign_parts (16 KiB kept off the C stack: coroutines and host threads may have small ones). */
typedef struct {
    apiv2_randpool *pool;
    char payload[TOKEN_MAX];
    char token[TOKEN_MAX];
} pool_object;

/* Pushes nil and "<what>: <OpenSSL's reason>" and clears the error queue; never key bytes. */
static int push_ssl_error(lua_State *L, const char *what) {
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, reason ? reason : "openssl failure");
    return 2;
}

static int push_failure(lua_State *L, const char *reason) {
    lua_pushnil(L);
    lua_pushstring(L, reason);
    return 2;
}

/* A string argument without Lua's number-to-string coercion (secrets and tokens are text). */
static const char *check_bytes(lua_State *L, int arg, size_t *len) {
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_argerror(L, arg, lua_pushfstring(L, "string expected, got %s", luaL_typename(L, arg)));
    return lua_tolstring(L, arg, len);
}

/* ---------------------------------------------------------------- key objects */

/* The registry also holds the key metatable under this address: a light userdata lookup
   costs less than luaL_getmetatable's string key on the path of every verification. */
static const char KEY_MT_ADDRESS = 0;

static void push_key_metatable(lua_State *L) {
    lua_pushlightuserdata(L, (void *)&KEY_MT_ADDRESS);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

/* The key object at arg, or NULL (5.1 has no luaL_testudata). */
static void *test_key(lua_State *L, int arg) {
    void *p = lua_touserdata(L, arg);
    int is_key = 0;
    if (p != NULL && lua_getmetatable(L, arg)) {
        push_key_metatable(L);
        is_key = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    return is_key ? p : NULL;
}

static key_object *check_key(lua_State *L, int arg) {
    key_object *k = (key_object *)luaL_checkudata(L, arg, KEY_MT);
    if (k->hmac == NULL) luaL_argerror(L, arg, "key has been wiped");
    return k;
}

/* core.key(secret, encoding): encoding "base64" (either alphabet, optional padding) or "raw".
   The decoded bytes live only in a C buffer that is cleansed before returning. */
static int core_key(lua_State *L) {
    size_t n, keylen = 0;
    const char *secret = check_bytes(L, 1, &n);
    static const char *const encodings[] = { "base64", "raw", NULL };
    int encoding = luaL_checkoption(L, 2, "base64", encodings);
    key_object *k;
    unsigned char *decoded = NULL;
    const unsigned char *key_bytes = (const unsigned char *)secret;

    /* Metatable first, so the __gc can run whatever happens next. */
    k = (key_object *)apiv2_newudata(L, sizeof *k);
    k->hmac = NULL;
    k->keylen = 0;
    luaL_getmetatable(L, KEY_MT);
    lua_setmetatable(L, -2);

    if (encoding == 0) {
        decoded = (unsigned char *)OPENSSL_malloc(B64URL_DECODED_MAX(n) + 1);
        if (decoded == NULL) return push_ssl_error(L, "key");
        if (!apiv2_b64_secret_decode(secret, n, decoded, &keylen)) {
            OPENSSL_clear_free(decoded, B64URL_DECODED_MAX(n) + 1);
            lua_pushnil(L);
            lua_pushliteral(L, "secret is not base64 or base64url text");
            return 2;
        }
        key_bytes = decoded;
    } else {
        keylen = n;
    }
    k->hmac = apiv2_hmac_new(key_bytes, keylen);
    k->keylen = keylen;
    if (decoded != NULL) OPENSSL_clear_free(decoded, B64URL_DECODED_MAX(n) + 1);
    if (k->hmac == NULL) return push_ssl_error(L, "key");
    return 1;
}

/* core.is_key(v) -> whether v is a key object (live or wiped). */
static int core_is_key(lua_State *L) {
    lua_pushboolean(L, test_key(L, 1) != NULL);
    return 1;
}

static int key_wipe(lua_State *L) {
    key_object *k = (key_object *)luaL_checkudata(L, 1, KEY_MT);
    apiv2_hmac_free(k->hmac); /* OpenSSL cleanses the key schedule */
    k->hmac = NULL;
    return 0;
}

static int key_tostring(lua_State *L) {
    key_object *k = (key_object *)luaL_checkudata(L, 1, KEY_MT);
    if (k->hmac == NULL) lua_pushliteral(L, "auth0.apiv2.key (wiped)");
    else lua_pushfstring(L, "auth0.apiv2.key (%d bytes)", (int)k->keylen);
    return 1;
}

static int key_length(lua_State *L) {
    key_object *k = check_key(L, 1);
    lua_pushinteger(L, (lua_Integer)k->keylen);
    return 1;
}

/* key:mac(data) -> the 32-byte HMAC-SHA256 of data. */
static int key_mac(lua_State *L) {
    key_object *k = check_key(L, 1);
    size_t n;
    const char *data = check_bytes(L, 2, &n);
    unsigned char mac[APIV2_MAC_LEN];
    if (!apiv2_hmac_mac(k->hmac, (const unsigned char *)data, n, NULL, 0, mac))
        return push_ssl_error(L, "mac");
    lua_pushlstring(L, (const char *)mac, sizeof mac);
    OPENSSL_cleanse(mac, sizeof mac);
    return 1;
}

/* Pushes HEADER "." b64url(payload) "." b64url(MAC), the reference generator's header,
   assembled in buf (TOKEN_MAX bytes) and pushed once; or nil, reason. */
static int push_token(lua_State *L, key_object *k, const char *payload, size_t plen, char *buf) {
    unsigned char mac[APIV2_MAC_LEN];
    size_t blen = apiv2_b64url_encoded_len(plen);
    if (plen > TOKEN_MAX || blen > TOKEN_MAX - HEADER_B64_LEN - 2 - MAC_B64_LEN)
        return push_failure(L, "token too long");
    memcpy(buf, HEADER_B64, HEADER_B64_LEN);
    buf[HEADER_B64_LEN] = '.';
    apiv2_b64url_encode((const unsigned char *)payload, plen, buf + HEADER_B64_LEN + 1);
    if (!apiv2_hmac_mac(k->hmac, (const unsigned char *)buf, HEADER_B64_LEN + 1 + blen, NULL, 0,
                        mac)) {
        OPENSSL_cleanse(mac, sizeof mac);
        return push_ssl_error(L, "sign");
    }
    buf[HEADER_B64_LEN + 1 + blen] = '.';
    apiv2_b64url_encode(mac, sizeof mac, buf + HEADER_B64_LEN + 2 + blen);
    OPENSSL_cleanse(mac, sizeof mac);
    lua_pushlstring(L, buf, HEADER_B64_LEN + 2 + blen + MAC_B64_LEN);
    return 1;
}

/* key:verify(data, signature [, n]) -> true when signature (raw bytes) is the MAC of the first
   n bytes of data (all of it by default); compared in constant time after a length check. */
static int key_verify(lua_State *L) {
    key_object *k = check_key(L, 1);
    size_t n, siglen;
    const char *input = check_bytes(L, 2, &n);
    const char *sig = check_bytes(L, 3, &siglen);
    lua_Integer prefix = luaL_optinteger(L, 4, (lua_Integer)n);
    unsigned char mac[APIV2_MAC_LEN];
    int ok;
    luaL_argcheck(L, prefix >= 0 && (size_t)prefix <= n, 4, "length out of range");
    if (!apiv2_hmac_mac(k->hmac, (const unsigned char *)input, (size_t)prefix, NULL, 0, mac)) {
        OPENSSL_cleanse(mac, sizeof mac);
        return push_ssl_error(L, "verify");
    }
    ok = siglen == sizeof mac && CRYPTO_memcmp(mac, sig, sizeof mac) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    lua_pushboolean(L, ok);
    return 1;
}

/* ---------------------------------------------------------------- random pool */

static pool_object *upvalue_state(lua_State *L) {
    pool_object *p = (pool_object *)lua_touserdata(L, lua_upvalueindex(1));
    /* Finalizers run newest first when a state closes: an object older than this module may
       still try to sign from its __gc. */
    if (p->pool == NULL) luaL_error(L, "auth0.apiv2.core: the random pool is closed");
    return p;
}

static apiv2_randpool *upvalue_pool(lua_State *L) {
    return upvalue_state(L)->pool;
}

static int pool_gc(lua_State *L) {
    pool_object *p = (pool_object *)luaL_checkudata(L, 1, POOL_MT);
    apiv2_randpool_free(p->pool);
    p->pool = NULL;
    return 0;
}

/* core.random(n) -> n bytes (1..256) from this state's fork-safe pool. */
static int core_random(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    unsigned char buf[APIV2_RANDPOOL_MAX_TAKE];
    luaL_argcheck(L, n > 0 && n <= (lua_Integer)sizeof buf, 1, "size must be 1..256");
    if (!apiv2_randpool_take(upvalue_pool(L), buf, (size_t)n)) return push_ssl_error(L, "random");
    lua_pushlstring(L, (const char *)buf, (size_t)n);
    OPENSSL_cleanse(buf, sizeof buf);
    return 1;
}

/* core.jti() -> 128 random bits as 32 lower-case hex characters. */
static int core_jti(lua_State *L) {
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    char text[32];
    size_t i;
    if (!apiv2_randpool_take(upvalue_pool(L), raw, sizeof raw)) return push_ssl_error(L, "random");
    for (i = 0; i < sizeof raw; i++) {
        text[2 * i] = hex[raw[i] >> 4];
        text[2 * i + 1] = hex[raw[i] & 15];
    }
    lua_pushlstring(L, text, sizeof text);
    return 1;
}

/* Writes the decimal form of a whole number of seconds (0..2^53-1); returns its length.
   Lua 5.1 has no integers: the value is checked as a lua_Number, then written with unsigned
   long arithmetic where that holds it (every 64-bit Unix), else with exact double steps. */
static size_t put_seconds(lua_State *L, int arg, char *out) {
    lua_Number v = luaL_checknumber(L, arg), digit;
    char digits[24];
    size_t n = 0, i;
    unsigned long u;
    luaL_argcheck(L, v >= 0 && v <= 9007199254740991.0 && v == floor(v), arg,
                  "whole number of seconds expected");
    if (v <= (lua_Number)ULONG_MAX) {
        u = (unsigned long)v;
        do {
            digits[n++] = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
    } else {
        do {
            digit = fmod(v, 10);
            digits[n++] = (char)('0' + (int)digit);
            v = (v - digit) / 10;
        } while (v >= 1);
    }
    for (i = 0; i < n; i++) out[i] = digits[n - 1 - i];
    return n;
}

static char *put_text(char *out, const char *s, size_t n) {
    memcpy(out, s, n);
    return out + n;
}

/* core.sign_parts(key, head, iat, middle, jti_json|nil, exp|nil, tail) -> token.
   The payload is head .. iat .. middle .. jti .. [,"exp":exp] .. tail, where a nil jti is a
   fresh random one from this state's pool. Everything happens in one buffer: neither the
   payload nor the id becomes a Lua string (LuaJIT hashes only a few fixed windows of a string,
   and payloads that differ only in the middle all land in one hash chain). */
static int core_sign_parts(lua_State *L) {
    static const char hex[] = "0123456789abcdef";
    key_object *k = (key_object *)test_key(L, 1);
    size_t head_len, middle_len, jti_len = 34, tail_len, plen, i;
    const char *head = check_bytes(L, 2, &head_len);
    const char *middle = check_bytes(L, 4, &middle_len);
    const char *jti = lua_isnil(L, 5) ? NULL : check_bytes(L, 5, &jti_len);
    const char *tail = check_bytes(L, 7, &tail_len);
    unsigned char raw_id[16];
    pool_object *state = upvalue_state(L);
    char *payload = state->payload, *token = state->token;
    char *p = payload;

    if (k == NULL)
        return luaL_error(L, "token.sign: expected a key object or a secret string, got %s",
                          luaL_typename(L, 1));
    if (k->hmac == NULL) return luaL_error(L, "token.sign: the key has been wiped");

    /* Fixed parts over the limit: refuse before any formatting (numbers add at most 40). */
    if (head_len > TOKEN_MAX || middle_len > TOKEN_MAX || jti_len > TOKEN_MAX ||
        tail_len > TOKEN_MAX || head_len + middle_len + jti_len + tail_len + 40 > TOKEN_MAX)
        return push_failure(L, "token too long");
    p = put_text(p, head, head_len);
    p += put_seconds(L, 3, p);
    p = put_text(p, middle, middle_len);
    if (jti != NULL) {
        p = put_text(p, jti, jti_len);
    } else {
        if (!apiv2_randpool_take(state->pool, raw_id, sizeof raw_id))
            return push_ssl_error(L, "random");
        *p++ = '"';
        for (i = 0; i < sizeof raw_id; i++) {
            *p++ = hex[raw_id[i] >> 4];
            *p++ = hex[raw_id[i] & 15];
        }
        *p++ = '"';
    }
    if (!lua_isnil(L, 6)) {
        p = put_text(p, ",\"exp\":", 7);
        p += put_seconds(L, 6, p);
    }
    p = put_text(p, tail, tail_len);
    plen = (size_t)(p - payload);
    return push_token(L, k, payload, plen, token);
}

/* ---------------------------------------------------------------- bytes */

/* Sized results: length first (overflow-checked), then filled in chunks through a luaL_Buffer,
   since Lua 5.1 and LuaJIT lack luaL_buffinitsize. */
#define CHUNK_IN 768 /* input bytes per encode chunk: a multiple of 3 */

static int core_b64url_encode(lua_State *L) {
    size_t n, i, step;
    const char *s = check_bytes(L, 1, &n);
    char out[CHUNK_IN / 3 * 4];
    luaL_Buffer b;
    if (n && apiv2_b64url_encoded_len(n) == 0)
        return luaL_error(L, "b64url_encode: input too large");
    luaL_buffinit(L, &b);
    for (i = 0; i < n; i += step) {
        step = n - i < CHUNK_IN ? n - i : CHUNK_IN;
        apiv2_b64url_encode((const unsigned char *)s + i, step, out);
        luaL_addlstring(&b, out, apiv2_b64url_encoded_len(step));
    }
    luaL_pushresult(&b);
    return 1;
}

static int push_decoded(lua_State *L, const char *s, size_t n,
                        int (*decode)(const char *, size_t, unsigned char *, size_t *),
                        const char *failure) {
    size_t outlen = 0;
    unsigned char stack_buf[1024];
    unsigned char *out = stack_buf;
    int ok;
    if (B64URL_DECODED_MAX(n) > sizeof stack_buf)
        out = (unsigned char *)apiv2_newudata(L, B64URL_DECODED_MAX(n)); /* GC'd scratch */
    ok = decode(s, n, out, &outlen);
    if (!ok) {
        OPENSSL_cleanse(out, B64URL_DECODED_MAX(n)); /* a secret's partial bytes too */
        lua_pushnil(L);
        lua_pushstring(L, failure);
        return 2;
    }
    lua_pushlstring(L, (const char *)out, outlen);
    OPENSSL_cleanse(out, outlen);
    return 1;
}

/* core.b64url_decode(s) -> bytes, or nil, "invalid base64url" (strict: the token rules). */
static int core_b64url_decode(lua_State *L) {
    size_t n;
    const char *s = check_bytes(L, 1, &n);
    return push_decoded(L, s, n, apiv2_b64url_decode, "invalid base64url");
}

/* core.secret_decode(s) -> bytes, or nil, reason (the looser secret rules; for tests). */
static int core_secret_decode(lua_State *L) {
    size_t n;
    const char *s = check_bytes(L, 1, &n);
    return push_decoded(L, s, n, apiv2_b64_secret_decode, "secret is not base64 or base64url text");
}

/* core.equals(a, b) -> whether two strings are equal, in time independent of their contents. */
static int core_equals(lua_State *L) {
    size_t na, nb;
    const char *a = check_bytes(L, 1, &na);
    const char *b = check_bytes(L, 2, &nb);
    lua_pushboolean(L, na == nb && CRYPTO_memcmp(a, b, na) == 0);
    return 1;
}

/* core.hmac_sha256(key, data) -> 32 bytes, OpenSSL's one-shot HMAC() (vectors, differential). */
static int core_hmac_sha256(lua_State *L) {
    size_t kn, dn;
    const char *key = check_bytes(L, 1, &kn);
    const char *data = check_bytes(L, 2, &dn);
    unsigned char mac[APIV2_MAC_LEN];
    if (!apiv2_hmac_oneshot((const unsigned char *)key, kn, (const unsigned char *)data, dn, mac))
        return push_ssl_error(L, "hmac");
    lua_pushlstring(L, (const char *)mac, sizeof mac);
    OPENSSL_cleanse(mac, sizeof mac);
    return 1;
}

/* core.json_string(s) -> s as a quoted JSON string (JSON.stringify's escaping), or
   nil, "invalid utf8" when s is not UTF-8 text. */
static int core_json_string(lua_State *L) {
    size_t n, len, i, step;
    int overflow;
    const char *s = check_bytes(L, 1, &n);
    char out[6 * 128];
    luaL_Buffer b;
    if (!apiv2_utf8_valid(s, n)) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid utf8");
        return 2;
    }
    len = apiv2_json_escaped_len(s, n, &overflow);
    if (overflow || len > (size_t)-1 - 2) return luaL_error(L, "json_string: input too large");
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (i = 0; i < n; i += step) {
        step = n - i < 128 ? n - i : 128;
        apiv2_json_escape(s + i, step, out);
        luaL_addlstring(&b, out, apiv2_json_escaped_len(s + i, step, &overflow));
    }
    luaL_addchar(&b, '"');
    luaL_pushresult(&b);
    return 1;
}

/* core.json_check(s) -> true, or nil, reason when s is not one strict RFC 8259 JSON text
   (UTF-8, no duplicate member names at any depth, nesting at most 64). */
static int core_json_check(lua_State *L) {
    size_t n;
    const char *s = check_bytes(L, 1, &n);
    const char *reason = NULL;
    if (apiv2_json_check(s, n, &reason) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, reason ? reason : "invalid json");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---------------------------------------------------------------- compact JWS */

/* core.jws_parse(jwt) -> header_json, payload_json, signing_input_length, signature, or
   nil, reason (the rules are in jws.c). The work area lives in a userdata, not on the C
   stack: it is 18 KiB and coroutines may run on small stacks. */
static int core_jws_parse(lua_State *L) {
    size_t n;
    const char *jwt = check_bytes(L, 1, &n);
    const char *reason;
    apiv2_jws *parsed;
    if (n > APIV2_TOKEN_MAX) return push_failure(L, "token too long");
    parsed = (apiv2_jws *)lua_touserdata(L, lua_upvalueindex(1));
    reason = apiv2_jws_parse(jwt, n, parsed);
    if (reason) return push_failure(L, reason);
    lua_pushlstring(L, (const char *)parsed->header, parsed->header_len);
    lua_pushlstring(L, (const char *)parsed->payload, parsed->payload_len);
    lua_pushinteger(L, (lua_Integer)parsed->signing_input_len);
    lua_pushlstring(L, (const char *)parsed->signature, parsed->signature_len);
    return 4;
}

/* ---------------------------------------------------------------- the one-pass verifier */

#define NULL_KEY "auth0.apiv2.json_null"

/* core.set_json_null(v): the value JSON null becomes in tables the core builds (json.null). */
static int core_set_json_null(lua_State *L) {
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, NULL_KEY);
    return 0;
}

static void push_number(lua_State *L, const unsigned char *text, size_t n) {
    int is_integer = 0;
    double value = apiv2_vpass_number(text, n, &is_integer);
#if LUA_VERSION_NUM >= 503
    if (is_integer) {
        lua_pushinteger(L, (lua_Integer)value);
        return;
    }
#endif
    lua_pushnumber(L, (lua_Number)value);
}

/* Pushes the checked JSON string whose opening quote is at text[pos]; returns the offset past
   its closing quote. */
static size_t push_string(lua_State *L, apiv2_vpass *v, const unsigned char *text, size_t pos) {
    size_t start = pos + 1, i;
    /* The first quote ends the string unless an escape comes before it. The text was checked:
       its closing quote lies inside it, so the search, bounded by the segment buffer that
       holds it, always stops in the text. */
    const unsigned char *quote =
        (const unsigned char *)memchr(text + start, '"', APIV2_JWS_SEGMENT_MAX - start);
    if (quote != NULL && memchr(text + start, '\\', (size_t)(quote - text) - start) == NULL) {
        lua_pushlstring(L, (const char *)text + start, (size_t)(quote - text) - start);
        return (size_t)(quote - text) + 1;
    }
    for (i = start; text[i] != '"'; i += text[i] == '\\' ? 2 : 1) {
    }
    lua_pushlstring(L, (const char *)v->scratch,
                    apiv2_json_unescape((const char *)text + start, i - start, v->scratch));
    return i + 1;
}

static size_t skip_ws(const unsigned char *text, size_t pos) {
    while (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n') pos++;
    return pos;
}

/* The recorded size of the next container of the payload (next: its index in document order,
   advanced here), or 0 when pushing out of that order (next NULL) or past what was recorded.
   Tables are made at their final size: growing one rehashes it, LuaJIT's C API most of all. */
static int next_size(apiv2_vpass *v, size_t *next) {
    if (next == NULL || *next >= v->sizes.count) return 0;
    return (int)v->sizes.sizes[(*next)++];
}

/* Pushes the checked JSON value at text[pos] as lua-cjson would build it (objects and arrays
   as tables, null as the registered json.null, integers as integers on 5.3+); returns the
   offset past it. The nesting is at most APIV2_JSON_MAX_DEPTH: the check refused deeper. */
/* NOLINTNEXTLINE(misc-no-recursion): at most 64 deep, the check refused deeper */
static size_t push_value(lua_State *L, apiv2_vpass *v, const unsigned char *text, size_t pos,
                         size_t *next) {
    unsigned char c = text[pos];
    size_t end;
    if (c == '"') return push_string(L, v, text, pos);
    if (c == '{') {
        luaL_checkstack(L, 3, "claims nested too deep");
        lua_createtable(L, 0, next_size(v, next));
        pos = skip_ws(text, pos + 1);
        if (text[pos] == '}') return pos + 1;
        for (;;) {
            pos = push_string(L, v, text, pos);
            pos = skip_ws(text, skip_ws(text, pos) + 1); /* the colon */
            pos = skip_ws(text, push_value(L, v, text, pos, next));
            lua_rawset(L, -3);
            if (text[pos] == '}') return pos + 1;
            pos = skip_ws(text, pos + 1);
        }
    }
    if (c == '[') {
        int i = 0;
        luaL_checkstack(L, 3, "claims nested too deep");
        lua_createtable(L, next_size(v, next), 0);
        pos = skip_ws(text, pos + 1);
        if (text[pos] == ']') return pos + 1;
        for (;;) {
            pos = skip_ws(text, push_value(L, v, text, pos, next));
            lua_rawseti(L, -2, ++i);
            if (text[pos] == ']') return pos + 1;
            pos = skip_ws(text, pos + 1);
        }
    }
    end = apiv2_vpass_skip(text, pos);
    if (c == 't') lua_pushboolean(L, 1);
    else if (c == 'f') lua_pushboolean(L, 0);
    else if (c == 'n') lua_getfield(L, LUA_REGISTRYINDEX, NULL_KEY); /* nil when unset */
    else push_number(L, text + pos, end - pos);
    if (c == 'n' && lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushlightuserdata(L, NULL); /* lua-cjson's null */
    }
    return end;
}

/* Pushes a recorded claim's value, or nil when absent. */
static void push_claim(lua_State *L, apiv2_vpass *v, int which) {
    const apiv2_json_span *span = &v->claim[which];
    if (span->kind == 0) lua_pushnil(L);
    else push_value(L, v, v->jws.payload, span->start, NULL);
}

/* A time claim: 0 absent, 1 a number (in *out), -1 another type. */
static int time_claim(apiv2_vpass *v, int which, double *out) {
    const apiv2_json_span *span = &v->claim[which];
    int is_integer;
    if (span->kind == 0) return 0;
    if (span->kind != '-' && (span->kind < '0' || span->kind > '9')) return -1;
    *out = apiv2_vpass_number(v->jws.payload + span->start, span->end - span->start, &is_integer);
    /* 1e400 reads as infinity: it must not mean "never expires". */
    if (*out != *out || *out > DBL_MAX || *out < -DBL_MAX) return -1;
    return 1;
}

static void push_time(lua_State *L, apiv2_vpass *v, int which) {
    const apiv2_json_span *span = &v->claim[which];
    if (span->kind == 0) lua_pushnil(L);
    else push_number(L, v->jws.payload + span->start, span->end - span->start);
}

/* Whether the MAC of the signing input under the key at index idx is the signature. */
static int key_matches(lua_State *L, int idx, const char *jwt, apiv2_vpass *v) {
    key_object *k = (key_object *)test_key(L, idx);
    unsigned char mac[APIV2_MAC_LEN];
    int ok;
    if (k == NULL) luaL_error(L, "token.verify: key must be a key object");
    if (k->hmac == NULL) luaL_error(L, "token.verify: the key has been wiped");
    if (!apiv2_hmac_mac(k->hmac, (const unsigned char *)jwt, v->jws.signing_input_len, NULL, 0,
                        mac)) {
        OPENSSL_cleanse(mac, sizeof mac);
        return luaL_error(L, "token.verify: OpenSSL failed to compute the MAC");
    }
    ok = CRYPTO_memcmp(mac, v->jws.signature, APIV2_MAC_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    return ok;
}

/* Appends to b the scopes of the list at idx that are missing (all: every one not granted;
   any: all of them when none is). Returns how many were added. */
static int add_missing(lua_State *L, luaL_Buffer *b, int idx, apiv2_vpass *v, int any, int count) {
    int i, n, added = 0, found = 0;
    size_t len;
    const char *s;
    if (!lua_toboolean(L, idx)) return 0;
    n = (int)apiv2_rawlen(L, idx);
    if (any) {
        for (i = 1; i <= n && !found; i++) {
            lua_rawgeti(L, idx, i);
            s = lua_tolstring(L, -1, &len);
            found = s != NULL && apiv2_vpass_granted(v, s, len);
            lua_pop(L, 1);
        }
        if (found || n == 0) return 0;
    }
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        s = lua_tolstring(L, -1, &len);
        if (s != NULL && (any || !apiv2_vpass_granted(v, s, len))) {
            if (count + added > 0) luaL_addchar(b, ' ');
            luaL_addvalue(b); /* pops the string */
            added++;
        } else {
            lua_pop(L, 1);
        }
    }
    return added;
}

/* core.verify_pass(jwt, keys, now, leeway, require_exp, audience, all, any, want): one token
   through the policy up to revocation, in one pass (vpass.c), with the protocol of
   auth0.apiv2.internal.reference_pass: want 0 -> true, aud, jti, exp, nbf, iat, missing;
   want 1 -> the same with the claims table first; want 2 -> true, aud, header (no MAC);
   want 3 -> the claims table alone (no MAC, no rule: only for a token that passed already,
   whose claims the nginx guard builds when they are first read); a failure -> nil, reason.
   The work area (26 KiB) is this state's upvalue. */
static int core_verify_pass(lua_State *L) {
    size_t n, audience_len = 0;
    const char *jwt = check_bytes(L, 1, &n);
    lua_Number now = luaL_checknumber(L, 3), leeway = luaL_checknumber(L, 4);
    int require_exp = lua_toboolean(L, 5);
    /* nil or false: no audience rule (a verifier object holds false for an absent option) */
    const char *audience = lua_toboolean(L, 6) ? check_bytes(L, 6, &audience_len) : NULL;
    lua_Integer want = luaL_checkinteger(L, 9);
    apiv2_vpass *v = (apiv2_vpass *)lua_touserdata(L, lua_upvalueindex(1));
    const char *reason;
    double exp = 0, nbf = 0, iat = 0;
    int has_exp, has_nbf, has_iat, matched = 0, missing;
    luaL_Buffer b;

    if (n > APIV2_TOKEN_MAX) return push_failure(L, "token too long");
    reason = apiv2_vpass_run(jwt, n, v);
    if (reason) return push_failure(L, reason);
    if (want == 2) {
        lua_pushboolean(L, 1);
        push_claim(L, v, APIV2_C_AUD);
        push_value(L, v, v->jws.header, skip_ws(v->jws.header, 0), NULL);
        return 3;
    }
    if (want == 3) {
        size_t next = 0;
        push_value(L, v, v->jws.payload, skip_ws(v->jws.payload, 0), &next);
        return 1;
    }
    if (lua_type(L, 2) == LUA_TTABLE) {
        int i, count = (int)apiv2_rawlen(L, 2);
        /* Every key is tried, so the time taken does not say which one matched. */
        for (i = 1; i <= count; i++) {
            lua_rawgeti(L, 2, i);
            if (key_matches(L, lua_gettop(L), jwt, v)) matched = 1;
            lua_pop(L, 1);
        }
    } else {
        matched = key_matches(L, 2, jwt, v);
    }
    if (!matched) return push_failure(L, "signature mismatch");

    has_exp = time_claim(v, APIV2_C_EXP, &exp);
    has_nbf = time_claim(v, APIV2_C_NBF, &nbf);
    has_iat = time_claim(v, APIV2_C_IAT, &iat);
    if (has_exp < 0 || has_nbf < 0 || has_iat < 0) return push_failure(L, "invalid claim type");
    if (!has_exp) {
        if (require_exp) return push_failure(L, "exp missing");
    } else if (!((double)now - (double)leeway < exp)) { /* NaN-safe: expired unless below */
        return push_failure(L, "expired");
    }
    if (has_nbf && nbf > (double)now + (double)leeway) return push_failure(L, "not yet valid");
    if (has_iat && iat > (double)now + (double)leeway)
        return push_failure(L, "issued in the future");
    if (audience != NULL && !apiv2_vpass_audience(v, audience, audience_len))
        return push_failure(L, "audience mismatch");

    if (want == 1) {
        size_t next = 0; /* the payload in document order: the recorded sizes apply */
        push_value(L, v, v->jws.payload, skip_ws(v->jws.payload, 0), &next);
    } else lua_pushboolean(L, 1);
    /* A string aud that matched is the audience argument's text: that value, not a new one. */
    if (audience != NULL && v->claim[APIV2_C_AUD].kind == '"') lua_pushvalue(L, 6);
    else push_claim(L, v, APIV2_C_AUD);
    push_claim(L, v, APIV2_C_JTI);
    push_time(L, v, APIV2_C_EXP);
    push_time(L, v, APIV2_C_NBF);
    push_time(L, v, APIV2_C_IAT);
    if (!lua_toboolean(L, 7) && !lua_toboolean(L, 8)) { /* no scope rule: nothing missing */
        lua_pushnil(L);
        return 7;
    }
    luaL_buffinit(L, &b);
    missing = add_missing(L, &b, 7, v, 0, 0);
    missing += add_missing(L, &b, 8, v, 1, missing);
    luaL_pushresult(&b); /* also when empty: the buffer may hold a slot on the stack */
    if (!missing) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    return 7;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg KEY_METHODS[] = { { "length", key_length },
                                        { "mac", key_mac },
                                        { "verify", key_verify },
                                        { "wipe", key_wipe },
                                        { NULL, NULL } };

static const luaL_Reg CORE_FUNCTIONS[] = { { "b64url_decode", core_b64url_decode },
                                           { "b64url_encode", core_b64url_encode },
                                           { "equals", core_equals },
                                           { "hmac_sha256", core_hmac_sha256 },
                                           { "json_check", core_json_check },
                                           { "is_key", core_is_key },
                                           { "json_string", core_json_string },
                                           { "key", core_key },
                                           { "key_verify", key_verify },
                                           { "secret_decode", core_secret_decode },
                                           { "set_json_null", core_set_json_null },
                                           { NULL, NULL } };

/* Functions that draw from this state's random pool, which they hold as their upvalue. */
static const luaL_Reg POOL_FUNCTIONS[] = { { "jti", core_jti },
                                           { "random", core_random },
                                           { "sign_parts", core_sign_parts },
                                           { NULL, NULL } };

static void create_key_metatable(lua_State *L) {
    luaL_newmetatable(L, KEY_MT);
    lua_pushlightuserdata(L, (void *)&KEY_MT_ADDRESS);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    apiv2_newlib(L, KEY_METHODS);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, key_wipe);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, key_wipe);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, key_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, KEY_MT);
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0); /* getmetatable(key) cannot reach the methods */
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

/* jws_parse keeps its work area as an upvalue: one per Lua state, reused by every call. */
static void register_jws_parse(lua_State *L) {
    apiv2_newudata(L, sizeof(apiv2_jws));
    lua_pushcclosure(L, core_jws_parse, 1);
    lua_setfield(L, -2, "jws_parse");
}

/* verify_pass keeps its work area as an upvalue too. */
static void register_verify_pass(lua_State *L) {
    apiv2_vpass_init((apiv2_vpass *)apiv2_newudata(L, sizeof(apiv2_vpass)));
    lua_pushcclosure(L, core_verify_pass, 1);
    lua_setfield(L, -2, "verify_pass");
}

static void register_pool_functions(lua_State *L) {
    const luaL_Reg *r;
    pool_object *p = (pool_object *)apiv2_newudata(L, sizeof *p);
    p->pool = NULL;
    luaL_newmetatable(L, POOL_MT);
    lua_pushcfunction(L, pool_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    p->pool = apiv2_randpool_new();
    if (p->pool == NULL) luaL_error(L, "auth0.apiv2.core: cannot allocate the random pool");
    for (r = POOL_FUNCTIONS; r->name != NULL; r++) {
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, r->func, 1);
        lua_setfield(L, -3, r->name);
    }
    lua_pop(L, 1);
}

LUALIB_API int luaopen_auth0_apiv2_core(lua_State *L);

LUALIB_API int luaopen_auth0_apiv2_core(lua_State *L) {
    create_key_metatable(L);
    apiv2_newlib(L, CORE_FUNCTIONS);
    register_pool_functions(L);
    register_jws_parse(L);
    register_verify_pass(L);
    lua_pushliteral(L, APIV2_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushinteger(L, TOKEN_MAX);
    lua_setfield(L, -2, "TOKEN_MAX");
    return 1;
}
