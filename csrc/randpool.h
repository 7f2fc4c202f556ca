/* A buffered pool of random bytes from RAND_bytes, one per Lua state (no global state).
   Fork-safe: a child never hands out bytes its parent could also hand out. Lua-free. */
#ifndef APIV2_RANDPOOL_H
#define APIV2_RANDPOOL_H

#include <stddef.h>
#include "hidden.h"

#define APIV2_RANDPOOL_MAX_TAKE 256

typedef struct apiv2_randpool apiv2_randpool;

APIV2_HIDDEN apiv2_randpool *apiv2_randpool_new(void); /* NULL when out of memory */
/* Copies n (1..APIV2_RANDPOOL_MAX_TAKE) fresh bytes to out; 1 on success, 0 when RAND_bytes fails. */
APIV2_HIDDEN int apiv2_randpool_take(apiv2_randpool *p, unsigned char *out, size_t n);
APIV2_HIDDEN void apiv2_randpool_free(apiv2_randpool *p);

#endif
