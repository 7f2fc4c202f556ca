/* base64url (RFC 4648 section 5) without padding, as JWS uses it, plus the looser decoder
   for API secrets given as text. Lua-free: (pointer, length) in, (pointer, length) out. */
#ifndef APIV2_B64URL_H
#define APIV2_B64URL_H

#include <stddef.h>
#include "hidden.h"

/* Characters b64url_encode writes for n bytes; 0 when that would overflow size_t. */
APIV2_HIDDEN size_t apiv2_b64url_encoded_len(size_t n);
/* Writes apiv2_b64url_encoded_len(n) characters to out (no NUL, no padding). */
APIV2_HIDDEN void apiv2_b64url_encode(const unsigned char *in, size_t n, char *out);

/* A byte's digit value in the URL alphabet (0..63), or APIV2_B64URL_BAD for any other byte. */
#define APIV2_B64URL_BAD 0xff
APIV2_HIDDEN extern const unsigned char apiv2_b64url_value[256];

/* Upper bound of the bytes a decoder writes for n characters. */
#define B64URL_DECODED_MAX(n) ((n) / 4 * 3 + 2)

/* Strict token-segment decoder: URL alphabet only, no padding, length % 4 != 1, canonical final
   bits. Returns 1 and sets *outlen, or 0 (out then holds no meaningful data). */
APIV2_HIDDEN int apiv2_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen);
/* The same decoder without the vector path (for the tests and fuzzers that compare the two),
   and whether apiv2_b64url_decode takes the vector path on this CPU for texts of 16
   characters or more (SSSE3 on x86-64, asked through libgcc's __builtin_cpu_supports; a build
   with -DAPIV2_B64URL_NO_VECTOR has none). */
APIV2_HIDDEN int apiv2_b64url_decode_scalar(const char *in, size_t n, unsigned char *out,
                                            size_t *outlen);
APIV2_HIDDEN int apiv2_b64url_vector(void);

/* Secret decoder: either alphabet (not both), optional padding that completes a multiple of 4,
   canonical final bits; anything else (whitespace, junk) is an error. Returns 1 or 0. */
APIV2_HIDDEN int apiv2_b64_secret_decode(const char *in, size_t n, unsigned char *out,
                                         size_t *outlen);

#endif
