--- The verification machinery behind token.verify and token.verifier: the options of a policy
-- checked once, keys prepared once, the one-pass C check (core.verify_pass), then revocation
-- and scopes in Lua, and the verified-token cache of a verifier object.
-- Order of checks: form, header, signature, times, audience, revocation, scopes. Nothing about
-- an unsigned token's claims leaks through the reason, and a revoked token is "revoked" even
-- when it also lacks a scope.
local core = require "auth0.apiv2.internal.core"
local keys = require "auth0.apiv2.internal.key"
local clock = require "auth0.apiv2.internal.clock"
local options = require "auth0.apiv2.internal.options"
local json = require "auth0.apiv2.internal.json"
local token_cache = require "auth0.apiv2.internal.token_cache"
local reference = require "auth0.apiv2.internal.reference_pass"
local claims_copy = require "auth0.apiv2.internal.claims_copy"

local M = {}

local type, error, ipairs, next, setmetatable, getmetatable, tostring =
    type, error, ipairs, next, setmetatable, getmetatable, tostring
local floor, huge = math.floor, math.huge
local format = string.format
local is_key, make_key = keys.is_key, keys.make
local clock_now = clock.now
local null = json.null
local show = options.show

--- The pass: the C one (core.verify_pass) when the core has it, else the reference in Lua.
M.pass = core.verify_pass or reference.pass
local pass = M.pass
-- The tables the C pass builds hold json.null for JSON null, as the JSON module's decoder's do.
if core.set_json_null then core.set_json_null(null) end

local MAX_LEEWAY = require("auth0.apiv2.internal.claims").MAX_LEEWAY_S
local time_verdict = require("auth0.apiv2.internal.claims").time_verdict
local MAX_CACHE = 2 ^ 31
local KEY_KINDS = "a key object, a secret string, a list of them or a function"

local VERIFY_OPTIONS = {
    audience = true, leeway = true, now = true, require_exp = true, scopes = true,
    is_revoked = true, any = true, endpoint = true, mask_no_key = true,
}
local VERIFIER_OPTIONS = { key = true, cache = true }
for name in next, VERIFY_OPTIONS do VERIFIER_OPTIONS[name] = true end

-- A list of scope strings (nil stays nil).
local function scope_list(fname, name, list, level)
    if list == nil then return nil end
    if type(list) ~= "table" then error(fname .. ": " .. name .. " must be a list", level) end
    local out = {}
    for i, s in ipairs(list) do
        if type(s) ~= "string" then error(fname .. ": " .. name .. " must be strings", level) end
        out[i] = s
    end
    return out
end

-- The scopes any one of which authorises an endpoint, from the catalog (loaded when used),
-- remembered by endpoint text: token.verify looks them up on every call.
local endpoint_memo, endpoint_memo_count = {}, 0
local function endpoint_scopes(fname, endpoint, level)
    if type(endpoint) ~= "string" then
        error(fname .. ": endpoint must be a string like \"PATCH /users/{id}\"", level)
    end
    local list = endpoint_memo[endpoint]
    if list then return list end
    local err
    list, err = require("auth0.apiv2.scopes").for_endpoint(endpoint)
    if list and list[1] == nil then err = "the catalog lists no scope for it" end
    if not list or err then
        error(format("%s: endpoint %s: %s", fname, show(endpoint), err), level)
    end
    if endpoint_memo_count >= 256 then endpoint_memo, endpoint_memo_count = {}, 0 end
    endpoint_memo[endpoint] = list
    endpoint_memo_count = endpoint_memo_count + 1
    return list
end

