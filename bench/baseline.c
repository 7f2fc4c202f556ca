/* The C baseline for bench/sign.lua: the same HS256 token as token:sign(key), built with no Lua,
   so the ratio Lua/C shows what the binding and the Lua code cost on top of the unavoidable work
   (payload formatting, base64url, HMAC-SHA256, random jti).
   Usage: bench-baseline [N]  -> "baseline <tokens/s> tokens/s ..." (best of 5 runs of N).
   With a second argument "verify", the baseline of token.verify instead: csrc/jws.c's strict
   parsing (base64url, UTF-8, JSON, duplicate names) and the constant-time MAC check of one
   signed token, printed as "baseline-verify <tokens/s> ...". */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime under -std=c99 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "hmac.h"
#include "jws.h"

#define RUNS 5
#define TOKEN_MAX 8192
/* Random bytes are drawn in blocks of the library's pool size (csrc/randpool.c), inside the
   timed loop, so both sides pay the same share of RAND_bytes per token. */
#define POOL_BYTES 4000

static const char SECRET[] = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE";
static const char HEADER_B64[] = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";
#define HEADER_LEN (sizeof HEADER_B64 - 1)
#define MAC_B64_LEN 43
/* The payload of bench/sign.lua's token, claims in the library's order. */
static const char PAYLOAD_FMT[] =
    "{\"iat\":%lld,\"scopes\":{\"users\":{\"actions\":[\"read\",\"update\"]},"
    "\"clients\":{\"actions\":[\"read\"]},\"tokens\":{\"actions\":[\"blacklist\"]}},"
    "\"jti\":\"%s\",\"exp\":%lld,\"aud\":\"DEMOapiKEY0123456789abcdefghijkl\"}";

static unsigned char pool[POOL_BYTES];
static size_t pool_avail;

static void die(const char *what) {
    fprintf(stderr, "bench-baseline: %s failed\n", what);
    exit(1);
}

/* 16 random bytes as 32 lower-case hex characters (like core.jti), NUL-terminated. */
static void new_jti(char text[33]) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *raw;
    int i;
    if (pool_avail < 16) {
        if (RAND_bytes(pool, sizeof pool) != 1) die("RAND_bytes");
        pool_avail = sizeof pool;
    }
    pool_avail -= 16;
    raw = pool + pool_avail;
    for (i = 0; i < 16; i++) {
        text[2 * i] = hex[raw[i] >> 4];
        text[2 * i + 1] = hex[raw[i] & 15];
    }
    text[32] = '\0';
}

/* Signs one token into buf (HEADER "." payload "." mac, all base64url); returns its length. */
static size_t sign(apiv2_hmac *h, char *buf) {
    char payload[1024], jti[33];
    unsigned char mac[APIV2_MAC_LEN];
    long long iat = (long long)time(NULL);
    size_t plen, blen;
    int n;
    new_jti(jti);
    n = snprintf(payload, sizeof payload, PAYLOAD_FMT, iat, jti, iat + 3600);
    if (n < 0 || (size_t)n >= sizeof payload) die("snprintf");
    plen = (size_t)n;
    blen = apiv2_b64url_encoded_len(plen);
    memcpy(buf, HEADER_B64, HEADER_LEN);
    buf[HEADER_LEN] = '.';
    apiv2_b64url_encode((const unsigned char *)payload, plen, buf + HEADER_LEN + 1);
    if (!apiv2_hmac_mac(h, (const unsigned char *)buf, HEADER_LEN + 1 + blen, NULL, 0, mac))
        die("HMAC");
    buf[HEADER_LEN + 1 + blen] = '.';
    apiv2_b64url_encode(mac, sizeof mac, buf + HEADER_LEN + 2 + blen);
    return HEADER_LEN + 2 + blen + MAC_B64_LEN;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time, like os.clock on the Lua side */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Verifies buf[0..len) with h: 1 when its form and MAC are right (no claims: C has no table). */
static int verify(apiv2_hmac *h, const char *buf, size_t len) {
    static apiv2_jws parsed;
    unsigned char mac[APIV2_MAC_LEN];
    if (apiv2_jws_parse(buf, len, &parsed) != NULL) return 0;
    if (!apiv2_hmac_mac(h, (const unsigned char *)buf, parsed.signing_input_len, NULL, 0, mac))
        die("HMAC");
    return parsed.signature_len == APIV2_MAC_LEN
        && CRYPTO_memcmp(mac, parsed.signature, APIV2_MAC_LEN) == 0;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 300000;
    int verify_mode = argc > 2 && strcmp(argv[2], "verify") == 0;
    unsigned char key[64];
    size_t keylen, len, j;
    apiv2_hmac *h;
    static char buf[TOKEN_MAX];
    unsigned long checksum = 0;
    double best = 0;
    long i;
    int run;

    if (n <= 0) die("N (a positive count)");
    if (!apiv2_b64_secret_decode(SECRET, sizeof SECRET - 1, key, &keylen)) die("secret decode");
    h = apiv2_hmac_new(key, keylen);   /* once, like token.key */
    OPENSSL_cleanse(key, sizeof key);
    if (h == NULL) die("apiv2_hmac_new");

    len = sign(h, buf);   /* the token verify mode checks */
    for (run = 0; run < RUNS; run++) {
        double t0 = now(), rate;
        for (i = 0; i < n; i++) {
            if (verify_mode) {
                if (!verify(h, buf, len)) die("verify");
                checksum += (unsigned long)i;
                continue;
            }
            len = sign(h, buf);
            /* The signature depends on every byte before it, so summing its characters (not the
               whole token: that alone cost ~15%) keeps all the work observable. */
            checksum += len;
            for (j = len - MAC_B64_LEN; j < len; j++) checksum += (unsigned char)buf[j];
        }
        rate = (double)n / (now() - t0);
        if (rate > best) best = rate;
    }
    apiv2_hmac_free(h);
    printf("%s %.0f tokens/s (best of %d runs of %ld; checksum %lx)\n",
           verify_mode ? "baseline-verify" : "baseline", best, RUNS, n, checksum);
    printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
    return 0;
}
