/* Makes auth0.apiv2 available inside a lua_State from the binary alone: the C core linked in
   statically, the Lua modules compiled in as text (embedded.c) and served by package.preload.
   Nothing here is global or mutable: call it for as many states, on as many threads, as needed. */
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "embed.h"
#include "embedded.h"

/* The C core, compiled into this binary from csrc/ (its one exported symbol). */
LUALIB_API int luaopen_auth0_apiv2_core(lua_State *L);

/* package.preload[name] for an embedded module; upvalue 1 is its index in embedded_modules.
   Runs the module's text as require would run a file: with the arguments require passes. */
static int load_embedded_module(lua_State *L) {
    int nargs = lua_gettop(L);
    const embedded_chunk *m = &embedded_modules[lua_tointeger(L, lua_upvalueindex(1))];
    if (luaL_loadbuffer(L, (const char *)m->text, m->len, m->chunkname) != 0)
        return luaL_error(L, "error loading module '%s' from the binary:\n\t%s", m->name,
                          lua_tostring(L, -1));
    lua_insert(L, 1);
    lua_call(L, nargs, 1);
    return 1;
}

int embed_openlibs(lua_State *L) {
    int i;
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
#if LUA_VERSION_NUM >= 502
    /* Lua 5.2+: open the core now and store it in package.loaded, as linit.c does for the
       standard libraries. */
    luaL_requiref(L, "auth0.apiv2.core", luaopen_auth0_apiv2_core, 0);
    lua_pop(L, 1);
#else
    /* Lua 5.1 and LuaJIT have no luaL_requiref: the first require opens it. */
    lua_pushcfunction(L, luaopen_auth0_apiv2_core);
    lua_setfield(L, -2, "auth0.apiv2.core");
#endif
    for (i = 0; embedded_modules[i].name != NULL; i++) {
        lua_pushinteger(L, (lua_Integer)i);
        lua_pushcclosure(L, load_embedded_module, 1);
        lua_setfield(L, -2, embedded_modules[i].name);
    }
    lua_pop(L, 2);
    return 0;
}

lua_State *embed_newstate(void) {
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "embed: cannot create a Lua state\n");
        return NULL;
    }
    lua_pushcfunction(L, embed_openlibs);
    if (lua_pcall(L, 0, 0, 0) != 0) {
        fprintf(stderr, "embed: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

static int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int embed_run(lua_State *L, const char *name, int nargs, int nresults) {
    const embedded_chunk *s = embedded_scripts;
    int base = lua_gettop(L) - nargs;
    int status;
    while (s->name != NULL && strcmp(s->name, name) != 0) s++;
    if (s->name == NULL) {
        fprintf(stderr, "embed: no embedded script '%s'\n", name);
        lua_pop(L, nargs);
        return 0;
    }
    lua_pushcfunction(L, traceback);
    lua_insert(L, base + 1);
    status = luaL_loadbuffer(L, (const char *)s->text, s->len, s->chunkname);
    if (status == 0) {
        lua_insert(L, base + 2);
        status = lua_pcall(L, nargs, nresults, base + 1);
    }
    lua_remove(L, base + 1);
    if (status != 0) {
        fprintf(stderr, "embed: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}
