-- The core and the token layer checked without busted, for a Lua that has the core but no busted
-- (Debian 11's Lua 5.4 in scripts/test-openssl11). Prints one closing line; exits 1 on a failure.
-- Run from the project root with LUA_PATH/LUA_CPATH set to ./lua and the core's build.
local core = require "auth0.apiv2.core"
local token = require "auth0.apiv2.token"

local passed, failed = 0, 0
local function check(name, ok)
    if ok then passed = passed + 1 else failed = failed + 1; print("FAILED: " .. name) end
end
local function hex(s)
    return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- RFC 4231 test cases 1 and 2: one-shot HMAC and a prepared key.
check("RFC 4231 case 1", hex(core.hmac_sha256(("\11"):rep(20), "Hi There"))
    == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
local jefe = assert(core.key("Jefe", "raw"))
for _ = 1, 2 do   -- the prepared state is reusable
    check("RFC 4231 case 2", hex(jefe:mac("what do ya want for nothing?"))
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
end

-- A token signed and verified; one changed MAC character refused.
local secret = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
local jwt = token.new{ aud = "A", scopes = { "read:users" } }:sign(secret)
local claims = token.verify(jwt, secret, { audience = "A", scopes = { "read:users" } })
check("sign then verify", claims ~= nil and claims.aud == "A")
local last = jwt:sub(-1) == "A" and "Q" or "A"
local refused, reason = token.verify(jwt:sub(1, -2) .. last, secret, { audience = "A" })
check("a changed MAC is refused", refused == nil and reason == "signature mismatch")

print(("core-check on %s: %d passed, %d failed"):format(_VERSION, passed, failed))
os.exit(failed == 0 and 0 or 1)
