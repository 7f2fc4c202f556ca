/* libFuzzer target for the C side of token.verify: csrc/jws.c's byte rules (with the strict
   JSON check and base64url inside), then the signature check with a prepared HMAC key,
   differential against OpenSSL's one-shot HMAC(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "hmac.h"
#include "jws.h"
#include "vpass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of spec/fixtures/vectors' RFC 7515 A.1 example would also do; any fixed 48 bytes
   serve. */
static const unsigned char KEY[48] = "fuzzing key: 48 bytes of anything at all.......";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static apiv2_jws parsed; /* 18 KiB: off the stack; libFuzzer runs one input at a time */
    static apiv2_vpass one_pass, fresh; /* one_pass keeps its header memo across inputs */
    static int ready = 0;
    apiv2_hmac *h;
    unsigned char prepared[APIV2_MAC_LEN], oneshot[APIV2_MAC_LEN];
    const char *reason, *one_reason;
    const char *fresh_reason;
    size_t key_len;
    if (!ready) {
        apiv2_vpass_init(&one_pass);
        ready = 1;
    }
    reason = apiv2_jws_parse((const char *)data, size, &parsed);
    one_reason = apiv2_vpass_run((const char *)data, size, &one_pass);
    /* The header memo changes no verdict: a work area with none gives the same reason. */
    apiv2_vpass_init(&fresh);
    fresh_reason = apiv2_vpass_run((const char *)data, size, &fresh);
    if ((one_reason == NULL) != (fresh_reason == NULL) ||
        (one_reason != NULL && strcmp(one_reason, fresh_reason) != 0))
        abort();
    /* The one pass refuses what the byte rules refuse, for the same reason; what they accept
       it accepts too or refuses by a header rule, with the same segments. */
    if (reason != NULL) {
        if (one_reason == NULL || strcmp(reason, one_reason) != 0) abort();
        return 0;
    }
    if (one_reason == NULL || strncmp(one_reason, "alg", 3) == 0 ||
        strncmp(one_reason, "unsupported", 11) == 0 ||
        strcmp(one_reason, "signature length") == 0) {
        if (one_pass.jws.payload_len != parsed.payload_len ||
            memcmp(one_pass.jws.payload, parsed.payload, parsed.payload_len) != 0 ||
            one_pass.jws.header_len != parsed.header_len ||
            memcmp(one_pass.jws.header, parsed.header, parsed.header_len) != 0 ||
            one_pass.jws.signing_input_len != parsed.signing_input_len)
            abort();
    } else {
        abort();
    }
    if (size > APIV2_TOKEN_MAX || parsed.signing_input_len >= size ||
        data[parsed.signing_input_len] != '.')
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
                        prepared))
        abort();
    if (memcmp(prepared, oneshot, sizeof prepared) != 0) abort();
    if (parsed.signature_len == APIV2_MAC_LEN &&
        (CRYPTO_memcmp(prepared, parsed.signature, APIV2_MAC_LEN) == 0) !=
            (memcmp(oneshot, parsed.signature, APIV2_MAC_LEN) == 0))
        abort();
    apiv2_hmac_free(h);
    return 0;
}
