--- token.verify and token.has_scope: the verification policy of spec/fixtures/vectors/README.md.
-- Order matters: the token's form, then its header, then the signature, and only then the
-- claims, so nothing about an unsigned token's claims leaks through the reason.
local jws = require "auth0.apiv2.internal.jws"
local keys = require "auth0.apiv2.internal.key"
local clock = require "auth0.apiv2.internal.clock"
local options = require "auth0.apiv2.internal.options"
local granted = require "auth0.apiv2.internal.granted"
local rules = require "auth0.apiv2.internal.claims"

local M = {}

local type, error, ipairs = type, error, ipairs
local is_key, make_key = keys.is_key, keys.make
local parse = jws.parse
local grants = granted.has
local key_verify = require("auth0.apiv2.internal.core").key_verify
local to_integer = math.tointeger   -- nil before Lua 5.3

local OPTIONS = {
    audience = true, leeway = true, now = true, require_exp = true, scopes = true,
    is_revoked = true,
}
local MAX_LEEWAY_S = rules.MAX_LEEWAY_S
local huge = math.huge
local TIME_CLAIMS = rules.TIMES

--- Whether claims grant scope ("action:entity"): through the classic `scopes` object
-- ({ users = { actions = { "read" } } }) or a flat, space-separated `scope` string.
-- @tparam table claims
-- @tparam string scope
-- @treturn boolean
-- @raise when claims is not a table or scope not a string
function M.has_scope(claims, scope)
    if type(claims) ~= "table" then error("token.has_scope: claims must be a table", 2) end
    if type(scope) ~= "string" then error("token.has_scope: scope must be a string", 2) end
    return grants(claims, scope)
end

local function check_options(opts)
    if opts == nil then return {} end
    options.check("token.verify", opts, OPTIONS, 3)
    local leeway = opts.leeway
    -- `not (0 <= x <= 300)` rather than `x < 0 or x > 300`: NaN must fail too.
    if leeway ~= nil
        and (type(leeway) ~= "number" or not (leeway >= 0 and leeway <= MAX_LEEWAY_S)) then
        error("token.verify: leeway must be a number of seconds from 0 to " .. MAX_LEEWAY_S, 3)
    end
    local now = opts.now
    if now ~= nil and (type(now) ~= "number" or now ~= now or now == huge or now == -huge) then
        error("token.verify: now must be a finite number", 3)
    end
    if opts.audience ~= nil and type(opts.audience) ~= "string" then
        error("token.verify: audience must be a string", 3)
    end
    if opts.require_exp ~= nil and type(opts.require_exp) ~= "boolean" then
        error("token.verify: require_exp must be a boolean", 3)
    end
    if opts.scopes ~= nil then
        if type(opts.scopes) ~= "table" then error("token.verify: scopes must be a list", 3) end
        for _, s in ipairs(opts.scopes) do
            if type(s) ~= "string" then error("token.verify: scopes must be strings", 3) end
        end
    end
    if opts.is_revoked ~= nil and type(opts.is_revoked) ~= "function" then
        error("token.verify: is_revoked must be a function", 3)
    end
    return opts
end

local KEY_KINDS = "a key object, a secret string, a list of them or a function"

-- One candidate: a key object as is, a secret string decoded (raises when malformed).
local function as_key(candidate)
    if is_key(candidate) then return candidate end
    if type(candidate) == "string" then return make_key("token.verify", candidate) end
    error("token.verify: key must be " .. KEY_KINDS, 4)
end

-- Whether any of the keys (one, or a list: secret rotation) made the signature.
local function signature_matches(key_or_keys, jwt, input_length, signature)
    if type(key_or_keys) == "table" then
        if key_or_keys[1] == nil then error("token.verify: the list of keys is empty", 3) end
        local matched = false
        -- Every key is tried, so the time taken does not say which one matched.
        for _, candidate in ipairs(key_or_keys) do
            if key_verify(as_key(candidate), jwt, signature, input_length) then
                matched = true
            end
        end
        return matched
    end
    return key_verify(as_key(key_or_keys), jwt, signature, input_length)
