#include "b64url.h"

static const char ENCODE_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A digit's value is 0..63; the two alphabet-specific pairs also carry a flag saying which
   alphabet they belong to (the secret decoder refuses a mix). */
#define BAD APIV2_B64URL_BAD
#define URL_ONLY 0x40 /* '-' and '_' */
#define STD_ONLY 0x80 /* '+' and '/' */

/* The URL alphabet's digit values, BAD for every other byte (the one copy of the alphabet):
   the decoders look each character up once instead of branching on ranges (a token's
   characters are random, so range tests mispredict; this loop is most of a verification's
   decoding time). */
const unsigned char apiv2_b64url_value[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, 62,  BAD, BAD, 52,  53,  54,  55,  56,  57,  58,  59,  60,
    61,  BAD, BAD, BAD, BAD, BAD, BAD, BAD, 0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,
    11,  12,  13,  14,  15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  BAD, BAD, BAD, BAD,
    63,  BAD, 26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,  41,  42,
    43,  44,  45,  46,  47,  48,  49,  50,  51,  BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

/* A secret's digit: the URL alphabet's value, with the two alphabet-specific pairs flagged. */
static unsigned char decode_value(unsigned char c) {
    if (c == '-') return 62 | URL_ONLY;
    if (c == '_') return 63 | URL_ONLY;
    if (c == '+') return 62 | STD_ONLY;
    if (c == '/') return 63 | STD_ONLY;
    return apiv2_b64url_value[c];
}

size_t apiv2_b64url_encoded_len(size_t n) {
    size_t full = n / 3, rest = n % 3;
    if (full > ((size_t)-1 - 3) / 4) return 0;
    return full * 4 + (rest ? rest + 1 : 0);
}

void apiv2_b64url_encode(const unsigned char *in, size_t n, char *out) {
    size_t i = 0;
    unsigned long v;
    for (; i + 3 <= n; i += 3) {
        v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        *out++ = ENCODE_URL[(v >> 18) & 63];
        *out++ = ENCODE_URL[(v >> 12) & 63];
        *out++ = ENCODE_URL[(v >> 6) & 63];
        *out++ = ENCODE_URL[v & 63];
    }
    if (n - i == 1) {
        v = (unsigned long)in[i] << 16;
        *out++ = ENCODE_URL[(v >> 18) & 63];
        *out++ = ENCODE_URL[(v >> 12) & 63];
    } else if (n - i == 2) {
        v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        *out++ = ENCODE_URL[(v >> 18) & 63];
        *out++ = ENCODE_URL[(v >> 12) & 63];
        *out++ = ENCODE_URL[(v >> 6) & 63];
    }
}

/* The secret decoder's body: either alphabet, the first alphabet-specific character deciding. */
static int decode_digits(const char *in, size_t n, unsigned char *out, size_t *outlen) {
    size_t i, o = 0;
    unsigned long acc = 0;
    unsigned int bits = 0;
    unsigned char d, seen = 0;
    if (n % 4 == 1) return 0;
    for (i = 0; i < n; i++) {
        d = decode_value((unsigned char)in[i]);
        if (d == BAD) return 0;
        if (d & (URL_ONLY | STD_ONLY)) {
            seen |= (unsigned char)(d & (URL_ONLY | STD_ONLY));
            if (seen == (URL_ONLY | STD_ONLY)) return 0; /* mixed alphabets */
            d &= 63;
        }
        acc = ((acc << 6) | d) & 0xffffffUL;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Canonical form: the unused low bits of the last character are zero. */
    if (bits && (acc & ((1UL << bits) - 1))) return 0;
    *outlen = o;
    return 1;
}

int apiv2_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen) {
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0, rest;
    unsigned long v;
    if (n % 4 == 1) return 0;
    for (; i + 4 <= n; i += 4) {
        unsigned a = apiv2_b64url_value[s[i]], b = apiv2_b64url_value[s[i + 1]],
                 c = apiv2_b64url_value[s[i + 2]], d = apiv2_b64url_value[s[i + 3]];
        if ((a | b | c | d) & 0xc0) return 0; /* BAD has these bits, digits never */
        v = ((unsigned long)a << 18) | ((unsigned long)b << 12) | ((unsigned long)c << 6) | d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    rest = n - i;
    if (rest) { /* 2 or 3 characters: 1 or 2 bytes, the unused low bits zero (canonical) */
        unsigned a = apiv2_b64url_value[s[i]], b = apiv2_b64url_value[s[i + 1]],
                 c = rest == 3 ? apiv2_b64url_value[s[i + 2]] : 0;
        if ((a | b | c) & 0xc0) return 0;
        v = ((unsigned long)a << 18) | ((unsigned long)b << 12) | ((unsigned long)c << 6);
        out[o++] = (unsigned char)(v >> 16);
        if (rest == 3) out[o++] = (unsigned char)(v >> 8);
        if (v & (rest == 2 ? 0xffffUL : 0xffUL)) return 0;
    }
    *outlen = o;
    return 1;
}

int apiv2_b64_secret_decode(const char *in, size_t n, unsigned char *out, size_t *outlen) {
    size_t pad = 0;
    while (pad < n && pad < 3 && in[n - 1 - pad] == '=') pad++;
    if (pad) {
        /* Padding must complete a multiple of 4, and only as 1 or 2 characters. */
        if (n % 4 != 0 || pad > 2) return 0;
        n -= pad;
    }
    return decode_digits(in, n, out, outlen);
}
