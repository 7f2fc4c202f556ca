#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <string.h>

#include "hmac.h"

/* OpenSSL refuses a NULL key pointer even for an empty key; any readable byte will do. */
static const unsigned char EMPTY_KEY[1] = { 0 };

/* The key is absorbed once into the inner and outer SHA-256 states (RFC 2104: H(K^opad,
   H(K^ipad, m))); each MAC copies the two states and hashes only the message. This is what
   the C limit of /work/shared/bench does, and it measured well under OpenSSL 3's
   EVP_MAC_init(ctx, NULL, ...) re-initialisation, which walks the provider layer per MAC.
   The low-level SHA256_* calls exist on 1.1.1 and 3.x (OPENSSL_API_COMPAT 1.1.1). */
#include <openssl/sha.h>

#define BLOCK 64

struct apiv2_hmac {
    SHA256_CTX inner, outer;
};

apiv2_hmac *apiv2_hmac_new(const unsigned char *key, size_t keylen) {
    apiv2_hmac *h;
    unsigned char block[BLOCK], pad[BLOCK];
    size_t i;
    int ok;
    h = (apiv2_hmac *)OPENSSL_zalloc(sizeof *h);
    if (h == NULL) return NULL;
    memset(block, 0, sizeof block);
    if (keylen > BLOCK) {
        if (SHA256(key, keylen, block) == NULL) {
            apiv2_hmac_free(h);
            return NULL;
        }
    } else if (keylen) {
        memcpy(block, key, keylen);
    }
    for (i = 0; i < BLOCK; i++) pad[i] = (unsigned char)(block[i] ^ 0x36);
    ok = SHA256_Init(&h->inner) && SHA256_Update(&h->inner, pad, BLOCK);
    for (i = 0; i < BLOCK; i++) pad[i] = (unsigned char)(block[i] ^ 0x5c);
    ok = ok && SHA256_Init(&h->outer) && SHA256_Update(&h->outer, pad, BLOCK);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    if (!ok) {
        apiv2_hmac_free(h);
        return NULL;
    }
    return h;
}

int apiv2_hmac_mac(apiv2_hmac *h, const unsigned char *a, size_t alen, const unsigned char *b,
                   size_t blen, unsigned char out[APIV2_MAC_LEN]) {
    SHA256_CTX c = h->inner;
    unsigned char inner[APIV2_MAC_LEN];
    int ok = (!alen || SHA256_Update(&c, a, alen)) && (!blen || SHA256_Update(&c, b, blen)) &&
        SHA256_Final(inner, &c);
    c = h->outer;
    ok = ok && SHA256_Update(&c, inner, sizeof inner) && SHA256_Final(out, &c);
    OPENSSL_cleanse(inner, sizeof inner);
    OPENSSL_cleanse(&c, sizeof c);
    return ok;
}

void apiv2_hmac_free(apiv2_hmac *h) {
    if (h == NULL) return;
    OPENSSL_clear_free(h, sizeof *h); /* the states are as good as the key */
}

int apiv2_hmac_oneshot(const unsigned char *key, size_t keylen, const unsigned char *data,
                       size_t len, unsigned char out[APIV2_MAC_LEN]) {
    unsigned int outlen = 0;
    if (keylen > 0x7fffffffUL) return 0;
    return HMAC(EVP_sha256(), keylen ? key : EMPTY_KEY, (int)keylen, len ? data : EMPTY_KEY, len,
                out, &outlen) != NULL &&
        outlen == APIV2_MAC_LEN;
}
