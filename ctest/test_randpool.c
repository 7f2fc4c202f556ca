/* The random pool across fork(): the parent fills its pool, then it and two children draw ids;
   no 16-byte id may repeat. Built twice by the Makefile: with MADV_WIPEONFORK and with the
   getpid() fallback forced (-DAPIV2_RANDPOOL_NO_WIPEONFORK). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "randpool.h"

#define IDS 600 /* per process: more than one pool refill */
#define PROCS 3
#define ID_LEN 16

static unsigned char ids[PROCS * IDS][ID_LEN];

static int compare_ids(const void *a, const void *b) {
    return memcmp(a, b, ID_LEN);
}

static int draw(apiv2_randpool *pool, unsigned char (*out)[ID_LEN], int n) {
    int i;
    for (i = 0; i < n; i++)
        if (!apiv2_randpool_take(pool, out[i], ID_LEN)) return 0;
    return 1;
}

int main(void) {
    apiv2_randpool *pool = apiv2_randpool_new();
    unsigned char first[1][ID_LEN];
    int pipes[PROCS - 1][2], i, failed = 0, passed = 0, status;
    pid_t pids[PROCS - 1];

    if (pool == NULL || !draw(pool, first, 1)) {
        puts("cannot fill the pool");
        return 1;
    }
    for (i = 0; i < PROCS - 1; i++) {
        if (pipe(pipes[i]) != 0) return 1;
        pids[i] = fork();
        if (pids[i] < 0) return 1;
        if (pids[i] == 0) { /* child: draw and send */
            if (!draw(pool, ids, IDS)) _exit(2);
            if (write(pipes[i][1], ids, sizeof ids[0] * IDS) != (ssize_t)(sizeof ids[0] * IDS))
                _exit(3);
            _exit(0);
        }
        close(pipes[i][1]);
    }
    if (!draw(pool, ids, IDS)) return 1;
    for (i = 0; i < PROCS - 1; i++) {
        size_t want = sizeof ids[0] * IDS, got = 0;
        ssize_t r;
        while (got < want &&
               (r = read(pipes[i][0], (unsigned char *)ids[(i + 1) * IDS] + got, want - got)) > 0)
            got += (size_t)r;
        waitpid(pids[i], &status, 0);
        if (got != want || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("child %d failed\n", i);
            failed++;
        } else {
            passed++;
        }
    }
    qsort(ids, PROCS * IDS, ID_LEN, compare_ids);
    for (i = 1; i < PROCS * IDS; i++)
        if (memcmp(ids[i - 1], ids[i], ID_LEN) == 0) {
            puts("an id repeated across processes");
            failed++;
            break;
        }
    if (i == PROCS * IDS) passed++;
    apiv2_randpool_free(pool);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
