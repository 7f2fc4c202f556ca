/* libFuzzer target for csrc/b64url.c, differential against OpenSSL's base64.
   - encode: our base64url of the input equals OpenSSL's EVP_EncodeBlock with the alphabet
     swapped and the padding dropped;
   - strict decode: when we accept text, OpenSSL decodes the same bytes and re-encoding gives the
     text back (canonical); when we reject text made only of URL characters with a length
     OpenSSL can pad, re-encoding what OpenSSL decodes must differ (non-canonical final bits);
   - the secret decoder agrees with the strict one on URL-alphabet text without padding;
   - the strict decoder's vector path (16 characters at a time) and its scalar loop give the
     same verdict and bytes on every input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "b64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 4096

static int url_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_';
}

/* OpenSSL's decoding of URL-alphabet text of length % 4 != 1; returns the byte count. */
static size_t openssl_decode(const char *text, size_t n, unsigned char *out) {
    unsigned char std[FUZZ_MAX_INPUT + 4];
    size_t i, padded = (n + 3) / 4 * 4, pad = padded - n;
    int len;
    for (i = 0; i < n; i++)
        std[i] = (unsigned char)(text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i]);
    for (; i < padded; i++) std[i] = '=';
    len = EVP_DecodeBlock(out, std, (int)padded);
    if (len < 0) abort();     /* valid characters: OpenSSL must decode them */
    return (size_t)len - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
}

static void check_encode(const uint8_t *data, size_t size) {
    char ours[FUZZ_MAX_INPUT / 3 * 4 + 8];
    unsigned char theirs[FUZZ_MAX_INPUT / 3 * 4 + 8];
    size_t n = apiv2_b64url_encoded_len(size), i;
    int m;
    apiv2_b64url_encode(data, size, ours);
    m = EVP_EncodeBlock(theirs, data, (int)size);
    while (m > 0 && theirs[m - 1] == '=') m--;
    if ((size_t)m != n) abort();
    for (i = 0; i < n; i++) {
        unsigned char c = theirs[i] == '+' ? '-' : theirs[i] == '/' ? '_' : theirs[i];
        if ((unsigned char)ours[i] != c) abort();
    }
}

static void check_decode(const char *text, size_t n) {
    unsigned char ours[FUZZ_MAX_INPUT], theirs[FUZZ_MAX_INPUT + 4], secret[FUZZ_MAX_INPUT];
    char again[FUZZ_MAX_INPUT + 8];
    size_t ours_len = 0, theirs_len, secret_len = 0, i;
    int all_url = 1, accepted = apiv2_b64url_decode(text, n, ours, &ours_len);
    for (i = 0; i < n; i++) all_url &= url_char((unsigned char)text[i]);
    if (accepted) {
        if (!all_url || n % 4 == 1) abort();
        theirs_len = openssl_decode(text, n, theirs);
        if (theirs_len != ours_len || memcmp(ours, theirs, ours_len) != 0) abort();
        apiv2_b64url_encode(ours, ours_len, again);
        if (apiv2_b64url_encoded_len(ours_len) != n || memcmp(again, text, n) != 0) abort();
    } else if (all_url && n % 4 != 1) {
        theirs_len = openssl_decode(text, n, theirs);
        apiv2_b64url_encode(theirs, theirs_len, again);
        if (memcmp(again, text, n) == 0) abort(); /* we rejected canonical text */
    }
    if (all_url) {
        int secret_ok = apiv2_b64_secret_decode(text, n, secret, &secret_len);
        if (secret_ok != accepted) abort();
        if (secret_ok && (secret_len != ours_len || memcmp(secret, ours, ours_len) != 0)) abort();
    }
}

/* The vector path against the scalar loop, each into a heap buffer of exactly the bytes n
   characters decode to, so that ASan sees a write past them. */
static void check_vector(const char *text, size_t n) {
    size_t exact = n / 4 * 3 + (n % 4 > 1 ? n % 4 - 1 : 0), vector_len = 0, scalar_len = 0;
    unsigned char *vector = (unsigned char *)malloc(exact ? exact : 1);
    unsigned char *scalar = (unsigned char *)malloc(exact ? exact : 1);
    int accepted;
    if (vector == NULL || scalar == NULL) abort();
    accepted = apiv2_b64url_decode(text, n, vector, &vector_len);
    if (apiv2_b64url_decode_scalar(text, n, scalar, &scalar_len) != accepted) abort();
    if (accepted &&
        (vector_len != exact || scalar_len != exact || memcmp(vector, scalar, exact) != 0))
        abort();
    free(vector);
    free(scalar);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT) return 0;
    check_encode(data, size);
    check_decode((const char *)data, size);
    check_vector((const char *)data, size);
    return 0;
}
