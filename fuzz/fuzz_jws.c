/* libFuzzer target for the C side of token.verify: csrc/jws.c's byte rules (with the strict
   JSON check and base64url inside), then the signature check with a prepared HMAC key,
   differential against OpenSSL's one-shot HMAC(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "hmac.h"
#include "jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of spec/fixtures/vectors' RFC 7515 A.1 example would also do; any fixed 48 bytes
   serve. */
static const unsigned char KEY[48] = "fuzzing key: 48 bytes of anything at all.......";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static apiv2_jws parsed;   /* 18 KiB: off the stack; libFuzzer runs one input at a time */
    apiv2_hmac *h;
    unsigned char prepared[APIV2_MAC_LEN], oneshot[APIV2_MAC_LEN];
    const char *reason = apiv2_jws_parse((const char *)data, size, &parsed);
    size_t key_len;
    if (reason != NULL) return 0;
    if (size > APIV2_TOKEN_MAX || parsed.signing_input_len >= size
        || data[parsed.signing_input_len] != '.')
        abort();
    /* Differential HMAC over the signing input, with a key length taken from the input. */
    key_len = 1 + data[0] % sizeof KEY;
    h = apiv2_hmac_new(KEY, key_len);
    if (h == NULL) abort();
    if (!apiv2_hmac_mac(h, data, parsed.signing_input_len, NULL, 0, prepared)) abort();
    if (!apiv2_hmac_oneshot(KEY, key_len, data, parsed.signing_input_len, oneshot)) abort();
    if (memcmp(prepared, oneshot, sizeof prepared) != 0) abort();
    /* A second MAC with the same prepared state gives the same answer. */
    if (!apiv2_hmac_mac(h, data, 5 < parsed.signing_input_len ? 5 : 0,
                        data + (5 < parsed.signing_input_len ? 5 : 0),
                        parsed.signing_input_len - (5 < parsed.signing_input_len ? 5 : 0),
                        prepared)) abort();
    if (memcmp(prepared, oneshot, sizeof prepared) != 0) abort();
    if (parsed.signature_len == APIV2_MAC_LEN
        && (CRYPTO_memcmp(prepared, parsed.signature, APIV2_MAC_LEN) == 0)
               != (memcmp(oneshot, parsed.signature, APIV2_MAC_LEN) == 0))
        abort();
    apiv2_hmac_free(h);
    return 0;
}
