/* HMAC-SHA256 with a key prepared once: the key is absorbed into OpenSSL's state at creation
   and each MAC only re-initialises that state (the inner and outer SHA-256 states, copied per MAC).
   Lua-free. */
#ifndef APIV2_HMAC_H
#define APIV2_HMAC_H

#include <stddef.h>
#include "hidden.h"

#define APIV2_MAC_LEN 32

typedef struct apiv2_hmac apiv2_hmac;

/* NULL when OpenSSL fails (its error queue says why). The caller wipes its copy of the key. */
APIV2_HIDDEN apiv2_hmac *apiv2_hmac_new(const unsigned char *key, size_t keylen);
/* One MAC over two consecutive pieces of data (b, blen may be NULL, 0). Returns 1 or 0. */
APIV2_HIDDEN int apiv2_hmac_mac(apiv2_hmac *h, const unsigned char *a, size_t alen,
                                const unsigned char *b, size_t blen,
                                unsigned char out[APIV2_MAC_LEN]);
/* Frees the state; OpenSSL cleanses the key schedule it held. NULL is fine. */
APIV2_HIDDEN void apiv2_hmac_free(apiv2_hmac *h);
/* One-shot HMAC (OpenSSL's HMAC()), kept for vectors and as a differential reference. */
APIV2_HIDDEN int apiv2_hmac_oneshot(const unsigned char *key, size_t keylen,
                                    const unsigned char *data, size_t len,
                                    unsigned char out[APIV2_MAC_LEN]);

#endif