-- Checks the policy options shared by token.verify and token.verifier and returns the policy:
-- { audience, leeway, now, require_exp, is_revoked, all, any }, false where not given.
-- `clock_ok`: now may be a function (a verifier's clock).
local function policy_of(fname, opts, allowed, level, clock_ok)
    level = level + 1
    if opts == nil then opts = {} end
    options.check(fname, opts, allowed, level)
    local leeway = opts.leeway
    -- `not (0 <= x <= 300)` rather than `x < 0 or x > 300`: NaN must fail too.
    if leeway ~= nil
        and (type(leeway) ~= "number" or not (leeway >= 0 and leeway <= MAX_LEEWAY)) then
        error(fname .. ": leeway must be a number of seconds from 0 to 300", level)
    end
    local now = opts.now
    if now ~= nil and not (clock_ok and type(now) == "function")
        and (type(now) ~= "number" or now ~= now or now == huge or now == -huge) then
        error(fname .. ": now must be a finite number" .. (clock_ok and " or a function" or ""),
            level)
    end
    if opts.audience ~= nil and type(opts.audience) ~= "string" then
        error(fname .. ": audience must be a string", level)
    end
    if opts.require_exp ~= nil and type(opts.require_exp) ~= "boolean" then
        error(fname .. ": require_exp must be a boolean", level)
    end
    if opts.is_revoked ~= nil and type(opts.is_revoked) ~= "function" then
        error(fname .. ": is_revoked must be a function", level)
    end
    if opts.mask_no_key ~= nil and type(opts.mask_no_key) ~= "boolean" then
        error(fname .. ": mask_no_key must be a boolean", level)
    end
    local all, any = opts.scopes, opts.any   -- (tested before the calls: usually both nil)
    if all ~= nil then all = scope_list(fname, "scopes", all, level) end
    if any ~= nil then any = scope_list(fname, "any", any, level) end
    if any and any[1] == nil then error(fname .. ": any must be a non-empty list", level) end
    if opts.endpoint ~= nil then
        if any then error(fname .. ": give either any or endpoint, not both", level) end
        any = endpoint_scopes(fname, opts.endpoint, level)
    end
    if all and all[1] == nil then all = nil end
    -- An absent option is false, not nil: a verifier object is this table with a metatable,
    -- and every read of a nil field would go on to it (on Lua 5.4 a second lookup) per call.
    return {
        audience = opts.audience or false, leeway = leeway or 0, now = now or false,
        require_exp = opts.require_exp or false, is_revoked = opts.is_revoked or false,
        all = all or false, any = any or false, mask_no_key = opts.mask_no_key or false,
    }
end

-- One key candidate as a key object; `made` collects the ones made here (to wipe).
local function as_key(fname, candidate, made, level)
    if is_key(candidate) then return candidate end
    if type(candidate) == "string" then
        local key = make_key(fname, candidate)
        if made then made[#made + 1] = key end
        return key
    end
    error(fname .. ": key must be " .. KEY_KINDS, level)
end

-- A key, a secret or a list of them as what the pass takes: a key object or a list of them.
local function prepared_keys(fname, spec, made, level)
    level = level + 1
    if type(spec) == "table" and not is_key(spec) then
        if spec[1] == nil then error(fname .. ": the list of keys is empty", level) end
        local list = {}
        for i, candidate in ipairs(spec) do list[i] = as_key(fname, candidate, made, level) end
        return list
    end
    return as_key(fname, spec, made, level)
end

local function wipe_all(made)
    for i = 1, #made do made[i]:wipe() end
end

-- A random key no token is signed with, for mask_no_key (made once, when first needed).
local throwaway
local function throwaway_key()
    if not throwaway then
        throwaway = make_key("token.verify", core.random(48), { encoding = "raw" })
    end
    return throwaway
end

-- The clock of a policy: a fixed number, a function, or the library's clock.
local function now_of(p)
    local now = p.now
    if not now then return clock_now() end
    if type(now) == "function" then
        now = now()
        if type(now) ~= "number" or now ~= now or now == huge or now == -huge then
            error("token.verifier: the now function must return a finite number", 4)
        end
    end
    return now
end

-- What follows the pass: revocation, then scopes. Takes and returns what run does.
local function conclude(p, result, aud, jti, exp, nbf, iat, missing)
    if not result then return nil, aud end
    local is_revoked = p.is_revoked
    if is_revoked then
        local revoked, err = is_revoked(aud, jti)
        if revoked then return nil, "revoked" end
        if err ~= nil then return nil, "revocation check failed" end
    end
    if missing then return nil, "insufficient scope", missing end
    return result, aud, jti, exp, nbf, iat
end

-- One token through the policy: the pass, then revocation, then scopes. `key_fn`: a
-- function(aud, header) choosing the key. Returns result, aud, jti, exp, nbf, iat or
-- nil, reason [, missing scopes].
local function run(fname, p, key_spec, key_fn, jwt, want)
    local now = now_of(p)
    if not key_fn then   -- the common case, kept short: it is a gateway's every request
        return conclude(p, pass(jwt, key_spec, now, p.leeway, p.require_exp, p.audience, p.all,
            p.any, want))
    end
    local leeway, require_exp, audience, all, any = p.leeway, p.require_exp, p.audience, p.all,
        p.any
    local ok, claimed_aud, header = pass(jwt, nil, now, leeway, require_exp, audience, all, any, 2)
    if not ok then return nil, claimed_aud end
    local chosen = key_fn(claimed_aud, header)
    if chosen == nil or chosen == false
        or (type(chosen) == "table" and not is_key(chosen) and chosen[1] == nil) then
        if not p.mask_no_key then return nil, "no key" end
        -- Read as a signature mismatch, after a MAC as long as a real one: neither the
        -- reason nor the time tells an unknown aud from a wrong key.
        chosen = throwaway_key()
    end
    local made = {}
    local prepared = prepared_keys(fname, chosen, made, 3)
    local result, aud, jti, exp, nbf, iat, missing = pass(jwt, prepared, now, leeway,
        require_exp, audience, all, any, want)
    wipe_all(made)
    return conclude(p, result, aud, jti, exp, nbf, iat, missing)
end

-- token.verify's policies of no options and of `{ audience = "..." }` alone (the usual call),
-- each made once (per audience, up to AUDIENCE_POLICIES_MAX of them): the pass only reads a
-- policy, and checking the same options again on every call cost as much as a fifth of it.
local AUDIENCE_POLICIES_MAX = 64
local audience_policies, audience_policy_count = {}, 0
local no_options_policy
local function verify_policy(fname, opts)
    if opts == nil then
        no_options_policy = no_options_policy or policy_of(fname, nil, VERIFY_OPTIONS, 3)
        return no_options_policy
    end
    if type(opts) == "table" then
        local name, aud = next(opts)
        if name == "audience" and type(aud) == "string" and next(opts, name) == nil then
            local p = audience_policies[aud]
            if p then return p end
            p = policy_of(fname, opts, VERIFY_OPTIONS, 3)
            if audience_policy_count < AUDIENCE_POLICIES_MAX then
                audience_policies[aud], audience_policy_count = p, audience_policy_count + 1
            end
            return p
        end
    end
    return policy_of(fname, opts, VERIFY_OPTIONS, 3)
end

--- token.verify: the policy checked per call (or remembered, above), keys given as text
-- decoded for this call only (and wiped after it).
function M.verify(jwt, key_or_keys, opts)
    local fname = "token.verify"
    local p = verify_policy(fname, opts)
    local kind = type(key_or_keys)
    local key_object = kind == "userdata" and is_key(key_or_keys)
    if not key_object and kind ~= "string" and kind ~= "table" and kind ~= "function" then
        error(fname .. ": key must be " .. KEY_KINDS, 2)
    end
    if type(jwt) ~= "string" then
        error(fname .. ": token must be a string, got " .. type(jwt), 2)
    end
    if kind == "function" then
        local claims, reason, missing = run(fname, p, nil, key_or_keys, jwt, 1)
        if claims then return claims end
        return nil, reason, missing
    end
    local claims, reason, missing
    if key_object then   -- the common case: nothing to decode, nothing to wipe
        claims, reason, missing = run(fname, p, key_or_keys, nil, jwt, 1)
    else
        local made = {}
        local prepared = prepared_keys(fname, key_or_keys, made, 2)
        claims, reason, missing = run(fname, p, prepared, nil, jwt, 1)
        wipe_all(made)
    end
    if claims then return claims end
    return nil, reason, missing
end

local copy, own, replay = claims_copy.copy, claims_copy.own, claims_copy.replay

--- For the library's own modules: the caller's own copy of the claims of a cache entry that
-- verified returned as `shared`.
local function copy_of(entry)
    return replay(entry.plan)
end
M.copy_of = copy_of

local Verifier = {}
Verifier.__index = Verifier

--- token.verifier(opts): see the README ("Prepared verification").
function M.new(opts)
    local fname = "token.verifier"
    if type(opts) ~= "table" then error(fname .. ": options must be a table", 2) end
    local p = policy_of(fname, opts, VERIFIER_OPTIONS, 2, true)
    local spec = opts.key
    if spec == nil then error(fname .. ": key is required (" .. KEY_KINDS .. ")", 2) end
    local key_fn
    if type(spec) == "function" then
        key_fn, spec = spec, nil
    else
        spec = prepared_keys(fname, spec, nil, 2)
    end
    local size = opts.cache
    if size ~= nil and (type(size) ~= "number" or size ~= floor(size) or size < 0
        or size > MAX_CACHE) then
        error(fname .. ": cache must be a whole number of entries (0 for none)", 2)
    end
    p.keys, p.key_fn = spec, key_fn or false   -- (false, not nil: see policy_of)
    p.cache = size and size > 0 and token_cache.new(size) or false
    p.cache_size = p.cache and size or 0
    p.hits, p.misses = 0, 0
    return setmetatable(p, Verifier)
end

-- What check hands out as aud: the configured audience (the token matched it), else the aud
-- claim when it is a string. Never a table, so nothing shared can be changed.
local function aud_out(self, aud)
    if self.audience then return self.audience end
    if type(aud) == "string" then return aud end
    return nil
end

local function string_or_nil(v)
    if type(v) == "string" then return v end
    return nil
end

-- A cache hit: the times against the clock of now, then revocation. nil when it passes, else
-- the reason (the entry is dropped: it would fail again).
local function recheck(self, jwt, entry)
    local reason = time_verdict(now_of(self), self.leeway, self.require_exp, entry.exp,
        entry.nbf, entry.iat)
    if not reason then
        local is_revoked = self.is_revoked
        if not is_revoked then return nil end
        local revoked, err = is_revoked(copy(entry.aud), copy(entry.jti))
        if revoked then
            reason = "revoked"
        elseif err ~= nil then
            reason = "revocation check failed"
        else
            return nil
        end
    end
    self.cache:delete(jwt)
    return reason
end

--- v:check(jwt) -> true, aud, jti, exp | nil, reason [, missing scopes]
function Verifier:check(jwt)
    if type(jwt) ~= "string" then
        error("verifier:check: token must be a string, got " .. type(jwt), 2)
    end
    local cache = self.cache
    if cache then
        local entry = cache:get(jwt)
        if entry then
            self.hits = self.hits + 1
            local reason = recheck(self, jwt, entry)
            if reason then return nil, reason end
            return true, entry.aud_out, entry.jti_out, entry.exp
        end
        self.misses = self.misses + 1
    end
    local ok, aud, jti, exp, nbf, iat = run("token.verifier", self, self.keys, self.key_fn, jwt, 0)
    if not ok then return nil, aud, jti end
    local out_aud, out_jti = aud_out(self, aud), string_or_nil(jti)
    if cache then
        cache:put(jwt, { exp = exp, nbf = nbf, iat = iat, aud = aud, jti = jti,
                         aud_out = out_aud, jti_out = out_jti })
    end
    return true, out_aud, out_jti, exp
end

-- v:verify without the copy, with a cache (a hit, or a miss whose claims the cache now
-- keeps): claims, nil, nil, shared | nil, reason, missing; without a cache: claims.
-- shared: the claims are the cache's own table, to read and never hand out; shared is then
-- the cache's entry for the token: copy_of(shared) is a copy of the claims to hand out, and
-- the caller may keep its own notes about the token in it (a revocation store's memo).
-- The claims of a cache entry made without them (by v:check, or the guard's check of a new
-- token): the pass's parse of the token, kept in the entry. No MAC or rule again: the entry
-- exists because the token passed them (its times are rechecked on every hit anyway).
local function filled(entry, jwt)
    local claims, reason = pass(jwt, false, 0, 0, false, false, false, false, 3)
    if not claims then error("auth0.apiv2: a cached token's claims: " .. reason, 3) end
    entry.claims, entry.plan = claims, own(claims)
    return claims
end

local function verified(self, jwt)
    if type(jwt) ~= "string" then
        error("verifier:verify: token must be a string, got " .. type(jwt), 3)
    end
    local cache = self.cache
    if cache then
        local entry = cache:get(jwt)
        if entry then
            self.hits = self.hits + 1
            local reason = recheck(self, jwt, entry)
            if reason then return nil, reason end
            return entry.claims or filled(entry, jwt), nil, nil, entry
        end
        self.misses = self.misses + 1
    end
    local claims, aud, jti, exp, nbf, iat = run("token.verifier", self, self.keys, self.key_fn,
        jwt, 1)
    if not claims then return nil, aud, jti end   -- (jti here: the missing scopes, if any)
    if cache then
        -- The pass's table is new and nobody else's: the cache keeps it, and a miss is then a
        -- hit (the caller reads it in place, and copies it before anyone else gets it).
        local entry = { exp = exp, nbf = nbf, iat = iat, aud = aud, jti = jti,
                        aud_out = aud_out(self, aud), jti_out = string_or_nil(jti),
                        claims = claims, plan = own(claims) }
        cache:put(jwt, entry)
        return claims, nil, nil, entry
    end
    return claims
end

--- v:verify(jwt) -> claims | nil, reason [, missing scopes]
function Verifier:verify(jwt)
    local claims, reason, missing, shared = verified(self, jwt)
    if shared then return copy_of(shared) end
    return claims, reason, missing
end

--- For the nginx guard: whether M.checked may stand for M.verified with this verifier (one of
-- this module's, with no key function and no scope rule of its own). A token seen for the
-- first time then gets no claims table: most requests through a gateway never read it, and
-- building it is about a quarter of the pass's work (the tables, their strings, their
-- garbage).
function M.checks_without_claims(v)
    return getmetatable(v) == Verifier and not v.key_fn and not v.all and not v.any
end

--- For the nginx guard, with a verifier M.checks_without_claims accepts. A token the cache
-- holds: as M.verified (its claims read in place). Any other: through the verifier's policy
-- (the pass, then its own is_revoked) without its claims table, with the caller's scope rule
-- checked in the same pass (`all`, `any`: lists of scope strings, or false; an empty `any`
-- asks for nothing here), and cached without claims (the first hit makes them); M.claims_of
-- makes the caller's, if it asks for them.
-- @return claims, entry (a cache hit: as M.verified's claims and shared)
-- @return false, aud, jti, missing, entry (missing: nil, or the rule's scopes not granted;
--   entry: the token's new cache entry, or nil without a cache)
-- @return nil, reason
function M.checked(v, jwt, all, any)
    if type(jwt) ~= "string" then
        error("verifier:check: token must be a string, got " .. type(jwt), 3)
    end
    local cache = v.cache
    if cache then
        local entry = cache:get(jwt)
        if entry then
            v.hits = v.hits + 1
            local reason = recheck(v, jwt, entry)
            if reason then return nil, reason end
            return entry.claims or filled(entry, jwt), entry
        end
        v.misses = v.misses + 1
    end
    local now = now_of(v)
    local ok, aud, jti, exp, nbf, iat, missing = pass(jwt, v.keys, now, v.leeway,
        v.require_exp, v.audience, all, any, 0)
    if not ok then return nil, aud end
    local is_revoked = v.is_revoked
    if is_revoked then
        local revoked, err = is_revoked(aud, jti)
        if revoked then return nil, "revoked" end
        if err ~= nil then return nil, "revocation check failed" end
    end
    local entry
    if cache then                                  -- as v:check caches it
        entry = { exp = exp, nbf = nbf, iat = iat, aud = aud, jti = jti,
                  aud_out = aud_out(v, aud), jti_out = string_or_nil(jti) }
        cache:put(jwt, entry)
    end
    return false, aud, jti, missing, entry
end

--- The claims of a token M.checked passed: the pass's claims table of the same bytes, made
-- without the MAC and the rules again (they passed; revocation is not asked again either: the
-- request was let through), so the read costs the parse, not a second verification.
function M.claims_of(jwt)
    local claims, reason = pass(jwt, false, 0, 0, false, false, false, false, 3)
    -- The bytes passed the same parse a moment ago; a Lua string cannot change.
    if not claims then error("auth0.apiv2: the claims of a checked token: " .. reason, 3) end
    return claims
end

--- For the library's own modules (the nginx guard): what verified returns, the cache's claims
-- read in place. Anything with a `verify` method that is not a verifier of this module gets
-- its verify (its claims are then never shared).
function M.verified(v, jwt)
    if getmetatable(v) == Verifier then return verified(v, jwt) end
    return v:verify(jwt)
end

--- v:flush(): forgets every cached token (say, after a secret was withdrawn).
function Verifier:flush()
    if self.cache then self.cache:clear() end
end

--- v:stats() -> { hits, misses, entries, size }
function Verifier:stats()
    local cache = self.cache
    return { hits = self.hits, misses = self.misses, entries = cache and cache:size() or 0,
             size = self.cache_size }
end

function Verifier:__tostring()
    return "auth0.apiv2.verifier (" .. (self.audience and ("audience " .. show(self.audience))
        or "no audience") .. ", cache " .. tostring(self.cache_size) .. ")"
end

M.Verifier = Verifier

return M
