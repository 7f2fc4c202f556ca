/* The strict base64url decoder's vector path (16 characters at a time, SSSE3 on x86-64)
   against its scalar loop, which the fuzzer and the specs have long checked against OpenSSL:
   the same verdict and the same bytes for every length up to a few hundred characters, every
   byte value at every place of a block, at every alignment of input and output, and
   round trips of random bytes. On x86-64 the test fails when the vector path is not taken,
   so that it cannot pass by comparing the scalar loop with itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

#define MAX_TEXT 700

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int is_digit(int b) {
    return b != 0 && strchr(ALPHABET, b) != NULL;
}

static int failed, passed;
static unsigned long seed = 12345;

static unsigned next_random(void) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(seed >> 33);
}

static void random_text(char *text, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) text[i] = ALPHABET[next_random() % 64];
}

/* Both decoders on text[0..n) into outputs at offset `shift`: the same verdict and bytes. */
static int agree(const char *text, size_t n, size_t shift) {
    unsigned char vector[MAX_TEXT + 32], scalar[MAX_TEXT + 32];
    size_t vector_len = (size_t)-1, scalar_len = (size_t)-2;
    int v, s;
    memset(vector, 0xa5, sizeof vector);
    memset(scalar, 0xa5, sizeof scalar);
    v = apiv2_b64url_decode(text, n, vector + shift, &vector_len);
    s = apiv2_b64url_decode_scalar(text, n, scalar + shift, &scalar_len);
    if (v != s) return 0;
    if (v && (vector_len != scalar_len || memcmp(vector + shift, scalar + shift, vector_len) != 0))
        return 0;
    /* Nothing written past the decoded bytes (the vector path stores 12 bytes a block). */
    if (v && memcmp(vector + shift + vector_len, scalar + shift + scalar_len, 16) != 0) return 0;
    return 1;
}

static void check(const char *name, int ok) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", name);
    }
}

int main(void) {
    char buffer[MAX_TEXT + 32], name[128];
    static const size_t lengths[] = { 16, 18, 22, 32, 35, 48, 50 };
    size_t n, place, shift, k;
    int b, ok;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(APIV2_B64URL_NO_VECTOR)
    if (__builtin_cpu_supports("ssse3"))
        check("the vector path is taken on this x86-64 CPU with SSSE3", apiv2_b64url_vector());
    else printf("test_b64url: this CPU has no SSSE3: the scalar loop against itself\n");
#else
    printf("test_b64url: no vector path in this build: the scalar loop against itself\n");
#endif

    /* Every length, random text (canonical or not: both decoders must say the same). */
    for (n = 0; n <= MAX_TEXT - 16; n++) {
        ok = 1;
        for (k = 0; k < 8 && ok; k++) {
            random_text(buffer, n);
            ok = agree(buffer, n, k);
        }
        sprintf(name, "random text of %zu characters", n);
        check(name, ok);
    }

    /* Every byte value at every place, for texts of one to three blocks, with and without a tail. */
    for (k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        n = lengths[k];
        random_text(buffer, n);
        ok = 1;
        for (place = 0; place < n && ok; place++) {
            char saved = buffer[place];
            for (b = 0; b < 256 && ok; b++) {
                buffer[place] = (char)b;
                ok = agree(buffer, n, 0);
                if (ok && !is_digit(b)) { /* and both refuse it */
                    unsigned char out[MAX_TEXT];
                    size_t len;
                    ok = apiv2_b64url_decode(buffer, n, out, &len) == 0;
                }
            }
            buffer[place] = saved;
        }
        sprintf(name, "every byte at every place of %zu characters", n);
        check(name, ok);
    }

    /* Every alignment of input and output, for lengths of one to six blocks and tails. */
    ok = 1;
    for (n = 16; n <= 100 && ok; n++) {
        for (shift = 0; shift < 16 && ok; shift++) {
            random_text(buffer + shift, n);
            ok = agree(buffer + shift, n, shift);
        }
    }
    check("every alignment of input and output", ok);

    /* Round trips: random bytes encoded, then decoded by the vector path. */
    ok = 1;
    for (n = 0; n <= 400 && ok; n++) {
        unsigned char bytes[400], back[400];
        char text[600];
        size_t i, len = 0;
        for (i = 0; i < n; i++) bytes[i] = (unsigned char)next_random();
        apiv2_b64url_encode(bytes, n, text);
        ok = apiv2_b64url_decode(text, apiv2_b64url_encoded_len(n), back, &len) && len == n &&
            memcmp(back, bytes, n) == 0;
    }
    check("random bytes of 0..400 round-trip", ok);

    /* Fixed vectors: RFC 4648's "foobar" and all 64 digits in order. */
    {
        unsigned char out[64];
        size_t len = 0;
        const char *digits = ALPHABET;
        static const unsigned char expect[48] = { 0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92,
                                                  0x8b, 0x30, 0xd3, 0x8f, 0x41, 0x14, 0x93, 0x51,
                                                  0x55, 0x97, 0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f,
                                                  0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a,
                                                  0xab, 0xb2, 0xdb, 0xaf, 0xc3, 0x1c, 0xb3, 0xd3,
                                                  0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf };
        check("the 64 digits in order",
              apiv2_b64url_decode(digits, 64, out, &len) && len == 48 &&
                  memcmp(out, expect, 48) == 0);
        check("\"Zm9vYmFyZm9vYmFyZm9v\" is foobarfoobarfoo",
              apiv2_b64url_decode("Zm9vYmFyZm9vYmFyZm9v", 20, out, &len) && len == 15 &&
                  memcmp(out, "foobarfoobarfoo", 15) == 0);
        check("a standard-alphabet '+' in the first block is refused",
              !apiv2_b64url_decode("Zm9vYmFy+m9vYmFyZm9v", 20, out, &len));
        check("a '=' in the first block is refused",
              !apiv2_b64url_decode("Zm9vYmFyZm9vYmF=Zm9v", 20, out, &len));
    }

    printf("test_b64url: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
