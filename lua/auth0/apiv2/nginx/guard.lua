--- A guard: the access decision of an OpenResty location, from a prepared token verifier.
--
--   guard:protect{ scopes = { "read:users" } }    -- access_by_lua: 401/403/... or through
--   local claims, status, reason = guard:check{ any = { ... } }   -- decide, write nothing
--   guard:serve_metrics()                         -- content_by_lua: Prometheus text
--
-- The order of the checks: the request's method (405), the bearer token (400/401), the
-- verifier (form, header, signature, times, audience, and its own `is_revoked`), the guard's
-- revocation store, and only then the location's scopes, so a revoked token is a 401
-- `revoked` whatever scopes it holds. A store that cannot answer is a 503.
-- luacheck: globals ngx
local options = require "auth0.apiv2.internal.options"
local rules = require "auth0.apiv2.internal.nginx.rules"
local bearer = require "auth0.apiv2.internal.nginx.bearer"
local metrics_store = require "auth0.apiv2.nginx.metrics"
local verifiers = require "auth0.apiv2.internal.verifier"
local ctx_claims = require "auth0.apiv2.internal.nginx.ctx_claims"

local M = {}

local type, pairs, tostring, error, setmetatable, pcall, rawget =
    type, pairs, tostring, error, setmetatable, pcall, rawget
local concat = table.concat
local format, gsub, find = string.format, string.gsub, string.find
local select_rule, granted = rules.select, rules.granted
local scope_lists, grants, allowed_by = rules.lists, rules.grants, rules.allowed_by
local verified, checked, copy_of = verifiers.verified, verifiers.checked, verifiers.copy_of
local put_claims, put_checked = ctx_claims.put, ctx_claims.put_checked

local OP = "auth0.apiv2.nginx.guard"
local OPTIONS = { verifier = true, revocations = true, metrics = true, token = true,
                  realm = true, headers = true, ctx = true }
-- Claims that can be passed upstream; `scopes` is the granted list, space-separated.
local HEADER_FIELDS = { sub = true, aud = true, jti = true, scopes = true, exp = true,
                        iat = true }

-- The verifier's reasons that mean "cannot tell", not "this token is bad".
local UNAVAILABLE = { ["revocation check failed"] = true }

local Guard = {}
Guard.__index = Guard

local function is_verifier(v)
    return (type(v) == "table" or type(v) == "userdata")
        and pcall(function() return type(v.verify) == "function" end)
end

-- The verifier's audience, if it tells (nil: it has none, or does not say).
local function audience_of(v)
    local ok, aud = pcall(function()
        if type(v.audience) == "function" then return v:audience() end
        return v.audience
    end)
    return ok and aud or nil
end

-- The verifier's cache counters of this worker (v:stats() -> { hits, misses, ... }), read by
-- the metrics flush, so the request path pays nothing for them.
local function cache_totals_of(v)
    local ok, stats = pcall(function()
        if type(v.stats) == "function" then return v:stats() end
        return nil
    end)
    if ok and type(stats) == "table" and type(stats.hits) == "number" then
        return function()
            local s = v:stats()
            return { [metrics_store.CACHE_HIT] = s.hits, [metrics_store.CACHE_MISS] = s.misses }
        end
    end
    return nil
end

