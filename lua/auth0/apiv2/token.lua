--- Auth0 APIv2 tokens: build them from scopes and sign them with the tenant's API secret.
-- A token object holds everything but the per-signature parts (`iat`, `jti`, `exp`) already
-- serialised, so signing it again costs little more than the HMAC.
local core = require "auth0.apiv2.internal.core"
local json = require "auth0.apiv2.internal.json"
local scopeset = require "auth0.apiv2.internal.scopeset"
local options = require "auth0.apiv2.internal.options"
local clock = require "auth0.apiv2.internal.clock"
local jws = require "auth0.apiv2.internal.jws"
local keys = require "auth0.apiv2.internal.key"
local verifier = require "auth0.apiv2.internal.verify"
local rules = require "auth0.apiv2.internal.claims"
local granted = require "auth0.apiv2.internal.granted"
local bearer = require "auth0.apiv2.internal.bearer"

local M = {}

local type, pairs, ipairs, error, setmetatable = type, pairs, ipairs, error, setmetatable
local floor = math.floor
local format = string.format
local concat, sort = table.concat, table.sort
local sign_parts = core.sign_parts
local now = clock.now
local show, name_of = options.show, options.name   -- values in messages, bounded

M.MIN_KEY_BYTES = keys.MIN_BYTES
local make_key = keys.make

local Token = {}
Token.__index = Token

-- Each token's parsed scopes, out of reach of callers: a cached scope list is shared between
-- tokens, so it must not be a field anyone can change.
local entities_of = setmetatable({}, { __mode = "k" })

local NEW_OPTIONS = {
    aud = true, scopes = true, endpoints = true, strict_scopes = true, lifetime = true,
    iat = true, exp = true, jti = true, claims = true, allow_current_user = true,
}
local RESERVED_CLAIMS, MAX_TIME, MAX_LIFETIME_S = rules.RESERVED, rules.MAX_TIME,
    rules.MAX_LIFETIME_S

--- Decodes an API secret once into a key object, for signing many tokens.
-- The key bytes live only inside OpenSSL's HMAC state; `key:wipe()`, garbage collection and
-- (Lua 5.4) a to-be-closed variable erase them. `tostring(key)` shows only the length.
-- @tparam string secret the secret as Auth0 shows it: base64url (or base64) text, padding
--   optional; with `{ encoding = "raw" }` the bytes of the string themselves
-- @tparam[opt] table opts `encoding`: "base64" (default) or "raw"
-- @return the key object
-- @raise when the secret is not a string, is not base64 text, or is under 32 bytes decoded
function M.key(secret, opts)
    return make_key("token.key", secret, opts)
end

local function check_time(fname, name, value)
    if value == nil then return nil end
    if type(value) ~= "number" or value ~= floor(value) or value < 0 or value > MAX_TIME then
        error(format("%s: %s must be a whole number of seconds since the epoch", fname, name), 3)
    end
    return value
end

local function encode_or_raise(fname, value, path)
    local text, err = json.encode(value, path)
    if not text then error(fname .. ": " .. err, 3) end
    return text
end

