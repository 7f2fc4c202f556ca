--- The verification pass written the old way: core.jws_parse (the strict byte rules in C), then
-- the JSON decoder (lua-cjson) and the policy in Lua. Same protocol and same answers as the
-- one-pass C function core.verify_pass, which the verifier uses; this one stays as the
-- reference the specs and the fuzzers compare it with.
local jws = require "auth0.apiv2.internal.jws"
local core = require "auth0.apiv2.internal.core"

local M = {}

local type, ipairs = type, ipairs
local concat = table.concat
local huge = math.huge
local parse = jws.parse
local key_verify = core.key_verify
local to_integer = math.tointeger   -- nil before Lua 5.3

local granted = require("auth0.apiv2.internal.granted").has

--- The scopes a token lacks, space-separated, or nil: every one of `all` that is not granted,
-- then the whole of `any` when none of it is.
function M.missing(claims, all, any)
    local out = {}
    if all then
        for _, s in ipairs(all) do
            if not granted(claims, s) then out[#out + 1] = s end
        end
    end
    if any and any[1] ~= nil then
        local found = false
        for _, s in ipairs(any) do
            if granted(claims, s) then found = true; break end
        end
        if not found then
            for _, s in ipairs(any) do out[#out + 1] = s end
        end
    end
    if out[1] == nil then return nil end
    return concat(out, " ")
end
local missing_scopes = M.missing

local function audience_matches(aud, audience)
    if aud == audience then return true end
    if type(aud) == "table" then
        for _, a in ipairs(aud) do
            if a == audience then return true end
        end
    end
    return false
end

local TIME_CLAIMS = require("auth0.apiv2.internal.claims").TIMES
local time_verdict = require("auth0.apiv2.internal.claims").time_verdict

-- The time claims that are numbers as integers where integral (1767225600, not ...0.0), as
-- the C pass gives them on Lua 5.3+; the claims, for want 3.
local function integer_times(claims)
    if to_integer then
        for _, name in ipairs(TIME_CLAIMS) do
            local v = claims[name]
            if type(v) == "number" then claims[name] = to_integer(v) or v end
        end
    end
    return claims
end

--- One token through the policy, up to (not including) revocation.
-- @tparam string jwt
-- @param keys a key object or a list of key objects (ignored when want is 2)
-- @tparam number now seconds
-- @tparam number leeway seconds
-- @tparam boolean require_exp
-- @tparam ?string audience (nil or false: none; likewise all and any)
-- @tparam ?table all scopes that must all be granted
-- @tparam ?table any scopes of which one must be granted
-- @tparam integer want 0: no claims table; 1: the claims table; 2: form and header only,
--   then `true, aud, header` (for a key function); 3: form only, then the claims table, for
--   a token that passed already (the nginx guard builds its claims on their first read)
-- @return `claims | true, aud, jti, exp, nbf, iat, missing`, or `nil, reason`
function M.pass(jwt, keys, now, leeway, require_exp, audience, all, any, want)
    local header, claims, input_length, signature = parse(jwt, "token.verify", want ~= 2)
    if not header then return nil, claims end
    local alg = header.alg
    if alg == nil then return nil, "alg missing" end
    if alg ~= "HS256" then return nil, "alg not allowed" end
    if header.crit ~= nil then return nil, "unsupported crit" end
    if header.enc ~= nil then return nil, "unsupported enc" end
    if header.b64 ~= nil and header.b64 ~= true then return nil, "unsupported b64" end
    if #signature ~= 32 then return nil, "signature length" end
    if want == 2 then return true, claims.aud, header end
    if want == 3 then return integer_times(claims) end

    local matched
    if type(keys) == "table" then
        matched = false
        -- Every key is tried, so the time taken does not say which one matched.
        for _, key in ipairs(keys) do
            if key_verify(key, jwt, signature, input_length) then matched = true end
        end
    else
        matched = key_verify(keys, jwt, signature, input_length)
    end
    if not matched then return nil, "signature mismatch" end

    for _, name in ipairs(TIME_CLAIMS) do
        local v = claims[name]
        if v ~= nil and (type(v) ~= "number" or v ~= v or v == huge or v == -huge) then
            return nil, "invalid claim type"       -- 1e400 reads as infinity: never "no expiry"
        end
    end
    integer_times(claims)
    local exp, nbf, iat = claims.exp, claims.nbf, claims.iat
    local too_early_or_late = time_verdict(now, leeway, require_exp, exp, nbf, iat)
    if too_early_or_late then return nil, too_early_or_late end
    if audience and not audience_matches(claims.aud, audience) then
        return nil, "audience mismatch"
    end
    return want == 1 and claims or true, claims.aud, claims.jti, exp, nbf, iat,
        missing_scopes(claims, all, any)
end

return M
