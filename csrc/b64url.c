#include "b64url.h"

static const char ENCODE_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A digit's value is 0..63; the two alphabet-specific pairs also carry a flag saying which
   alphabet they belong to, so one function serves both decoders. */
#define BAD 0xff
#define URL_ONLY 0x40 /* '-' and '_' */
#define STD_ONLY 0x80 /* '+' and '/' */

static unsigned char decode_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return (unsigned char)(c - 'A');
    if (c >= 'a' && c <= 'z') return (unsigned char)(c - 'a' + 26);
    if (c >= '0' && c <= '9') return (unsigned char)(c - '0' + 52);
    if (c == '-') return 62 | URL_ONLY;
    if (c == '_') return 63 | URL_ONLY;
    if (c == '+') return 62 | STD_ONLY;
    if (c == '/') return 63 | STD_ONLY;
    return BAD;
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

/* Shared body of both decoders. `forbidden` is the flag of the alphabet that may not occur
   (STD_ONLY for token segments); 0 lets the first alphabet-specific character decide. */
static int decode_digits(const char *in, size_t n, unsigned char forbidden, unsigned char *out,
                         size_t *outlen) {
    size_t i, o = 0;
    unsigned long acc = 0;
    unsigned int bits = 0;
    unsigned char d, seen = 0;
    if (n % 4 == 1) return 0;
    for (i = 0; i < n; i++) {
        d = decode_value((unsigned char)in[i]);
        if (d == BAD || (d & forbidden)) return 0;
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
    return decode_digits(in, n, STD_ONLY, out, outlen);
}

int apiv2_b64_secret_decode(const char *in, size_t n, unsigned char *out, size_t *outlen) {
    size_t pad = 0;
    while (pad < n && pad < 3 && in[n - 1 - pad] == '=') pad++;
    if (pad) {
        /* Padding must complete a multiple of 4, and only as 1 or 2 characters. */
        if (n % 4 != 0 || pad > 2) return 0;
        n -= pad;
    }
    return decode_digits(in, n, 0, out, outlen);
}
