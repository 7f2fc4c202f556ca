#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>

#include "hmac.h"

/* OpenSSL refuses a NULL key pointer even for an empty key; any readable byte will do. */
static const unsigned char EMPTY_KEY[1] = { 0 };

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#include <openssl/params.h>

struct apiv2_hmac { EVP_MAC_CTX *ctx; };

apiv2_hmac *apiv2_hmac_new(const unsigned char *key, size_t keylen) {
    apiv2_hmac *h;
    EVP_MAC *mac;
    OSSL_PARAM params[2];
    char digest[] = "SHA256";
    h = (apiv2_hmac *)OPENSSL_zalloc(sizeof *h);
    if (h == NULL) return NULL;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac != NULL) {
        h->ctx = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac);   /* the context keeps its own reference */
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (h->ctx == NULL
        || !EVP_MAC_init(h->ctx, keylen ? key : EMPTY_KEY, keylen, params)) {
        apiv2_hmac_free(h);
        return NULL;
    }
    return h;
}

int apiv2_hmac_mac(apiv2_hmac *h, const unsigned char *a, size_t alen,
                   const unsigned char *b, size_t blen, unsigned char out[APIV2_MAC_LEN]) {
    size_t outlen = 0;
    /* A NULL key re-initialises with the key already absorbed: no fetch, no key schedule. */
    if (!EVP_MAC_init(h->ctx, NULL, 0, NULL)) return 0;
    if (alen && !EVP_MAC_update(h->ctx, a, alen)) return 0;
    if (blen && !EVP_MAC_update(h->ctx, b, blen)) return 0;
    return EVP_MAC_final(h->ctx, out, &outlen, APIV2_MAC_LEN) && outlen == APIV2_MAC_LEN;
}

void apiv2_hmac_free(apiv2_hmac *h) {
    if (h == NULL) return;
    EVP_MAC_CTX_free(h->ctx);
    OPENSSL_free(h);
}

#else   /* OpenSSL 1.1.1 */

struct apiv2_hmac { HMAC_CTX *ctx; };

apiv2_hmac *apiv2_hmac_new(const unsigned char *key, size_t keylen) {
    apiv2_hmac *h;
    if (keylen > 0x7fffffffUL) return NULL;
    h = (apiv2_hmac *)OPENSSL_zalloc(sizeof *h);
    if (h == NULL) return NULL;
    h->ctx = HMAC_CTX_new();
    if (h->ctx == NULL
        || !HMAC_Init_ex(h->ctx, keylen ? key : EMPTY_KEY, (int)keylen, EVP_sha256(), NULL)) {
        apiv2_hmac_free(h);
        return NULL;
    }
    return h;
}

int apiv2_hmac_mac(apiv2_hmac *h, const unsigned char *a, size_t alen,
                   const unsigned char *b, size_t blen, unsigned char out[APIV2_MAC_LEN]) {
    unsigned int outlen = 0;
    if (!HMAC_Init_ex(h->ctx, NULL, 0, NULL, NULL)) return 0;
    if (alen && !HMAC_Update(h->ctx, a, alen)) return 0;
    if (blen && !HMAC_Update(h->ctx, b, blen)) return 0;
    return HMAC_Final(h->ctx, out, &outlen) && outlen == APIV2_MAC_LEN;
}

void apiv2_hmac_free(apiv2_hmac *h) {
    if (h == NULL) return;
    HMAC_CTX_free(h->ctx);
    OPENSSL_free(h);
}

#endif

int apiv2_hmac_oneshot(const unsigned char *key, size_t keylen,
                       const unsigned char *data, size_t len, unsigned char out[APIV2_MAC_LEN]) {
    unsigned int outlen = 0;
    if (keylen > 0x7fffffffUL) return 0;
    return HMAC(EVP_sha256(), keylen ? key : EMPTY_KEY, (int)keylen,
                len ? data : EMPTY_KEY, len, out, &outlen) != NULL
        && outlen == APIV2_MAC_LEN;
}
