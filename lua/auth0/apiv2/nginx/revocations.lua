--- Revoked tokens shared by the workers of one nginx node: `(aud, jti)` pairs in a
-- `lua_shared_dict` whose name the caller gives.
--
--   local nginx = require "auth0.apiv2.nginx"
--   local revs = nginx.revocations{ dict = "auth0_revoked", blacklist = client, aud = AUD }
--   revs:revoke(aud, jti, exp)        -- every worker refuses the token at once
--   revs:is_revoked(aud, jti)         -- also callable as revs.is_revoked(aud, jti)
--   revs:start()                      -- init_worker: worker 0 copies Auth0's blacklist here
--   revs:status()
--
-- THE SEAM FOR A BACKEND (a store shared by a fleet, e.g. Redis; issue 14)
-- This object owns the local dict, and the request path only ever reads that dict: one `get`
-- per lookup, nothing else. A backend is an optional module that the constructor loads when
-- its option is present (BACKENDS below: `redis = {...}` loads `auth0.apiv2.nginx.redis`).
-- The module's `new(store, opts)` is called once, where the store is made (init_by_lua or
-- init_worker_by_lua), with this store and its option table, and returns an object with:
--   backend:revoke(aud, jti, exp)  -> true | nil, err
--       called by store:revoke after the local write (publish it to the fleet);
--   backend:start()                -> true | nil, err
--       called by store:start() in every worker (init_worker_by_lua); it runs its own timers
--       (subscriber, catch-up, lease) and chooses itself which worker does what;
--   backend:status()               -> table, shown as store:status().backend
--   backend.polls_auth0            -> true when the backend polls Auth0's blacklist itself
--       (one node per fleet, under a lease); store:start() then does not poll on its own.
-- The backend writes what it learns through the store:
--   store:record(aud, jti, exp)    the local write only (a full dict refuses, loudly);
--   store:refresh()                one pull of Auth0's blacklist into the local dict;
--   store:set_unavailable(reason)  this worker's lookups answer `nil, reason` (the verifier's
--       "revocation check failed": the guard answers 503) until set_unavailable(nil): the
--       `on_stale = "closed"` policy. Per worker, so each worker's own timer sets it.
--   store:fetch_all(aud)           Auth0's blacklist as a list (for seeding a shared store).
--
-- Entries are never evicted: a full dict refuses new ones with an error in the log, a count
-- in status() and the metrics, and `nil, err` to the caller (`safe_set`/`safe_add`; `set`
-- would evict old entries, which silently un-revokes tokens). The bookkeeping counters are
-- created at construction with `safe_add`, so `incr` never needs room later.
-- luacheck: globals ngx
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, tostring, pcall, ipairs, pairs, error, setmetatable, require, rawget =
    type, tostring, pcall, ipairs, pairs, error, setmetatable, require, rawget
local floor = math.floor
local format = string.format

local OP = "auth0.apiv2.nginx.revocations"
M.DEFAULT_INTERVAL = 60       -- s between two pulls of Auth0's blacklist
M.DEFAULT_KEEP_AFTER_EXP = 600 -- s an entry with exp stays after it (more than any leeway)

--- Backend options and the module each loads (see the seam above).
M.BACKENDS = { redis = "auth0.apiv2.nginx.redis" }

local OPTIONS = { dict = true, blacklist = true, aud = true, interval = true,
                  keep_after_exp = true }
for name in pairs(M.BACKENDS) do OPTIONS[name] = true end

-- Bookkeeping keys; revocation keys start with a digit, so they never meet these.
local GENERATION = "meta:recorded"   -- incremented after every write of an entry
local COUNTERS = { GENERATION, "meta:refused_full", "meta:refreshes", "meta:refresh_errors",
                   "meta:last_count", "meta:last_refresh" }

local Revocations = {}
Revocations.__index = Revocations

local function shared_dict(op, name, size_hint)
    if type(name) ~= "string" or name == "" then
        error(op .. ": dict must be the name of a lua_shared_dict", 3)
    end
    local shared = rawget(_G, "ngx") and ngx.shared
    local dict = shared and shared[name]
    if not dict then
        error(format("%s: no lua_shared_dict %s: add `lua_shared_dict %s %s;` to the http "
            .. "block of nginx.conf", op, options.show(name), name, size_hint), 3)
    end
    return dict
end
M.shared_dict = shared_dict

