#if defined(__linux__) && !defined(_GNU_SOURCE)
#    define _GNU_SOURCE 1 /* MADV_WIPEONFORK */
#endif

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "randpool.h"

#if defined(__unix__) || defined(__APPLE__)
#    define POOL_POSIX 1
#    include <sys/mman.h>
#    include <sys/types.h>
#    include <unistd.h>
#endif

/* About 250 ids per RAND_bytes call: RAND_bytes costs a system call on OpenSSL 3.0. */
#define POOL_BYTES 4000

/* Lives in its own mapping where the kernel can zero it in a forked child. */
struct pool_page {
    size_t avail;            /* fresh bytes at the start of `bytes` */
    unsigned long owner_pid; /* process that filled it (checked when not wiped on fork) */
    unsigned char bytes[POOL_BYTES];
};

struct apiv2_randpool {
    struct pool_page *page;
    int mapped;        /* page came from mmap */
    int wiped_on_fork; /* the kernel zeroes the page in children: no pid check */
};

static unsigned long current_pid(void) {
#ifdef POOL_POSIX
    return (unsigned long)getpid();
#else
    return 0; /* no fork() on this platform */
#endif
}

apiv2_randpool *apiv2_randpool_new(void) {
    apiv2_randpool *p = (apiv2_randpool *)OPENSSL_zalloc(sizeof *p);
    if (p == NULL) return NULL;
#ifdef POOL_POSIX
    {
        void *m = mmap(NULL, sizeof(struct pool_page), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            p->page = (struct pool_page *)m;
            p->mapped = 1;
#    if defined(MADV_WIPEONFORK) && !defined(APIV2_RANDPOOL_NO_WIPEONFORK)
            p->wiped_on_fork = madvise(m, sizeof(struct pool_page), MADV_WIPEONFORK) == 0;
#    endif
        }
    }
#endif
    if (p->page == NULL) {
        p->page = (struct pool_page *)OPENSSL_zalloc(sizeof(struct pool_page));
        if (p->page == NULL) {
            OPENSSL_free(p);
            return NULL;
        }
    }
    return p; /* an empty page (avail 0) fills on first use */
}

static int pool_refill(struct pool_page *page) {
    page->avail = 0;
    if (RAND_bytes(page->bytes, POOL_BYTES) != 1) return 0;
    page->owner_pid = current_pid();
    page->avail = POOL_BYTES;
    return 1;
}

int apiv2_randpool_take(apiv2_randpool *p, unsigned char *out, size_t n) {
    struct pool_page *page = p->page;
    if (n == 0 || n > APIV2_RANDPOOL_MAX_TAKE) return 0;
    /* A copied page in a forked child must not repeat the parent's bytes. */
    if (!p->wiped_on_fork && page->avail && page->owner_pid != current_pid())
        OPENSSL_cleanse(page, sizeof *page);
    if (page->avail < n && !pool_refill(page)) return 0;
    page->avail -= n;
    memcpy(out, page->bytes + page->avail, n);
    OPENSSL_cleanse(page->bytes + page->avail, n); /* handed-out bytes leave no copy */
    return 1;
}

void apiv2_randpool_free(apiv2_randpool *p) {
    if (p == NULL) return;
    OPENSSL_cleanse(p->page, sizeof *p->page);
#ifdef POOL_POSIX
    if (p->mapped) {
        munmap((void *)p->page, sizeof *p->page);
        p->page = NULL;
    }
#endif
    if (p->page != NULL) OPENSSL_free(p->page);
    OPENSSL_free(p);
}
