-- The script of the example host (host.c), compiled into the binary like the library's modules:
-- signs an APIv2 token with a key object, verifies it, shows it and refuses a forged one.
local apiv2 = require "auth0.apiv2"
local token = require "auth0.apiv2.token"

-- A made-up secret in the form Auth0 hands out (base64url, 48 bytes decoded), as in demo.lua.
local SECRET = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
local API_KEY = "DEMOapiKEY0123456789abcdefghijkl"
local LIFETIME = 3600

-- Checks the token and returns aud, jti and exp - iat, or nil and a reason. Without
-- lua-cjson in the binary, the library decodes JSON with its pure-Lua decoder.
local function check(jwt, key)
    local claims, err = token.verify(jwt, key, { audience = API_KEY })
    if not claims then return nil, err end
    return claims.aud, claims.jti, claims.exp - claims.iat, "token.verify"
end

local where = package.preload["auth0.apiv2.token"] and "compiled into the binary" or "from files"
print(("auth0.apiv2 %s on %s, modules %s"):format(apiv2._VERSION,
    rawget(_G, "jit") and jit.version or _VERSION, where))

local key = token.key(SECRET)
local t = token.new{
    aud = API_KEY,
    scopes = { "read:users", "update:users_app_metadata" },
    lifetime = LIFETIME,
}
local jwt = assert(t:sign(key))
print("token: " .. jwt)

local aud, jti, lifetime, how = check(jwt, key)
if not aud then error("verify failed: " .. jti) end
assert(lifetime == LIFETIME, "exp - iat is " .. tostring(lifetime))
assert(jti and #jti == 32, "jti is not 32 hex characters")
print(("claims: aud=%s jti=%s exp-iat=%d scopes=%s"):format(aud, jti, lifetime,
    table.concat(t:scope_strings(), " ")))
print("verify: ok by " .. how)

-- Another token's payload under this token's signature must be refused.
local other = assert(token.new{ aud = API_KEY, scopes = { "delete:users" } }:sign(key))
local forged = jwt:match("^[^.]+%.") .. other:match("^[^.]+%.([^.]+)%.") .. jwt:match("%.[^.]+$")
local forged_ok, reason = check(forged, key)
assert(not forged_ok, "a forged token was accepted")
print("forged: rejected (" .. reason .. ")")

key:wipe()
print("host: ok")