local function check_headers(headers)
    if headers == nil then return nil end
    if type(headers) ~= "table" then
        error(OP .. ": headers must be a table { claim = \"Header-Name\" }", 3)
    end
    local list = {}
    for field, name in pairs(headers) do
        if not HEADER_FIELDS[field] then
            error(OP .. ": headers: unknown field " .. options.show(field)
                .. " (sub, aud, jti, scopes, exp, iat)", 3)
        end
        if type(name) ~= "string" or not find(name, "^[%w%-_]+$") then
            error(OP .. ": headers." .. field .. " must be a header name", 3)
        end
        list[#list + 1] = { field = field, name = name }
    end
    return list
end

local function log_warn(...)
    if rawget(_G, "ngx") and ngx.log then ngx.log(ngx.WARN, ...) end
end

-- Logged as an error: nginx's default error_log level hides warnings, and this one matters.
local function log_loud(...)
    if rawget(_G, "ngx") and ngx.log then ngx.log(ngx.ERR, ...) end
end

--- Makes a guard (once: in init_by_lua, where a mistake stops nginx at start-up, or in
-- init_worker_by_lua, where it only reaches the error log).
-- @tparam table opts
--   `verifier` (required): from token.verifier{...}, made once;
--   `revocations`: a store from nginx.revocations{...}, checked after the verifier;
--   `metrics`: a lua_shared_dict name, or `{ dict =, flush =, buckets =, latency = }`;
--   `token`: where requests carry the token: `{ header = "Authorization", cookie = NAME,
--     query = NAME }` (default: the Authorization header only);
--   `realm`: the `realm` of WWW-Authenticate (default none);
--   `headers`: claims passed upstream, `{ sub = "X-Auth0-Sub", scopes = "X-Auth0-Scopes",
--     aud =, jti =, exp =, iat = }` (whatever the client sent under those names is removed);
--   `ctx`: the ngx.ctx field that gets the claims (default "claims")
-- @return the guard
-- @raise on a missing or ill-typed option, a missing lua_shared_dict
function M.new(opts)
    options.check(OP, opts, OPTIONS, 2)
    local v = opts.verifier
    if v == nil then error(OP .. ": verifier is required (token.verifier{...})", 2) end
    if not is_verifier(v) then
        error(OP .. ": verifier must be a verifier from token.verifier{...}", 2)
    end
    local store = opts.revocations
    if store ~= nil and (type(store) ~= "table" or type(store.is_revoked) ~= "function") then
        error(OP .. ": revocations must be a store from nginx.revocations{...}", 2)
    end
    if opts.realm ~= nil and (type(opts.realm) ~= "string" or find(opts.realm, '["\\%c]')) then
        error(OP .. ": realm must be a string without quotes, backslashes or control bytes", 2)
    end
    if opts.ctx ~= nil and (type(opts.ctx) ~= "string" or opts.ctx == "") then
        error(OP .. ": ctx must be a non-empty string", 2)
    end
    local self = setmetatable({
        verifier = v, revocations = store,
        is_revoked = store and store.is_revoked,
        -- A store of nginx.revocations remembers, in the verifier cache's entry, that a token
        -- was found not revoked (one short dict read per hit instead of the lookup).
        memo_store = store and type(store.is_revoked_memo) == "function" and store or nil,
        read_token = bearer.reader(OP, opts.token),
        realm = opts.realm, headers = check_headers(opts.headers), ctx_field = opts.ctx or "claims",
        started = false, bodies = {}, challenges = {}, cached_texts = 0,
    }, Guard)
    -- The per-request methods on the guard itself: `guard:protect{...}` in an
    -- access_by_lua_block is run by LuaJIT's interpreter (a block's own code is never
    -- compiled), where a method found through the metatable costs a metamethod lookup.
    self.protect, self.check = Guard.protect, Guard.check
    -- protect: a token the verifier's cache does not hold is checked without its claims table
    -- (the rule's scopes in the verifier's pass), the claims made when ngx.ctx's field is
    -- first read. Upstream headers need the claims at once.
    self.without_claims = not self.headers and verifiers.checks_without_claims(v)
    if opts.metrics ~= nil then
        self.metrics = metrics_store.new(opts.metrics)
        local totals = cache_totals_of(v)
        if totals then self.metrics:add_source(totals) end
    end
    if audience_of(v) == nil then
        log_loud(OP, ": warning: the verifier has no audience (or does not say): tokens of"
            .. " every tenant signed with this key pass; give token.verifier{ audience = ... }")
    end
    local phase = rawget(_G, "ngx") and ngx.get_phase and ngx.get_phase()
    if phase == "init_worker" then
        local ok, err = self:start()
        if not ok then error(OP .. ": " .. tostring(err), 2) end
    elseif phase ~= "init" and phase ~= "timer" and phase ~= nil then
        log_warn(OP, ": a guard made in the ", phase, " phase: make it once, in init_by_lua or",
            " init_worker_by_lua, not per request")
    end
    return self
end

--- Starts this worker's timers: the metrics flush, the revocation store's refresh (worker 0)
-- and its backend. Call it in init_worker_by_lua when the guard was made in init_by_lua (a
-- guard made in init_worker_by_lua starts itself); again is harmless.
-- @return true, or nil and an error
-- @raise in init_by_lua (the master cannot run timers)
function Guard:start()
    if ngx.get_phase() == "init" then
        error(OP .. ":start: call it in init_worker_by_lua (timers cannot run in the master)", 2)
    end
    if self.started then return true end
    self.started = true
    if self.metrics then
        local ok, err = self.metrics:start()
        if not ok then return nil, err end
    end
    if self.revocations then
        local ok, err = self.revocations:start()
        if not ok then return nil, err end
    end
    return true
end

local STATUS_TEXT = { [400] = "invalid_request", [401] = "invalid_token",
                      [403] = "insufficient_scope" }

