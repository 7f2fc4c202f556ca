/* Lua source compiled into the binary: the generated embedded.c (embed-lua.sh) fills these
   tables from lua/auth0/apiv2/ and from this directory's scripts at build time. */
#ifndef EMBEDDED_H
#define EMBEDDED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name;          /* module name ("auth0.apiv2.token") or script name ("host") */
    const char *chunkname;     /* "@auth0/apiv2/token.lua": what tracebacks show */
    const unsigned char *text; /* the file's bytes, NUL-terminated */
    size_t len;                /* without the NUL */
} embedded_chunk;

/* Both end with an entry whose name is NULL. */
extern const embedded_chunk embedded_modules[];
extern const embedded_chunk embedded_scripts[];

#ifdef __cplusplus
}
#endif

#endif
