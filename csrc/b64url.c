#include "b64url.h"

#include <stdint.h>
#include <string.h>

/* The vector path: x86-64 with a compiler that can target SSSE3 for one function. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(APIV2_B64URL_NO_VECTOR)
#    define APIV2_B64URL_VECTOR 1
#    include <tmmintrin.h>
#else
#    define APIV2_B64URL_VECTOR 0
#endif

static const char ENCODE_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A digit's value is 0..63; the two alphabet-specific pairs also carry a flag saying which
   alphabet they belong to (the secret decoder refuses a mix). */
#define BAD APIV2_B64URL_BAD
#define URL_ONLY 0x40 /* '-' and '_' */
#define STD_ONLY 0x80 /* '+' and '/' */

/* The URL alphabet by byte code (a token is ASCII whatever the compiler's character set):
   a byte's digit value 0..63, or -1. The one copy of the alphabet on the decoding side:
   every table below is made from it at compile time. */
#define DIGIT(c) \
    ((c) >= 65 && (c) <= 90        ? (c)-65 \
         : (c) >= 97 && (c) <= 122 ? (c)-97 + 26 \
         : (c) >= 48 && (c) <= 57  ? (c)-48 + 52 \
         : (c) == 45               ? 62 \
         : (c) == 95               ? 63 \
                                   : -1)
/* A table's 256 entries, f(byte) each. */
#define R4(f, b) f(b), f((b) + 1), f((b) + 2), f((b) + 3)
#define R16(f, b) R4(f, b), R4(f, (b) + 4), R4(f, (b) + 8), R4(f, (b) + 12)
#define R64(f, b) R16(f, b), R16(f, (b) + 16), R16(f, (b) + 32), R16(f, (b) + 48)
#define R256(f) R64(f, 0), R64(f, 64), R64(f, 128), R64(f, 192)

/* The URL alphabet's digit values, BAD for every other byte (the jws character check and the
   secret decoder look each character up once instead of branching on ranges: a token's
   characters are random, so range tests mispredict). Cast whole: clang checks each arm's
   constant against the element type, the arms not taken too (255 - 48 + 52). */
#define VALUE(c) ((unsigned char)(DIGIT(c) < 0 ? BAD : DIGIT(c)))
const unsigned char apiv2_b64url_value[256] = { R256(VALUE) };

/* The strict decoder's tables: a character's digit already shifted to its place in the 24
   bits of its group of four, or bit 24 for a byte outside the alphabet. A group is then four
   lookups ORed: bit 24 set means a bad character, else the low 24 bits are its three bytes.
   (This loop is most of a verification's decoding time; one byte-value table and the shifts
   after it took half again as many instructions.) */
#define OUTSIDE 0x1000000UL
#define SHIFTED(c, shift) (DIGIT(c) < 0 ? OUTSIDE : (uint_least32_t)DIGIT(c) << (shift))
#define AT18(c) SHIFTED(c, 18)
#define AT12(c) SHIFTED(c, 12)
#define AT6(c) SHIFTED(c, 6)
#define AT0(c) SHIFTED(c, 0)
static const uint_least32_t DIGIT_AT18[256] = { R256(AT18) };
static const uint_least32_t DIGIT_AT12[256] = { R256(AT12) };
static const uint_least32_t DIGIT_AT6[256] = { R256(AT6) };
static const uint_least32_t DIGIT_AT0[256] = { R256(AT0) };

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

/* The strict decoder's scalar loop, from character i on (i % 4 == 0: output byte i / 4 * 3). */
static int decode_from(const unsigned char *s, size_t n, size_t i, unsigned char *out,
                       size_t *outlen) {
    size_t o = i / 4 * 3, rest;
    uint_least32_t v;
    for (; i + 4 <= n; i += 4) {
        v = DIGIT_AT18[s[i]] | DIGIT_AT12[s[i + 1]] | DIGIT_AT6[s[i + 2]] | DIGIT_AT0[s[i + 3]];
        if (v & OUTSIDE) return 0;
        out[o] = (unsigned char)(v >> 16);
        out[o + 1] = (unsigned char)(v >> 8);
        out[o + 2] = (unsigned char)v;
        o += 3;
    }
    rest = n - i;
    if (rest) { /* 2 or 3 characters: 1 or 2 bytes, the unused low bits zero (canonical) */
        v = DIGIT_AT18[s[i]] | DIGIT_AT12[s[i + 1]] | (rest == 3 ? DIGIT_AT6[s[i + 2]] : 0);
        if (v & OUTSIDE) return 0;
        out[o++] = (unsigned char)(v >> 16);
        if (rest == 3) out[o++] = (unsigned char)(v >> 8);
        if (v & (rest == 2 ? 0xffffUL : 0xffUL)) return 0;
    }
    *outlen = o;
    return 1;
}