-- The extra claims as `"name":value,` pairs, names sorted by bytes.
local function encode_claims(fname, claims)
    if claims == nil then return "" end
    if type(claims) ~= "table" then error(fname .. ": claims must be a table", 3) end
    local names = {}
    for name in pairs(claims) do
        if type(name) ~= "string" then
            error(fname .. ": claims must have string names", 3)
        end
        if RESERVED_CLAIMS[name] then
            error(format("%s: claims.%s is reserved; use the %s option", fname, name, name), 3)
        end
        names[#names + 1] = name
    end
    sort(names, json.bytes_less)
    local parts = {}
    for i, name in ipairs(names) do
        parts[i] = encode_or_raise(fname, name, "claims") .. ":"
            .. encode_or_raise(fname, claims[name], "claims." .. name_of(name)) .. ","
    end
    return concat(parts)
end

-- The least privileged scope of each endpoint, from the catalog (loaded only when used).
local function endpoint_scopes(fname, endpoints)
    if type(endpoints) ~= "table" then error(fname .. ": endpoints must be a list", 3) end
    local catalog = require "auth0.apiv2.scopes"
    local out = {}
    for i, endpoint in ipairs(endpoints) do
        if type(endpoint) ~= "string" then
            error(format("%s: endpoints[%d] must be a string like \"GET /users\"", fname, i), 3)
        end
        local list, err = catalog.for_endpoint(endpoint)
        local scope
        if list then scope, err = catalog.least_privileged(list) end
        if not scope then
            error(format("%s: endpoint %s: %s", fname, scopeset.show(endpoint), err), 3)
        end
        out[i] = scope
    end
    return out
end

-- strict_scopes: every granted scope must be in the catalog (Auth0's list grows, so this is
-- opt-in).
local function check_known(fname, entities)
    local catalog = require "auth0.apiv2.scopes"
    for _, scope in ipairs(scopeset.to_strings(entities)) do
        if not catalog.is_known(scope) then
            error(format("%s: unknown scope %s (strict_scopes is on)", fname, show(scope)), 3)
        end
    end
end

--- Builds a token description; `sign` turns it into a token as often as needed.
-- @tparam table opts
--   `aud` (string, required): the tenant's API key (global client id);
--   `scopes`: list of "action:entity" strings, or entity -> actions, or
--     entity -> { actions = ... };
--   `endpoints`: list of "METHOD /path" strings: grants the least privileged scope of each,
--     after `scopes`;
--   `strict_scopes`: refuse scopes the catalog does not know;
--   `lifetime` (seconds): exp = iat + lifetime; no `exp` claim when absent;
--   `iat`, `exp`, `jti`: fixed values instead of the clock and a random id;
--   `claims`: extra claims (not iat, scopes, jti, exp, aud);
--   `allow_current_user`: permit the current_user scopes of a user's own token.
-- @return the token object
-- @raise on wrong types, unknown options, a missing `aud`, malformed or current_user scopes
function M.new(opts)
    local fname = "token.new"
    options.check(fname, opts, NEW_OPTIONS, 2)
    if type(opts.aud) ~= "string" or opts.aud == "" then
        error(fname .. ": aud must be a non-empty string (the tenant's API key)", 2)
    end
    local allow = opts.allow_current_user
    if allow ~= nil and type(allow) ~= "boolean" then
        error(fname .. ": allow_current_user must be a boolean", 2)
    end
    local entities, scopes_json
    if opts.endpoints ~= nil then
        entities = scopeset.parse(opts.scopes, fname, allow)
        scopeset.add_strings(entities, endpoint_scopes(fname, opts.endpoints), fname, allow)
    else
        entities, scopes_json = scopeset.parse_to_json(opts.scopes, fname, allow)
    end
    if opts.strict_scopes ~= nil and type(opts.strict_scopes) ~= "boolean" then
        error(fname .. ": strict_scopes must be a boolean", 2)
    end
    if opts.strict_scopes then check_known(fname, entities) end

    local iat = check_time(fname, "iat", opts.iat)
    local exp = check_time(fname, "exp", opts.exp)
    local lifetime = opts.lifetime
    if lifetime ~= nil then
        if exp then error(fname .. ": give either exp or lifetime, not both", 2) end
        if type(lifetime) ~= "number" or lifetime ~= floor(lifetime) or lifetime <= 0
            or lifetime > MAX_LIFETIME_S then
            error(fname .. ": lifetime must be a positive whole number of seconds (at most a "
                .. "century)", 2)
        end
        if iat then
            exp = check_time(fname, "exp", iat + lifetime)
            lifetime = nil
        end
    elseif iat and exp and exp <= iat then
        error(fname .. ": exp must be after iat", 2)
    end
    local jti_json
    if opts.jti ~= nil then
        if type(opts.jti) ~= "string" or opts.jti == "" then
            error(fname .. ": jti must be a non-empty string", 2)
        end
        jti_json = encode_or_raise(fname, opts.jti, "jti")
    end

    -- Claim order of Auth0's generator: extra claims, iat, scopes, jti, exp, aud. Only iat,
    -- jti and exp change between signatures: the rest is serialised once, here.
    local self = {
        head = "{" .. encode_claims(fname, opts.claims) .. '"iat":',
        middle = ',"scopes":' .. (scopes_json or scopeset.to_json(entities)) .. ',"jti":',
        tail = ',"aud":' .. encode_or_raise(fname, opts.aud, "aud") .. "}",
        iat = iat,
        exp = exp,
        lifetime = lifetime,
        jti_json = jti_json,
        aud = opts.aud,
    }
    entities_of[self] = entities
    return setmetatable(self, Token)
end

--- Signs a new token: a fresh `iat` from the clock and a fresh random `jti`, unless fixed.
-- @param secret_or_key a key object from `token.key`, or the API secret as base64url text
-- @treturn string the compact token (header.payload.signature)
-- @treturn[2] nil
-- @treturn[2] string reason, when OpenSSL fails
-- @raise when the key is of the wrong type or the token would exceed 8192 bytes
function Token:sign(secret_or_key)
    local key = secret_or_key
    if type(key) == "string" then
        key = make_key("token.sign", key)
        local ok, token, err = pcall(self.sign, self, key)
        key:wipe()   -- also when signing raised
        if not ok then error(token, 2) end
        return token, err
    end
    local iat = self.iat or now()
    local lifetime = self.lifetime
    -- sign_parts checks that key is a key object (raising "token.sign: expected ...").
    local token, err = sign_parts(key, self.head, iat, self.middle, self.jti_json,
        self.exp or (lifetime and iat + lifetime), self.tail)
    if not token then
        if err == "token too long" then
            error("token.sign: the token would be longer than 8192 bytes", 2)
        end
        return nil, "sign: " .. err
    end
    return token
end

--- The scopes this token grants, as "action:entity" strings in claim order.
function Token:scope_strings()
    return scopeset.to_strings(entities_of[self])
end

function Token:__tostring()
    return "auth0.apiv2.token (aud " .. name_of(self.aud) .. ", " .. #self:scope_strings()
        .. " scopes)"
end

--- Reads a token's header and claims WITHOUT checking its signature: for inspection only
-- (what jwt.io shows), never for access decisions. The parsing is as strict as verify's.
-- @tparam string jwt
-- @treturn table header
-- @treturn table claims
-- @treturn[2] nil
-- @treturn[2] string reason (see the README's list)
-- @raise when jwt is not a string
function M.decode(jwt)
    local header, claims = jws.parse(jwt, "token.decode")
    if not header then return nil, claims end
    return header, claims
end

--- A token's header and claims as the JSON text they hold (the token's own bytes, keys in
-- its order), WITHOUT checking its signature: for tools that show or pass on a token as it is.
-- The checks are those of `token.decode`.
-- @tparam string jwt
-- @treturn string the header's JSON text
-- @treturn string the claims' JSON text
-- @treturn[2] nil
-- @treturn[2] string reason (see the README's list)
-- @raise when jwt is not a string
function M.decode_text(jwt)
    return jws.parse_text(jwt, "token.decode_text")
end

--- The scopes a token's claims grant, as "action:entity" strings: the classic `scopes` object
-- (entities sorted by name, actions in order), then the words of a flat `scope` claim; no
-- duplicates. The same reading as `token.has_scope`.
-- @tparam table claims e.g. from token.verify
-- @treturn table the list
-- @raise when claims is not a table
function M.scopes_of(claims)
    if type(claims) ~= "table" then error("token.scopes_of: claims must be a table", 2) end
    return granted.list(claims)
end

--- The token of an HTTP Authorization header's value (`Bearer <token>`, RFC 6750 section 2.1:
-- the scheme in any letter case, the token of base64url/token68 characters).
-- @param value the header's value, or nil when the request has none
-- @treturn string the token (not verified: pass it to token.verify)
-- @treturn[2] nil
-- @treturn[2] string "no bearer token" (no header, or another scheme such as Basic) or
--   "malformed bearer token"
function M.bearer(value)
    return bearer.from_header(value)
end

M.verify = verifier.verify
M.has_scope = verifier.has_scope

--- A prepared verifier: the policy of token.verify fixed once, keys decoded once, an optional
-- cache of verified tokens. See the README ("Prepared verification") and docs/verify.md.
-- @tparam table opts `key` (a key object, a secret string, a list of them, or
--   function(aud, header)), `audience`, `leeway`, `now` (a number or a function), `require_exp`,
--   `is_revoked`, `scopes`, `any`, `endpoint`, `cache` (entries, default none)
-- @return the verifier: `v:verify(jwt)`, `v:check(jwt)`, `v:flush()`, `v:stats()`
-- @raise on misuse of the options, as token.verify
M.verifier = require("auth0.apiv2.internal.verifier").new
M.Token = Token

return M