-- The guard's revocation store on a token the verifier passed: nil, or the status and reason.
local function refused_by_store(self, aud, jti, shared)
    local is_revoked = self.is_revoked
    if not is_revoked then return nil end
    local revoked, err
    local memo_store = self.memo_store
    if shared and memo_store then
        revoked, err = memo_store:is_revoked_memo(aud, jti, shared)
    else
        revoked, err = is_revoked(aud, jti)
    end
    if revoked then return 401, "revoked" end
    if err ~= nil then
        ngx.log(ngx.ERR, OP, ": revocation check failed: ", tostring(err))
        return 503, "revocation check failed"
    end
    return nil
end

-- The decision. Returns status, reason (the verifier's reason or ours), claims (on 200),
-- and for a 403 the scopes to name; for a 405 the Allow header; then whether the claims are
-- the verifier cache's own table (read here, copied before anyone else gets them). With
-- `without_claims` (protect, on a guard whose verifier allows it), a token let through has
-- no claims yet: last comes the token (verifier.claims_of makes them).
local function decide(self, fname, rule, without_claims)
    local chosen, allow = select_rule(fname, rule, ngx.req.get_method)
    if not chosen then return 405, "method not allowed", nil, nil, allow end
    local all, any = scope_lists(fname, chosen)  -- a malformed rule raises, whatever the token
    local jwt, problem = self.read_token()
    if not jwt then
        if problem == "malformed" then return 401, "malformed bearer token" end
        if problem == "multiple" then return 400, "more than one token" end
        return 401, "no token"
    end
    local claims, reason, shared
    if without_claims then
        local aud, jti, missing, entry
        claims, aud, jti, missing, entry = checked(self.verifier, jwt, all, any)
        if claims == false then                  -- a new token, checked without its claims
            local status, refusal = refused_by_store(self, aud, jti, entry)
            if status then return status, refusal end
            local passes, needed = allowed_by(all, any, missing)
            if not passes then return 403, "insufficient scope", nil, needed end
            return 200, nil, nil, nil, nil, nil, jwt
        end
        if claims then shared = aud else reason = aud end   -- a hit's entry; a failure's reason
    else
        local _
        claims, reason, _, shared = verified(self.verifier, jwt)
    end
    if not claims then
        if UNAVAILABLE[reason] then return 503, reason end
        return 401, reason
    end
    local status, refusal = refused_by_store(self, claims.aud, claims.jti, shared)
    if status then return status, refusal end
    local ok, needed = grants(all, any, claims)
    if not ok then return 403, "insufficient scope", nil, needed end
    return 200, nil, claims, nil, nil, shared
end

local function outcome_of(status, reason)
    if status == 200 then return "allowed" end
    return (gsub(reason, "[^%w]+", "_"))
end

-- Decides and counts.
local function decide_counted(self, fname, rule, without_claims)
    local m = self.metrics
    if not m then return decide(self, fname, rule, without_claims) end
    local clock = m.clock
    local started = clock and clock()
    local status, reason, claims, scope, allow, shared, checked_jwt =
        decide(self, fname, rule, without_claims)
    if started then m:observe(clock() - started) end
    local key = m.outcome_keys[status]
    key = key and key[reason or "allowed"]
    if not key then
        key = m:outcome_key(status, outcome_of(status, reason))
        m.outcome_keys[status][reason or "allowed"] = key
    end
    local pending = m.pending
    pending[key] = (pending[key] or 0) + 1
    return status, reason, claims, scope, allow, shared, checked_jwt
end

--- Decides about this request without writing anything (no response, no headers, no ngx.ctx;
-- the metrics count it).
-- @tparam table rule `{ scopes = {...} }`, `{ any = {...} }`, `{ endpoint = "..." }`,
--   `{ methods = { GET = rule, ... } }` or `{}` (any valid token)
-- @treturn table claims (nil when refused)
-- @treturn integer status: 200, 400, 401, 403, 405 or 503
-- @treturn string reason when refused: the verifier's (`expired`, `signature mismatch`, ...),
--   `revoked`, `no token`, `malformed bearer token`, `more than one token`,
--   `insufficient scope`, `method not allowed`,
--   `revocation check failed`
-- @raise on a malformed rule
function Guard:check(rule)
    local status, reason, claims, _, _, shared = decide_counted(self, "guard:check", rule)
    if shared then claims = copy_of(shared) end
    return claims, status, reason
end

-- A quoted-string of RFC 7235 (the texts are ours and the verifier's; escaped anyway).
local function quoted(text)
    return '"' .. gsub(text, '["\\]', "\\%0") .. '"'
end

local ERRORS = { [400] = "invalid_request", [401] = "invalid_token",
                 [403] = "insufficient_scope", [405] = "method_not_allowed",
                 [503] = "temporarily_unavailable" }

local function challenge(self, status, reason, scope)
    local cache_key = status .. "\0" .. reason .. "\0" .. (scope or "")
    local value = self.challenges[cache_key]
    if value then return value end
    local parts = {}
    if self.realm then parts[#parts + 1] = "realm=" .. quoted(self.realm) end
    -- RFC 6750 §3.1: no error code when the request carried no token at all.
    if reason ~= "no token" then
        parts[#parts + 1] = "error=" .. quoted(STATUS_TEXT[status])
        parts[#parts + 1] = "error_description=" .. quoted(reason)
    end
    if scope then parts[#parts + 1] = "scope=" .. quoted(scope) end
    value = #parts > 0 and "Bearer " .. concat(parts, ", ") or "Bearer"
    -- Reasons are a fixed set and scopes come from nginx.conf; bounded all the same.
    if self.cached_texts < 1000 then
        self.challenges[cache_key], self.cached_texts = value, self.cached_texts + 1
    end
    return value
end

local function json_string(text)
    return '"' .. gsub(text, '[%c"\\]', function(c)
        if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
        return format("\\u%04x", c:byte())
    end) .. '"'
end

local function body_of(self, status, reason, scope)
    local cache_key = status .. "\0" .. reason .. "\0" .. (scope or "")
    local body = self.bodies[cache_key]
    if body then return body end
    local code = reason == "no token" and "unauthorized" or ERRORS[status] or "error"
    body = '{"error":' .. json_string(code) .. ',"error_description":' .. json_string(reason)
    if scope then body = body .. ',"scope":' .. json_string(scope) end
    body = body .. "}\n"
    if self.cached_texts < 1000 then
        self.bodies[cache_key], self.cached_texts = body, self.cached_texts + 1
    end
    return body
end

local function refuse(self, status, reason, scope, allow)
    ngx.status = status
    local header = ngx.header
    if status == 400 or status == 401 or status == 403 then
        header["WWW-Authenticate"] = challenge(self, status, reason, scope)
    end
    if allow then header["Allow"] = allow end
    header["Content-Type"] = "application/json"
    header["Cache-Control"] = "no-store"
    ngx.print(body_of(self, status, reason, scope))
    -- After a response has been sent, ngx.HTTP_OK ends the whole request, not only the phase.
    return ngx.exit(ngx.HTTP_OK)
end

local function pass_upstream(self, claims)
    for _, h in pairs(self.headers) do
        local value
        if h.field == "scopes" then
            value = granted(claims)
        else
            value = claims[h.field]
            local kind = type(value)
            if kind == "number" then
                value = format("%d", value)
            elseif kind ~= "string" then
                value = nil                             -- absent, or an array aud: not passed
            end
        end
        -- Replaces every copy the client sent; nil removes them.
        ngx.req.set_header(h.name, value)
    end
end

--- Protects this location (access_by_lua): a request without a token the rule accepts is
-- answered here (401/403 with an RFC 6750 WWW-Authenticate and a JSON body; 400 for more than
-- one token; 405 with Allow; 503 when the revocation store cannot answer); else it goes on
-- with the claims in `ngx.ctx.claims` and the configured upstream headers set (the client's
-- copies of them removed). Nothing is returned: the claims of a cached token are copied for
-- the request only when `ngx.ctx.claims` is first read (most requests through a gateway never
-- read them), so pairs/rawget on ngx.ctx do not see them before that (docs/nginx.md).
-- @tparam table rule as for check
-- @raise on a malformed rule
function Guard:protect(rule)
    local status, reason, claims, scope, allow, shared, checked_jwt =
        decide_counted(self, "guard:protect", rule, self.without_claims)
    if status ~= 200 then return refuse(self, status, reason, scope, allow) end
    if checked_jwt then return put_checked(ngx.ctx, self.ctx_field, checked_jwt) end
    if self.headers then pass_upstream(self, claims) end
    put_claims(ngx.ctx, self.ctx_field, claims, shared)
end

--- Answers the request with the metrics in Prometheus' text format (content_by_lua of a
-- metrics location; protect it with `allow`/`deny` or a guard of its own).
function Guard:serve_metrics()
    if not self.metrics then
        error(OP .. ":serve_metrics: this guard has no metrics (give `metrics = \"dict\"`)", 2)
    end
    local text = self.metrics:render(self.revocations)
    ngx.header["Content-Type"] = "text/plain; version=0.0.4"
    ngx.header["Cache-Control"] = "no-store"
    ngx.print(text)
end

M.Guard = Guard
return M
