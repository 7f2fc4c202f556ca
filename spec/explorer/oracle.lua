-- The library's answers for the browser test of the token generator page: reads a JSON list of
-- requests on standard input, writes a JSON list of answers. Each request is one of
--   { op = "sign", aud, scopes, lifetime, iat, jti, claims, secret, raw }  -> { token | error }
--   { op = "key", secret, raw }                      -> { error } (token.key's message) or {}
--   { op = "verify", token_hex, secret, now, leeway, audience, require_exp, scopes }
--                                                    -> { valid = true } | { reason } | { error }
local cjson = require "cjson"
local token = require "auth0.apiv2.token"

local function unhex(h)
    return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local function message(err)
    return (tostring(err):gsub("^[^\n:]*:%d+: ", ""))
end

local function opt(v) if v == cjson.null then return nil end return v end

local function answer(r)
    if r.op == "key" then
        local ok, err = pcall(token.key, r.secret, r.raw and { encoding = "raw" } or nil)
        return ok and {} or { error = message(err) }
    elseif r.op == "sign" then
        local ok, jwt = pcall(function()
            local key = token.key(r.secret, r.raw and { encoding = "raw" } or nil)
            return token.new{ aud = r.aud, scopes = r.scopes, lifetime = opt(r.lifetime),
                iat = opt(r.iat), jti = opt(r.jti), claims = opt(r.claims) }:sign(key)
        end)
        return ok and { token = jwt } or { error = message(jwt) }
    elseif r.op == "verify" then
        local ok, claims, reason = pcall(token.verify, unhex(r.token_hex), r.secret, {
            now = r.now, leeway = r.leeway, audience = opt(r.audience),
            require_exp = r.require_exp, scopes = opt(r.scopes) })
        if not ok then return { error = message(claims) } end
        if claims then return { valid = true } end
        return { reason = reason }
    end
    error("oracle: unknown op " .. tostring(r.op))
end

local out = {}
for i, r in ipairs(cjson.decode(io.read("*a"))) do out[i] = answer(r) end
io.write(cjson.encode(out))
