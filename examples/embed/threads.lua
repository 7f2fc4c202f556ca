-- One thread's work in the threaded example (threads.c): in its own lua_State, sign `count`
-- tokens with one key object and verify every `verify_every`-th. Returns every jti, joined
-- (32 characters each), and how many tokens were verified.
local count, secret, audience, verify_every = ...
local token = require "auth0.apiv2.token"

local concat = table.concat
local decode_text = token.decode_text

local key = token.key(secret)
local t = token.new{ aud = audience, scopes = { "read:users", "read:clients" }, lifetime = 60 }
local jtis, verified = {}, 0
for i = 1, count do
    local jwt = assert(t:sign(key))
    local _, claims_json = assert(decode_text(jwt))
    local jti = claims_json:match('"jti":"(%x+)"')
    if not jti or #jti ~= 32 then error("token " .. i .. ": no 32-character jti") end
    jtis[i] = jti
    if i % verify_every == 0 then
        -- Without lua-cjson in the binary, the JSON layer decodes in pure Lua.
        local claims, err = token.verify(jwt, key, { audience = audience })
        if not claims or claims.jti ~= jti then
            error("token " .. i .. ": verify failed: " .. tostring(err))
        end
        verified = verified + 1
    end
end
key:wipe()
return concat(jtis), verified
