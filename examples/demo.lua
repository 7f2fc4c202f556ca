-- Signs an APIv2 token with a demo secret and shows it with its claims.
-- Run from the checkout with `make demo`.
local token = require "auth0.apiv2.token"

-- A made-up secret in the form Auth0 hands out: 64 base64url characters, 48 bytes decoded.
local DEMO_SECRET = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
local DEMO_API_KEY = "DEMOapiKEY0123456789abcdefghijkl"

local key = token.key(DEMO_SECRET)        -- decoded once; reusable for many tokens
local t = token.new{
    aud = DEMO_API_KEY,
    scopes = { "read:users", "update:users_app_metadata", "blacklist:tokens" },
    lifetime = 3600,
}
local jwt = assert(t:sign(key))
key:wipe()

local header_json, claims_json = assert(token.decode_text(jwt))
local _, claims = assert(token.decode(jwt))
print("token:  " .. jwt)
print("header: " .. header_json)
print("claims: " .. claims_json)
print(("iat:    %s UTC"):format(os.date("!%Y-%m-%d %H:%M:%S", claims.iat)))
print(("exp:    %s UTC"):format(os.date("!%Y-%m-%d %H:%M:%S", claims.exp)))
print("scopes: " .. table.concat(t:scope_strings(), " "))
