/* The one place that tests LUA_VERSION_NUM: Lua 5.1 (and LuaJIT) to 5.4 behind apiv2_ shims.
   Never defines lua_* or luaL_* names, since LuaJIT ships part of the 5.2 API itself. */
#ifndef APIV2_COMPAT_H
#define APIV2_COMPAT_H

#include "lua.h"
#include "lauxlib.h"

#if LUA_VERSION_NUM == 501 /* Lua 5.1 and LuaJIT */
#    define apiv2_newlib(L, reg) (lua_newtable(L), luaL_register((L), NULL, (reg)))
#    define apiv2_setfuncs(L, reg) luaL_register((L), NULL, (reg))
#    define apiv2_newudata(L, size) lua_newuserdata((L), (size))
#    define apiv2_rawlen(L, i) lua_objlen((L), (i))
#elif LUA_VERSION_NUM < 504 /* Lua 5.2 and 5.3 */
#    define apiv2_newlib(L, reg) luaL_newlib((L), (reg))
#    define apiv2_setfuncs(L, reg) luaL_setfuncs((L), (reg), 0)
#    define apiv2_newudata(L, size) lua_newuserdata((L), (size))
#    define apiv2_rawlen(L, i) lua_rawlen((L), (i))
#else /* Lua 5.4: no user values needed */
#    define apiv2_newlib(L, reg) luaL_newlib((L), (reg))
#    define apiv2_setfuncs(L, reg) luaL_setfuncs((L), (reg), 0)
#    define apiv2_newudata(L, size) lua_newuserdatauv((L), (size), 0)
#    define apiv2_rawlen(L, i) lua_rawlen((L), (i))
#endif

#endif