end

local function audience_matches(aud, audience)
    if aud == audience then return true end
    if type(aud) == "table" then
        for _, a in ipairs(aud) do
            if a == audience then return true end
        end
    end
    return false
end

-- The time claims: numbers only, then exp, nbf and iat against the clock with leeway.
local function check_times(claims, opts)
    for _, name in ipairs(TIME_CLAIMS) do
        local v = claims[name]
        if v ~= nil then
            if type(v) ~= "number" then return "invalid claim type" end
            if to_integer then claims[name] = to_integer(v) or v end   -- 1767225600, not ...0.0
        end
    end
    local now, leeway = opts.now or clock.now(), opts.leeway or 0
    if claims.exp == nil then
        if opts.require_exp then return "exp missing" end
    elseif now - leeway >= claims.exp then   -- not exp + leeway: an integer exp could wrap
        return "expired"
    end
    if claims.nbf ~= nil and claims.nbf > now + leeway then return "not yet valid" end
    if claims.iat ~= nil and claims.iat > now + leeway then return "issued in the future" end
    return nil
end

--- Verifies an HS256 token and returns its claims.
-- @tparam string jwt the compact token (strip "Bearer " yourself)
-- @param key_or_keys a key object, a secret string (decoded as token.key does), a list of
--   those (any one may verify: secret rotation), or a function(aud, header) returning one of
--   those or nil (multi-tenant: pick the tenant's secret by aud)
-- @tparam[opt] table opts `audience`, `leeway` (0..300 s, default 0), `now`, `require_exp`
--   (default false), `scopes` (all required), `is_revoked` (function(aud, jti) -> true when
--   revoked; nil, err when it cannot tell, which fails the check)
-- @treturn table claims
-- @treturn[2] nil
-- @treturn[2] string reason (README: "Verification reasons")
-- @raise on a wrong argument type, an unknown option, a bad leeway, a malformed secret
function M.verify(jwt, key_or_keys, opts)
    opts = check_options(opts)
    local kind = type(key_or_keys)
    if kind ~= "string" and kind ~= "table" and kind ~= "function" and not is_key(key_or_keys) then
        error("token.verify: key must be " .. KEY_KINDS, 2)
    end
    -- A key function is given the header: it gets its own table, never the shared one.
    local header, claims, input_length, signature = parse(jwt, "token.verify", kind ~= "function")
    if not header then return nil, claims end

    local alg = header.alg
    if alg == nil then return nil, "alg missing" end
    if alg ~= "HS256" then return nil, "alg not allowed" end
    if header.crit ~= nil then return nil, "unsupported crit" end
    if header.enc ~= nil then return nil, "unsupported enc" end
    if header.b64 ~= nil and header.b64 ~= true then return nil, "unsupported b64" end
    if #signature ~= 32 then return nil, "signature length" end

    if kind == "function" then
        key_or_keys = key_or_keys(claims.aud, header)
        if key_or_keys == nil then return nil, "no key" end
    end
    if not signature_matches(key_or_keys, jwt, input_length, signature) then
        return nil, "signature mismatch"
    end

    local time_failure = check_times(claims, opts)
    if time_failure then return nil, time_failure end
    if opts.audience ~= nil and not audience_matches(claims.aud, opts.audience) then
        return nil, "audience mismatch"
    end
    if opts.scopes then
        for _, scope in ipairs(opts.scopes) do
            if not grants(claims, scope) then return nil, "insufficient scope" end
        end
    end
    if opts.is_revoked then
        local revoked, err = opts.is_revoked(claims.aud, claims.jti)
        if revoked then return nil, "revoked" end
        if err ~= nil then return nil, "revocation check failed" end
    end
    return claims
end

return M