#if APIV2_B64URL_VECTOR
/* 16 characters at a time with SSSE3 (x86-64 has only SSE2 for certain, so the CPU is asked:
   __builtin_cpu_supports reads what libgcc's constructor found, no state of ours). The
   alphabet's five ranges are compared bytewise (bytes >= 0x80 are negative, so in none), each
   range's offset added to its characters; then the digits are joined as Muła and Lemire do
   (pmaddubsw, pmaddwd) and the 12 bytes picked out in order (pshufb). Every 16 characters
   decode as the four-table loop decodes them; the tail is that loop's. */
#    define ABOVE(x, c) _mm_cmpgt_epi8((x), _mm_set1_epi8((char)((c)-1)))
#    define BELOW(x, c) _mm_cmplt_epi8((x), _mm_set1_epi8((char)((c) + 1)))
#    define IN_RANGE(x, lo, hi) _mm_and_si128(ABOVE(x, lo), BELOW(x, hi))

/* The characters of s[0..n) in whole blocks of 16 into out: how many were decoded (a multiple
   of 16), or (size_t)-1 when a block holds a byte outside the alphabet. */
__attribute__((target("ssse3"))) static size_t decode_blocks(const unsigned char *s, size_t n,
                                                             unsigned char *out) {
    const __m128i join_pairs = _mm_set1_epi32(0x01400140);  /* a * 64 + b, per byte pair */
    const __m128i join_halves = _mm_set1_epi32(0x00011000); /* a * 4096 + b, per word pair */
    const __m128i in_order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    size_t i = 0, o = 0;
    for (; i + 16 <= n; i += 16, o += 12) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i upper = IN_RANGE(c, 'A', 'Z'), lower = IN_RANGE(c, 'a', 'z');
        __m128i digit = IN_RANGE(c, '0', '9');
        __m128i dash = _mm_cmpeq_epi8(c, _mm_set1_epi8('-'));
        __m128i under = _mm_cmpeq_epi8(c, _mm_set1_epi8('_'));
        __m128i known = _mm_or_si128(_mm_or_si128(upper, lower),
                                     _mm_or_si128(digit, _mm_or_si128(dash, under)));
        __m128i offset, packed;
        int tail;
        if (_mm_movemask_epi8(known) != 0xffff) return (size_t)-1;
        /* Each range's offset to its digits: 'A' -> 0, 'a' -> 26, '0' -> 52, '-', '_'. */
        offset = _mm_and_si128(upper, _mm_set1_epi8(0 - 'A'));
        offset = _mm_or_si128(offset, _mm_and_si128(lower, _mm_set1_epi8(26 - 'a')));
        offset = _mm_or_si128(offset, _mm_and_si128(digit, _mm_set1_epi8(52 - '0')));
        offset = _mm_or_si128(offset, _mm_and_si128(dash, _mm_set1_epi8(62 - '-')));
        offset = _mm_or_si128(offset, _mm_and_si128(under, _mm_set1_epi8(63 - '_')));
        packed =
            _mm_madd_epi16(_mm_maddubs_epi16(_mm_add_epi8(c, offset), join_pairs), join_halves);
        packed = _mm_shuffle_epi8(packed, in_order);
        _mm_storel_epi64((__m128i *)(void *)(out + o), packed);
        tail = _mm_cvtsi128_si32(_mm_srli_si128(packed, 8));
        memcpy(out + o + 8, &tail, 4);
    }
    return i;
}

int apiv2_b64url_vector(void) {
#    ifdef __SSSE3__
    return 1;
#    else
    return __builtin_cpu_supports("ssse3") != 0;
#    endif
}
#else
int apiv2_b64url_vector(void) {
    return 0;
}
#endif

int apiv2_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen) {
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    if (n % 4 == 1) return 0;
#if APIV2_B64URL_VECTOR
    if (n >= 16 && apiv2_b64url_vector()) {
        i = decode_blocks(s, n, out);
        if (i == (size_t)-1) return 0;
    }
#endif
    return decode_from(s, n, i, out, outlen);
}

int apiv2_b64url_decode_scalar(const char *in, size_t n, unsigned char *out, size_t *outlen) {
    if (n % 4 == 1) return 0;
    return decode_from((const unsigned char *)in, n, 0, out, outlen);
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
