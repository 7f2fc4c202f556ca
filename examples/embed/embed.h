/* What a host calls to make auth0.apiv2 available in a lua_State without any file on disk. */
#ifndef EMBED_H
#define EMBED_H

#ifdef __cplusplus
extern "C" {
#endif

#include "lua.h"

/* A lua_CFunction: call it through lua_pcall (it may raise, e.g. out of memory). Opens the
   standard libraries, registers the statically linked C core auth0.apiv2.core and
   installs a package.preload loader for each embedded Lua module. Call once per new state. */
int embed_openlibs(lua_State *L);

/* A new state with embed_openlibs done (in protected mode); NULL when that fails (the
   message went to stderr). Close it with lua_close. */
lua_State *embed_newstate(void);

/* Runs the embedded script `name` with the nargs arguments on top of the stack, leaving
   nresults results (LUA_MULTRET for all). On error prints the message and traceback to stderr
   and returns 0; returns 1 on success. */
int embed_run(lua_State *L, const char *name, int nargs, int nresults);

#ifdef __cplusplus
}
#endif

#endif
