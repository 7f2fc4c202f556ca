/* libFuzzer target for the whole token.verify path as users call it, and differential: the
   one-pass C check (core.verify_pass) against the old checker plus lua-cjson
   (internal/reference_pass.lua) and v:verify/v:check against token.verify, on every input: Lua 5.4 with the C core
   linked in, the Lua modules from lua/ and lua-cjson. An input that starts with '{' is taken
   as a payload and signed with the key first (so the claim checks and lua-cjson see
   fuzzed JSON behind a valid signature); any other input is the token itself.
   token.verify and token.decode must answer every string with claims or nil and a reason:
   any raised error is a bug. APIV2_ROOT is the checkout, set by the Makefile. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int luaopen_auth0_apiv2_core(lua_State *L);

static const char HARNESS[] =
    "package.path = APIV2_ROOT .. '/lua/?.lua;' .. APIV2_ROOT .. '/lua/?/init.lua;' .. "
    "package.path\n"
    "local token = require 'auth0.apiv2.token'\n"
    "local core = require 'auth0.apiv2.core'\n"
    "local key = token.key(string.rep('k', 48), { encoding = 'raw' })\n"
    "local header = core.b64url_encode('{\"alg\":\"HS256\",\"typ\":\"JWT\"}')\n"
    "local opts = { now = 1767225600, leeway = 30, audience = 'fuzz', scopes = { 'read:users' },\n"
    "               is_revoked = function(aud, jti) return jti == 'revoked' end }\n"
    "local reference = require 'auth0.apiv2.internal.reference_pass'\n"
    "local verifier = token.verifier{ key = key, now = 1767225600, leeway = 30, audience = "
    "'fuzz',\n"
    "  scopes = { 'read:users' }, is_revoked = opts.is_revoked, cache = 64 }\n"
    "-- Deep equality of results: numbers by value (1 == 1.0), NaN equal to NaN.\n"
    "local function same(a, b)\n"
    "  if a == b or (a ~= a and b ~= b) then return true end\n"
    "  if type(a) ~= 'table' or type(b) ~= 'table' then return false end\n"
    "  for k, x in pairs(a) do if not same(x, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "return function(input)\n"
    "  local jwt = input\n"
    "  if input:sub(1, 1) == '{' then\n"
    "    local signing_input = header .. '.' .. core.b64url_encode(input)\n"
    "    jwt = signing_input .. '.' .. core.b64url_encode(key:mac(signing_input))\n"
    "  end\n"
    "  local claims, reason = token.verify(jwt, key, opts)\n"
    "  assert(type(claims) == 'table' or (claims == nil and type(reason) == 'string'))\n"
    "  local h, c = token.decode(jwt)\n"
    "  assert(type(h) == 'table' and type(c) == 'table' or (h == nil and type(c) == 'string'))\n"
    "  if claims then assert(h, 'verify accepted what decode refused') end\n"
    "  local v = verifier\n"
    "  local vc, vreason = v:verify(jwt)\n"
    "  assert(same({ claims, reason }, { vc, vreason }), 'v:verify differs from token.verify')\n"
    "  assert((v:check(jwt) == true) == (claims ~= nil), 'v:check differs from token.verify')\n"
    "  for want = 0, 2 do\n"
    "    local c = { core.verify_pass(jwt, key, 1767225600, 30, false, 'fuzz', { 'read:users' },\n"
    "                                 { 'update:users', 'read:clients' }, want) }\n"
    "    local r = { reference.pass(jwt, key, 1767225600, 30, false, 'fuzz', { 'read:users' },\n"
    "                               { 'update:users', 'read:clients' }, want) }\n"
    "    assert(same(c, r), 'the one-pass C check differs from jws_parse + lua-cjson')\n"
    "  end\n"
    "end\n";

static lua_State *state;

static lua_State *setup(void) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_auth0_apiv2_core);
    lua_setfield(L, -2, "auth0.apiv2.core");
    lua_pop(L, 1);
    lua_pushstring(L, APIV2_ROOT);
    lua_setglobal(L, "APIV2_ROOT");
    if (luaL_loadstring(L, HARNESS) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "harness: %s\n", lua_tostring(L, -1));
        abort();
    }
    lua_setglobal(L, "check");
    return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned runs;
    if (state == NULL) state = setup();
    lua_getglobal(state, "check");
    lua_pushlstring(state, (const char *)data, size);
    if (lua_pcall(state, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "token.verify raised: %s\n", lua_tostring(state, -1));
        abort();
    }
    if (++runs % 1000 == 0) lua_gc(state, LUA_GCCOLLECT, 0);
    return 0;
}
