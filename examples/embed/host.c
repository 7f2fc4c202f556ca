/* A stand-in for a game server or tool that ships as one binary: Lua, the auth0.apiv2 C core
   and the library's Lua modules are all linked in, so nothing is read from disk at run time.
   Runs the embedded script host.lua, which signs, verifies and prints a token. */
#include <stdio.h>

#include "lua.h"

#include "embed.h"

int main(void) {
    int ok;
    lua_State *L = embed_newstate();
    if (L == NULL) return 1;
    ok = embed_run(L, "host", 0, 0);
    lua_close(L);
    return ok ? 0 : 1;
}