-- (aud, jti) as one key, unambiguous whatever the strings hold: "<#aud>:<aud><jti>". The
-- prefix of each aud is kept (a gateway sees one or a few), so a lookup makes one string.
local prefixes, prefix_count = {}, 0
local function entry_key(aud, jti)
    local prefix = prefixes[aud]
    if not prefix then
        prefix = #aud .. ":" .. aud
        if prefix_count < 1000 then prefixes[aud], prefix_count = prefix, prefix_count + 1 end
    end
    return prefix .. jti
end

local function check_positive(name, value, default)
    if value == nil then return default end
    if type(value) ~= "number" or not (value > 0 and value < 1e9) then
        error(OP .. ": " .. name .. " must be a positive number of seconds", 3)
    end
    return value
end

--- Makes the store (once: init_by_lua or init_worker_by_lua).
-- @tparam table opts `dict` (required: a lua_shared_dict name), `blacklist` (optional: a client
--   from auth0.apiv2.blacklist.new, for :start()'s refresh and for posting revocations to Auth0),
--   `aud` (whose blacklist to copy; default every tenant the client's token may list),
--   `interval` (s between refreshes, default 60), `keep_after_exp` (s, default 600), and a
--   backend's option (`redis = {...}`, see the seam above)
-- @return the store
-- @raise on a missing dict, an unknown or ill-typed option
function M.new(opts)
    options.check(OP, opts, OPTIONS, 2)
    local dict = shared_dict(OP, opts.dict, "10m")
    local bl = opts.blacklist
    if bl ~= nil and (type(bl) ~= "table" or type(bl.list) ~= "function"
        or type(bl.revoke) ~= "function") then
        error(OP .. ": blacklist must be a client from auth0.apiv2.blacklist.new", 2)
    end
    if opts.aud ~= nil and (type(opts.aud) ~= "string" or opts.aud == "") then
        error(OP .. ": aud must be a non-empty string", 2)
    end
    local self = setmetatable({
        name = opts.dict, dict = dict, blacklist = bl, aud = opts.aud,
        interval = check_positive("interval", opts.interval, M.DEFAULT_INTERVAL),
        keep_after_exp = check_positive("keep_after_exp", opts.keep_after_exp,
            M.DEFAULT_KEEP_AFTER_EXP),
        unavailable = nil, started = false,
    }, Revocations)
    for _, k in ipairs(COUNTERS) do dict:safe_add(k, 0) end
    -- Callable as revs:is_revoked(aud, jti) and as revs.is_revoked(aud, jti) (the verifier's
    -- is_revoked calls a plain function): a token's aud is never this table.
    local get = dict.get
    local function is_revoked(a, b, c)
        local aud, jti = a, b
        if a == self then aud, jti = b, c end
        if self.unavailable then return nil, self.unavailable end
        if type(jti) ~= "string" then return false end    -- no jti: it can never be revoked
        if type(aud) == "string" then
            local value, err = get(dict, entry_key(aud, jti))
            if value == nil and err then return nil, err end
            return value ~= nil
        end
        if type(aud) == "table" then                       -- an array aud: any of them
            for _, one in ipairs(aud) do
                if type(one) == "string" then
                    local value, err = get(dict, entry_key(one, jti))
                    if value == nil and err then return nil, err end
                    if value ~= nil then return true end
                end
            end
        end
        return false
    end
    self.is_revoked = is_revoked
    -- is_revoked for the guard on a verified-token cache hit: `memo` is a table the caller keeps
    -- with the token (the cache's entry). When this store found the token not revoked and no
    -- entry has been written to the dict since (GENERATION counts every write, after it),
    -- the answer stands without the lookup: one get of a short key instead of one of
    -- "<#aud>:<aud><jti>" (nginx hashes a shared-dict key byte by byte, ~4 ns a byte). The
    -- count is read before the lookup, so a write racing the lookup only makes the next call
    -- look again; a count that cannot be read (dict flushed) means no memo.
    function self.is_revoked_memo(_, aud, jti, memo)
        if self.unavailable then return nil, self.unavailable end
        local generation = get(dict, GENERATION)
        if generation ~= nil and memo[self] == generation then return false end
        local revoked, err = is_revoked(aud, jti)
        if revoked == false and generation ~= nil then memo[self] = generation end
        return revoked, err
    end
    for name, module in pairs(M.BACKENDS) do
        if opts[name] ~= nil then
            local ok, backend_module = pcall(require, module)
            if not ok then
                error(format("%s: the %s backend is not available (%s)", OP, name,
                    tostring(backend_module)), 2)
            end
            self.backend = backend_module.new(self, opts[name])
            self.backend_name = name
        end
    end
    return self
end

function Revocations:__tostring()
    return "auth0.apiv2.nginx.revocations (" .. self.name .. ")"
end

local function log_full(self, what)
    ngx.log(ngx.ERR, OP, ": lua_shared_dict ", self.name, " is full: ", what,
        " refused (entries are never evicted: make the dict bigger)")
    self.dict:incr("meta:refused_full", 1)
end

local function check_entry(op, aud, jti, exp)
    if type(aud) ~= "string" then error(op .. ": aud must be a string", 3) end
    if type(jti) ~= "string" or jti == "" then
        error(op .. ": jti must be a non-empty string", 3)
    end
    if exp ~= nil and (type(exp) ~= "number" or exp ~= exp) then
        error(op .. ": exp must be a number (seconds since the epoch) or nil", 3)
    end
end

-- Seconds to keep an entry: 0 (forever) without exp; nil when it is long expired already.
local function ttl_of(self, exp)
    if exp == nil then return 0 end
    local ttl = floor(exp - ngx.time()) + self.keep_after_exp
    if ttl <= 0 then return nil end
    return ttl
end

--- Records a revocation in the local dict only (every worker of this node refuses the token
-- at once). The write of :revoke, and what a backend calls for revocations it learns.
-- @tparam string aud
-- @tparam string jti
-- @tparam[opt] number exp the token's exp: the entry goes `keep_after_exp` seconds after it
-- @return true
-- @return[2] nil
-- @return[2] string "revocations: lua_shared_dict NAME is full" (logged as an error too)
-- @raise when aud, jti or exp are ill-typed
function Revocations:record(aud, jti, exp)
    check_entry(OP .. ":record", aud, jti, exp)
    local ttl = ttl_of(self, exp)
    if not ttl then return true end                       -- expired: nothing left to refuse
    local ok, err = self.dict:safe_set(entry_key(aud, jti), exp or true, ttl)
    if not ok then
        if err == "no memory" then
            log_full(self, "a revocation")
            return nil, "revocations: lua_shared_dict " .. self.name .. " is full"
        end
        return nil, "revocations: " .. tostring(err)
    end
    self.dict:incr(GENERATION, 1)
    return true
end

--- Revokes a token: recorded in the local dict at once, then given to the backend (if any),
-- then posted to Auth0 when the store has a blacklist client (unless `opts.auth0 == false`).
-- Every step is tried even when one fails; the first failure is returned. Posting to Auth0
-- needs cosockets (content, access or rewrite phase, or a timer).
-- @tparam string aud
-- @tparam string jti
-- @tparam[opt] number exp
-- @tparam[opt] table opts `auth0 = false`: do not post to Auth0
-- @return true
-- @return[2] nil
-- @return[2] the error: a string (dict, backend) or the blacklist client's error value
-- @raise when aud, jti or exp are ill-typed
function Revocations:revoke(aud, jti, exp, opts)
    check_entry(OP .. ":revoke", aud, jti, exp)
    local ok, err = self:record(aud, jti, exp)
    local first_err = not ok and err or nil
    if self.backend then
        local bok, berr = self.backend:revoke(aud, jti, exp)
        if not bok and not first_err then first_err = berr end
    end
    if self.blacklist and not (opts and opts.auth0 == false) then
        local aok, aerr = self.blacklist:revoke{ aud = aud ~= "" and aud or nil, jti = jti }
        if not aok and not first_err then first_err = aerr end
    end
    if first_err then return nil, first_err end
    return true
end

--- Whether (aud, jti) is revoked, from the local dict only (installed per object in new:
-- `revs:is_revoked(aud, jti)` and `revs.is_revoked(aud, jti)` both work, so the function can
-- be given to token.verifier as `is_revoked`).
-- @treturn boolean; nil and an error when the dict fails or the store is unavailable
-- (set_unavailable)
-- @function is_revoked

--- This worker's lookups answer `nil, reason` (the backend's "closed" policy), or normally
-- again with nil.
function Revocations:set_unavailable(reason)
    if reason ~= nil and type(reason) ~= "string" then
        error(OP .. ":set_unavailable: reason must be a string or nil", 2)
    end
    self.unavailable = reason
end

local function meta_string(self, name, value)
    -- safe_set: bookkeeping must never push out a revocation.
    self.dict:safe_set("meta:" .. name, value)
end

--- Auth0's blacklist as a list of `{ aud, jti }` (needs the blacklist client and cosockets).
-- @tparam[opt] string aud the tenant; default the store's `aud`
-- @return the list, or nil and the client's error value
function Revocations:fetch_all(aud)
    if not self.blacklist then
        error(OP .. ": no blacklist client (give `blacklist = ` to nginx.revocations)", 2)
    end
    return self.blacklist:list{ aud = aud or self.aud }
end

--- Copies Auth0's blacklist into the local dict (entries already there are left as they are).
-- @return the number of entries in Auth0's list
-- @return[2] nil
-- @return[2] string the error (also kept for status())
function Revocations:refresh()
    local list, err = self:fetch_all()
    local failure
    if not list then
        failure = tostring(err)
    else
        for _, entry in ipairs(list) do
            local aud = entry.aud or self.aud or ""
            local ok, aerr = self.dict:safe_add(entry_key(aud, entry.jti), true, 0)
            if ok then
                self.dict:incr(GENERATION, 1)
            elseif aerr == "no memory" then
                log_full(self, "an entry of Auth0's blacklist")
                failure = "lua_shared_dict " .. self.name .. " is full"
                break
            elseif aerr ~= "exists" then
                failure = tostring(aerr)
                break
            end
        end
    end
    if failure then
        self.dict:incr("meta:refresh_errors", 1)
        meta_string(self, "last_error", failure)
        return nil, failure
    end
    self.dict:incr("meta:refreshes", 1)
    self.dict:safe_set("meta:last_count", #list)
    self.dict:safe_set("meta:last_refresh", ngx.now())
    self.dict:delete("meta:last_error")
    return #list
end

--- Starts this worker's part (call it in init_worker_by_lua; again is harmless): worker 0
-- copies Auth0's blacklist into the dict at once and then every `interval` seconds, over
-- cosockets, never overlapping itself (when there is a blacklist client and no backend that
-- polls Auth0 itself); then the backend's own start.
-- @return true
-- @return[2] nil
-- @return[2] string the error of ngx.timer or of the backend
-- @raise when called in init_by_lua (the master cannot run timers)
function Revocations:start()
    if ngx.get_phase() == "init" then
        error(OP .. ":start: call it in init_worker_by_lua (timers cannot run in the master)", 2)
    end
    if self.started then return true end
    self.started = true
    if self.blacklist and ngx.worker.id() == 0
        and not (self.backend and self.backend.polls_auth0) then
        local running = false
        local function tick(premature)
            if premature or running then return end
            running = true
            local ok, count, err = pcall(self.refresh, self)
            running = false
            if not ok or not count then
                ngx.log(ngx.ERR, OP, ": blacklist refresh failed: ", tostring(ok and err or count))
            end
        end
        local ok, err = ngx.timer.at(0, tick)
        if ok then ok, err = ngx.timer.every(self.interval, tick) end
        if not ok then return nil, "cannot start the blacklist refresh: " .. tostring(err) end
    end
    if self.backend then return self.backend:start() end
    return true
end

--- The store's state: `dict`, `capacity` and `free_bytes` (bytes of the dict), `recorded`
-- (entries written since the dict was made; expired ones are not subtracted),
-- `refused_full` (revocations a full dict refused), `refreshes`, `refresh_errors`,
-- `last_refresh` (seconds, nil before the first success), `last_count` (entries in Auth0's
-- list then), `last_error`, `unavailable` (this worker), `backend` (the backend's status).
function Revocations:status()
    local d = self.dict
    local s = {
        dict = self.name,
        capacity = d.capacity and d:capacity() or nil,
        free_bytes = d.free_space and d:free_space() or nil,
        recorded = d:get(GENERATION) or 0,
        refused_full = d:get("meta:refused_full") or 0,
        refreshes = d:get("meta:refreshes") or 0,
        refresh_errors = d:get("meta:refresh_errors") or 0,
        last_count = d:get("meta:last_count") or 0,
        last_refresh = d:get("meta:last_refresh"),
        last_error = d:get("meta:last_error"),
        unavailable = self.unavailable,
        polling = self.blacklist ~= nil,
    }
    if s.last_refresh == 0 then s.last_refresh = nil end
    if self.backend then
        s.backend_name = self.backend_name
        s.backend = self.backend:status()
    end
    return s
end

return M
