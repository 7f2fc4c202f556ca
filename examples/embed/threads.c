/* Several Lua states on several threads at once, without locks: each thread creates its own
   lua_State, signs TOKENS tokens through auth0.apiv2 (embedded script threads.lua) and verifies
   some; afterwards the main thread checks that all the jti values are distinct. Built with
   -fsanitize=thread by `make -C examples/embed test`.

   threads [tokens-per-thread]      the test (default 10000)
   threads --race-canary            plants a data race, so a test can see ThreadSanitizer work */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua.h"

#include "embed.h"

#define THREADS 4
#define DEFAULT_TOKENS 10000
#define VERIFY_EVERY 100
#define JTI_LEN 32

static const char SECRET[] = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE";
static const char API_KEY[] = "DEMOapiKEY0123456789abcdefghijkl";

typedef struct {
    long tokens; /* to sign */
    char *jtis;  /* tokens * JTI_LEN bytes: this thread's slice of the total */
    long verified;
    int ok;
    long *canary; /* shared by all threads in --race-canary mode, else NULL */
} worker;

static void *work(void *arg) {
    worker *w = (worker *)arg;
    lua_State *L;
    if (w->canary != NULL) (*w->canary)++; /* the planted race: unsynchronised writes */
    L = embed_newstate();
    if (L == NULL) return NULL;
    lua_pushinteger(L, (lua_Integer)w->tokens);
    lua_pushstring(L, SECRET);
    lua_pushstring(L, API_KEY);
    lua_pushinteger(L, VERIFY_EVERY);
    if (embed_run(L, "threads", 4, 2)) {
        size_t len = 0;
        const char *jtis = lua_tolstring(L, -2, &len);
        if (jtis != NULL && len == (size_t)w->tokens * JTI_LEN) {
            memcpy(w->jtis, jtis, len);
            w->verified = (long)lua_tointeger(L, -1);
            w->ok = 1;
        } else {
            fprintf(stderr, "threads: the script returned %lu bytes of jti\n", (unsigned long)len);
        }
    }
    lua_close(L);
    return NULL;
}

static int compare_jti(const void *a, const void *b) {
    return memcmp(a, b, JTI_LEN);
}

static int lower_hex(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
    worker workers[THREADS];
    pthread_t ids[THREADS];
    long tokens = DEFAULT_TOKENS, canary = 0, total, distinct = 0, verified = 0, i;
    int started = 0, failed = 0, t;
    char *all;
    struct timespec start;

    if (argc > 1 && strcmp(argv[1], "--race-canary") == 0) {
        tokens = 10;
    } else if (argc > 1) {
        tokens = strtol(argv[1], NULL, 10);
        if (tokens <= 0 || tokens > 1000000) {
            fprintf(stderr, "usage: threads [tokens-per-thread (1..1000000)] | --race-canary\n");
            return 2;
        }
    }
    total = tokens * THREADS;
    all = (char *)malloc((size_t)total * JTI_LEN);
    if (all == NULL) {
        fprintf(stderr, "threads: out of memory\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (t = 0; t < THREADS; t++) {
        workers[t].tokens = tokens;
        workers[t].jtis = all + (size_t)t * (size_t)tokens * JTI_LEN;
        workers[t].verified = 0;
        workers[t].ok = 0;
        workers[t].canary = argc > 1 && strcmp(argv[1], "--race-canary") == 0 ? &canary : NULL;
    }
    for (t = 0; t < THREADS; t++) {
        if (pthread_create(&ids[t], NULL, work, &workers[t]) != 0) {
            fprintf(stderr, "threads: cannot start thread %d\n", t);
            failed = 1;
            break;
        }
        started++;
    }
    for (t = 0; t < started; t++) pthread_join(ids[t], NULL);

    for (t = 0; t < THREADS; t++) {
        if (!workers[t].ok) failed = 1;
        verified += workers[t].verified;
    }
    if (!failed) {
        qsort(all, (size_t)total, JTI_LEN, compare_jti);
        for (i = 0; i < total; i++) {
            if (!lower_hex(all + i * JTI_LEN, JTI_LEN)) {
                fprintf(stderr, "threads: a jti is not lower-case hex\n");
                failed = 1;
                break;
            }
            if (i == 0 || memcmp(all + (i - 1) * JTI_LEN, all + i * JTI_LEN, JTI_LEN) != 0)
                distinct++;
        }
        printf("threads: %d states x %ld tokens = %ld tokens, %ld distinct jti, %ld verified, "
               "%.2f s\n",
               THREADS, tokens, total, distinct, verified, seconds_since(&start));
        if (distinct != total) failed = 1;
    }
    free(all);
    return failed ? 1 : 0;
}
