--- The Redis backend of the revocation store (`nginx.revocations{ dict = ..., redis = {...} }`):
-- revocations shared by a fleet of gateways. Loaded by auth0.apiv2.nginx.revocations through
-- its backend seam; users never require it themselves. docs/fleet.md tells the whole story.
--
-- What runs where:
--   request path    only the store's dict (one `get`); Redis is never touched.
--   :revoke         any worker: the store has written the dict; here one script run by Redis
--                   (auth0.apiv2.internal.fleet_wire) sets the entry, appends it to the log (a
--                   Stream) and publishes it. When Redis cannot be reached the message goes to
--                   a queue in the dict, sent by the node's sync loop as soon as Redis answers.
--   one worker per node (a lock in the dict, taken over within LOCK_TTL when its holder dies):
--     subscriber    SUBSCRIBE on the channel, each message recorded in the dict at once;
--                   reconnects with exponential backoff and jitter;
--     sync loop     every `sync_interval` s and after each (re)subscribe: sends the queue, then
--                   reads the log from the last id this node saw (`XRANGE log (id +`), so a
--                   catch-up reads only what pub/sub may have dropped; a node that is new, or
--                   whose id is older than the log's first entry (trimmed, or Redis restarted
--                   empty), scans the entry keys instead. A successful round is a "sync".
--     lease         `SET lease id NX PX` renewed by a script; the holder polls Auth0's
--                   blacklist (the store's client) at most once per interval fleet-wide (a
--                   second key, `SET polled NX PX interval`) and writes what is new into Redis
--                   (SET NX, and XADD + PUBLISH only for new entries). After Redis restarted
--                   empty both keys are gone: the next holder polls at once and re-seeds it.
--   every worker    a timer that looks at the node's last sync: after `max_stale` s without
--                   one, `on_stale = "closed"` makes this worker's lookups fail (the verifier's
--                   "revocation check failed") until a sync succeeds; "open" keeps serving on
--                   what the dict knows. Either way status() and the metrics say `stale`.
-- luacheck: globals ngx
local wire = require "auth0.apiv2.internal.fleet_wire"
local options = require "auth0.apiv2.internal.options"
local core = require "auth0.apiv2.internal.core"

local M = {}

local type, tostring, tonumber, pcall, ipairs, error, setmetatable, require, rawget =
    type, tostring, tonumber, pcall, ipairs, error, setmetatable, require, rawget
local floor, min, random = math.floor, math.min, math.random
local format, gsub = string.format, string.gsub
local concat = table.concat
local unpack = table.unpack or unpack

local OP = "auth0.apiv2.nginx.revocations: redis"

M.DEFAULTS = {
    host = "127.0.0.1", port = 6379, timeout = 1000, pool_size = 16,
    sync_interval = 5, max_stale = 60, on_stale = "open", lease = 10,
    backoff_max = 5, maxlen = wire.DEFAULT_MAXLEN,
}
local OPTIONS = {
    host = true, port = true, password = true, db = true, prefix = true, timeout = true,
    pool_size = true, client = true, sync_interval = true, max_stale = true, on_stale = true,
    lease = true, poll_interval = true, backoff_max = true, maxlen = true,
}
local LOCK_TTL = 3          -- s: a dead subscriber worker is replaced within this
local TICK = 0.25           -- s: the node loop's period (lock, queue, due work)
local BATCH = 500           -- entries per XRANGE, MGET or seed script
local BACKOFF_FIRST = 0.05  -- s

-- Keys of this backend in the node's dict ("fleet:"; revocations start with a digit and the
-- store's own bookkeeping with "meta:").
local K = {
    lock = "fleet:lock", node = "fleet:node", started = "fleet:started",
    cursor = "fleet:cursor", last_sync = "fleet:last_sync", last_error = "fleet:last_error",
    last_error_at = "fleet:last_error_at", connected = "fleet:connected",
    subscribed = "fleet:subscribed", pending = "fleet:pending", lease = "fleet:lease_held",
    last_poll = "fleet:last_poll", last_poll_error = "fleet:last_poll_error",
    last_lag = "fleet:last_lag_ms", holder = "fleet:lock_pid",
}
-- Counters (created at start with safe_add, so incr never needs room).
local COUNTERS = { "errors", "messages", "caught_up", "full_resyncs", "syncs", "published",
                   "queued", "reconnects", "polls", "poll_errors", "seeded", "bad_messages" }
for _, name in ipairs(COUNTERS) do K[name] = "fleet:" .. name end

local function redis_module(opts_client)
    if opts_client ~= nil then return opts_client end
    local ok, mod = pcall(require, "resty.redis")      -- OpenResty
    if ok then return mod end
    ok, mod = pcall(require, "nginx.redis")            -- Debian's lua-nginx-redis
    if ok then return mod end
    return nil
end

local Backend = {}
Backend.__index = Backend

local function number_option(opts, name, low, high)
    local value = opts[name]
    if value == nil then return M.DEFAULTS[name] end
    if type(value) ~= "number" or not (value >= low and value <= high) then
        error(format("%s: %s must be a number in %s..%s", OP, name, low, high), 4)
    end
    return value
end

--- Called by nginx.revocations.new with the store and the `redis = {...}` table.
-- @raise on an unknown or ill-typed option, or when no Redis client library is found
function M.new(store, opts)
    options.check(OP, opts, OPTIONS, 3)
    for _, name in ipairs{ "host", "password", "prefix" } do
        if opts[name] ~= nil and (type(opts[name]) ~= "string" or opts[name] == "") then
            error(OP .. ": " .. name .. " must be a non-empty string", 3)
        end
    end
    if opts.on_stale ~= nil and opts.on_stale ~= "open" and opts.on_stale ~= "closed" then
        error(OP .. ': on_stale must be "open" or "closed"', 3)
    end
    local client = opts.client
    if client ~= nil and (type(client) ~= "table" or type(client.new) ~= "function") then
        error(OP .. ": client must be a lua-resty-redis module (a table with new())", 3)
    end
    local module = redis_module(opts.client)
    if not module then
        error(OP .. ": no Redis client: install lua-resty-redis (resty.redis in OpenResty; "
            .. "Debian: apt-get install lua-nginx-redis) or pass `client =`", 3)
    end
    local self = setmetatable({
        store = store, dict = store.dict, module = module,
        host = opts.host or M.DEFAULTS.host,
        port = number_option(opts, "port", 1, 65535),
        db = opts.db ~= nil and number_option(opts, "db", 0, 1e6) or nil,
        timeout = number_option(opts, "timeout", 1, 600000),
        pool_size = number_option(opts, "pool_size", 1, 10000),
        sync_interval = number_option(opts, "sync_interval", 0.05, 86400),
        max_stale = number_option(opts, "max_stale", 0.1, 1e8),
        on_stale = opts.on_stale or M.DEFAULTS.on_stale,
        lease = number_option(opts, "lease", 0.5, 86400),
        poll_interval = opts.poll_interval ~= nil
            and number_option(opts, "poll_interval", 0.1, 86400) or store.interval,
        backoff_max = number_option(opts, "backoff_max", 0.05, 3600),
        maxlen = floor(number_option(opts, "maxlen", 100, 1e9)),
        keys = wire.keys(opts.prefix or wire.DEFAULT_PREFIX),
        -- Kept in a closure, so that status() and dumps of the object never show it.
        password = opts.password and function() return opts.password end,
        polls_auth0 = store.blacklist ~= nil,
        -- This worker's state.
        running = false, subscriber = false, resubscribe = false, polling = false,
        next_sync = 0, pid = nil,
    }, Backend)
    self.pool = format("auth0-fleet:%s:%d:%s", self.host, self.port, tostring(self.db or 0))
    return self
end

---------------------------------------------------------------- bookkeeping

local function now_ms() return floor(ngx.now() * 1000) end

local function note_error(self, where, err)
    local d = self.dict
    local text = where .. ": " .. tostring(err)
    d:incr(K.errors, 1, 0)
    d:safe_set(K.last_error, text)
    d:safe_set(K.last_error_at, ngx.now())
    d:safe_set(K.connected, false)
    return text
end

-- Records a message in the node's dict; the message came from Redis, so it is checked.
-- A message from pub/sub sets the propagation figure; one from a catch-up counts only when
-- the dict did not have it (what pub/sub had dropped).
local function apply(self, message, counter)
    local aud, jti, exp, ms = wire.decode(message)
    if not aud then
        self.dict:incr(K.bad_messages, 1, 0)
        return nil, "malformed message"
    end
    if counter == K.messages then
        if ms and ms > 0 then
            ngx.update_time()
            self.dict:safe_set(K.last_lag, now_ms() - ms)
        end
    elseif self.dict:get(wire.entry_id(aud, jti)) ~= nil then
        return true
    end
    local ok, err = self.store:record(aud, jti, exp)
    self.dict:incr(counter, 1, 0)
    return ok, err
end

---------------------------------------------------------------- connections

-- A connection from the worker's pool; `fresh` for one of its own (the subscriber).
local function connect(self, fresh)
    local red = self.module:new()
    -- lua-resty-redis 0.27 (Debian's) has set_timeout only; any other name would be sent to
    -- Redis as a command (its __index makes one of every unknown method).
    if rawget(self.module, "set_timeouts") then
        red:set_timeouts(self.timeout, self.timeout, self.timeout)
    else
        red:set_timeout(self.timeout)
    end
    local ok, err = red:connect(self.host, self.port, not fresh and { pool = self.pool } or nil)
    if not ok then return nil, "connect: " .. tostring(err) end
    if fresh or red:get_reused_times() == 0 then
        if self.password then
            ok, err = red:auth(self.password())
            if not ok then red:close() return nil, "auth: " .. tostring(err) end
        end
        if self.db then
            ok, err = red:select(self.db)
            if not ok then red:close() return nil, "select: " .. tostring(err) end
        end
    end
    return red
end

local function release(self, red)
    red:set_keepalive(60000, self.pool_size)
end

-- Runs fn(red) on a pooled connection; the connection is closed instead of pooled when fn
-- fails (a half-read reply must never reach the next user).
local function with_redis(self, where, fn)
    local red, err = connect(self)
    if not red then return nil, note_error(self, where, err) end
    local ok, result, ferr = pcall(fn, red)
    if not ok or result == nil then
        red:close()
        return nil, note_error(self, where, ok and ferr or result)
    end
    release(self, red)
    self.dict:safe_set(K.connected, true)
    return result
end

local function eval_revoke(self, red, message, aud, jti, exp)
    local ttl = wire.ttl(exp, ngx.time())
    if not ttl then return true end
    local id, err = red:eval(wire.REVOKE_SCRIPT, 2, self.keys.entries .. wire.entry_id(aud, jti),
        self.keys.log, message, ttl, self.maxlen, self.keys.channel)
    if not id then return nil, err end
    self.dict:incr(K.published, 1, 0)
    return id
end

---------------------------------------------------------------- :revoke

--- Publishes a revocation to the fleet (the store has already written its dict). When Redis
-- cannot be reached the revocation is queued in the dict and sent later by the sync loop:
-- it still counts as done (this node refuses the token; the fleet will).
-- @return true | nil, err (only when it can be neither sent nor queued)
function Backend:revoke(aud, jti, exp)
    local bad = wire.check(aud, jti, exp)
    if bad then error(OP .. ":revoke: " .. bad, 3) end
    local message = wire.encode(aud, jti, exp, now_ms())
    local ok = with_redis(self, "revoke", function(red)
        return eval_revoke(self, red, message, aud, jti, exp)
    end)
    if ok then return true end
    local len, err = self.dict:rpush(K.pending, message)
    if not len then
        ngx.log(ngx.ERR, OP, ": cannot queue a revocation for Redis: ", err)
        return nil, "redis unreachable, and the queue is full: " .. tostring(err)
    end
    self.dict:incr(K.queued, 1, 0)
    ngx.log(ngx.WARN, OP, ": Redis unreachable, revocation queued (", len, " waiting)")
    return true
end

---------------------------------------------------------------- catch-up

-- Sends what :revoke queued while Redis was away. Returns true | nil, err.
local function flush_queue(self, red)
    local d = self.dict
    while true do
        local message = d:lpop(K.pending)
        if not message then return true end
        local aud, jti, exp = wire.decode(message)
        if aud then
            local ok, err = eval_revoke(self, red, message, aud, jti, exp)
            if not ok then
                d:lpush(K.pending, message)        -- first in line again
                return nil, err
            end
        end
    end
end

local function glob_escape(text)
    return (gsub(text, "[%*%?%[%]\\]", "\\%0"))
end

-- Every entry key: the fallback when the log cannot tell what this node missed.
local function full_resync(self, red)
    local top, err = red:xrevrange(self.keys.log, "+", "-", "COUNT", 1)
    if not top then return nil, err end
    local cursor = top[1] and top[1][1] or "0-0"
    local scan_cursor, pattern = "0", glob_escape(self.keys.entries) .. "*"
    repeat
        local res, serr = red:scan(scan_cursor, "MATCH", pattern, "COUNT", BATCH)
        if not res then return nil, serr end
        scan_cursor = res[1]
        local names = res[2]
        if #names > 0 then
            local values, merr = red:mget(unpack(names))
            if not values then return nil, merr end
            for _, v in ipairs(values) do
                if type(v) == "string" then apply(self, v, K.caught_up) end
            end
        end
    until scan_cursor == "0"
    self.dict:incr(K.full_resyncs, 1, 0)
    return cursor
end

-- One catch-up: returns true | nil, err. Reads the log after the node's cursor.
local function catch_up(self, red)
    local d = self.dict
    local ok, err = flush_queue(self, red)
    if not ok then return nil, err end
    local cursor = d:get(K.cursor)
    local first
    first, err = red:xrange(self.keys.log, "-", "+", "COUNT", 1)
    if not first then return nil, err end
    -- "0-0": the log was empty when this node last looked, so it holds nothing older.
    if not cursor or (first[1] and cursor ~= "0-0"
                      and wire.compare_ids(first[1][1], cursor) > 0) then
        cursor, err = full_resync(self, red)
        if not cursor then return nil, err end
        d:safe_set(K.cursor, cursor)
    end
    while true do
        local entries, xerr = red:xrange(self.keys.log, "(" .. cursor, "+", "COUNT", BATCH)
        if not entries then return nil, xerr end
        for _, entry in ipairs(entries) do
            local fields = entry[2]
            for i = 1, #fields - 1, 2 do
                if fields[i] == "e" then apply(self, fields[i + 1], K.caught_up) end
            end
            cursor = entry[1]
        end
        d:safe_set(K.cursor, cursor)
        if #entries < BATCH then break end
    end
    d:safe_set(K.last_sync, ngx.now())
    d:incr(K.syncs, 1, 0)
    return true
end

-- One sync at a time per worker; a sync asked for while one runs makes it go round again
-- (so the catch-up after a subscribe always starts after the subscription).
local function sync(self)
    if self.syncing then
        self.sync_again = true
        return true
    end
    self.syncing = true
    local ok, err
    repeat
        self.sync_again = false
        local done, result, rerr = pcall(with_redis, self, "sync", function(red)
            return catch_up(self, red)
        end)
        if not done then ok, err = nil, result else ok, err = result, rerr end
    until not ok or not self.sync_again
    self.syncing = false
    if not ok then
        self.resubscribe = true      -- the subscription may be as dead as this connection
        return nil, err
    end
    return true
end

---------------------------------------------------------------- the lease and Auth0

local function poll_auth0(self)
    local d = self.dict
    local list, err = self.store:fetch_all()
    d:safe_set(K.last_poll, ngx.now())
    d:incr(K.polls, 1, 0)
    if not list then
        d:incr(K.poll_errors, 1, 0)
        d:safe_set(K.last_poll_error, tostring(err))
        ngx.log(ngx.ERR, OP, ": blacklist poll failed: ", tostring(err))
        return nil, err
    end
    d:delete(K.last_poll_error)
    local default_aud = self.store.aud or ""
    local ms = now_ms()
    local new = 0
    local i = 1
    while i <= #list do
        local args = { self.keys.entries, self.maxlen, self.keys.channel }
        for j = i, min(#list, i + BATCH - 1) do
            local aud, jti = list[j].aud or default_aud, list[j].jti
            if not wire.check(aud, jti) then
                self.store:record(aud, jti)
                args[#args + 1] = wire.entry_id(aud, jti)
                args[#args + 1] = wire.encode(aud, jti, nil, ms)
            end
        end
        i = i + BATCH
        local n = with_redis(self, "seed", function(red)
            return red:eval(wire.SEED_SCRIPT, 1, self.keys.log, unpack(args))
        end)
        if not n then return nil, "redis" end
        new = new + n
    end
    if new > 0 then d:incr(K.seeded, new, 0) end
    return true
end

-- Takes or renews the lease; when held and a poll is due fleet-wide, polls in its own timer.
local function lease_step(self)
    if not self.polls_auth0 then return end
    local node = self.dict:get(K.node)
    local held = with_redis(self, "lease", function(red)
        local r, err = red:eval(wire.LEASE_SCRIPT, 1, self.keys.lease, node,
            floor(self.lease * 1000))
        if r == nil then return nil, err end
        if r ~= 1 then return 0 end
        local due
        due, err = red:set(self.keys.polled, node, "NX", "PX", floor(self.poll_interval * 1000))
        if due == nil then return nil, err end
        return due == "OK" and 2 or 1
    end)
    self.dict:safe_set(K.lease, held ~= nil and held > 0)
    if held == 2 and not self.polling then
        self.polling = true
        local ok = ngx.timer.at(0, function(premature)
            if not premature then pcall(poll_auth0, self) end
            self.polling = false
        end)
        if not ok then self.polling = false end
    end
end

---------------------------------------------------------------- the node's worker

local function own_lock(self)
    local d = self.dict
    local holder = d:get(K.lock)
    if holder == self.pid then
        d:safe_set(K.lock, self.pid, LOCK_TTL)
        return true
    end
    if holder == nil and d:safe_add(K.lock, self.pid, LOCK_TTL) then
        d:safe_set(K.holder, self.pid)
        return true
    end
    return false
end

local function backoff(attempt, max)
    local wait = min(max, BACKOFF_FIRST * 2 ^ attempt)
    return wait * (0.8 + 0.4 * random())
end

-- The subscriber: one connection in SUBSCRIBE mode, a catch-up after each (re)subscribe.
local function subscribe(self)
    local d = self.dict
    local attempt = 0
    while not ngx.worker.exiting() and d:get(K.lock) == self.pid do
        local red, err = connect(self, true)
        if red then
            local res
            res, err = red:subscribe(self.keys.channel)
            if res then
                d:safe_set(K.subscribed, true)
                d:incr(K.reconnects, 1, 0)
                attempt = 0
                self.resubscribe = false
                -- Messages published meanwhile wait in the socket; the log has the rest.
                self.next_sync = 0
                sync(self)
                self.next_sync = ngx.now() + self.sync_interval
                while not ngx.worker.exiting() and not self.resubscribe
                    and d:get(K.lock) == self.pid do
                    local reply, rerr = red:read_reply()
                    if reply then
                        if reply[1] == "message" then apply(self, reply[3], K.messages) end
                    elseif rerr ~= "timeout" then
                        err = "subscription: " .. tostring(rerr)
                        break
                    end
                end
            end
            red:close()
        end
        d:safe_set(K.subscribed, false)
        if err then note_error(self, "subscribe", err) end
        if ngx.worker.exiting() or d:get(K.lock) ~= self.pid then break end
        ngx.sleep(backoff(attempt, self.backoff_max))
        attempt = attempt + 1
    end
end

local function subscribe_loop(premature, self)
    if not premature then
        local ok, err = pcall(subscribe, self)
        if not ok then ngx.log(ngx.ERR, OP, ": subscriber: ", tostring(err)) end
    end
    self.dict:safe_set(K.subscribed, false)
    self.subscriber = false
end

-- The node loop (every worker runs it; only the lock holder works).
local function tick(premature, self)
    if premature then
        if self.dict:get(K.lock) == self.pid then self.dict:delete(K.lock) end
        return
    end
    if self.running then return end
    self.running = true
    local ok, err = pcall(function()
        if not own_lock(self) then return end
        if not self.subscriber then
            self.subscriber = true
            local started, terr = ngx.timer.at(0, subscribe_loop, self)
            if not started then
                self.subscriber = false
                note_error(self, "timer", terr)
            end
        end
        local now = ngx.now()
        if now >= self.next_sync or (self.dict:llen(K.pending) or 0) > 0 then
            self.next_sync = now + self.sync_interval
            sync(self)
        end
        lease_step(self)
    end)
    self.running = false
    if not ok then ngx.log(ngx.ERR, OP, ": ", tostring(err)) end
end

local function stale_since(self)
    local d = self.dict
    local last = d:get(K.last_sync) or d:get(K.started) or ngx.now()
    return ngx.now() - last
end

-- Every worker: its own verdict on staleness (set_unavailable is per worker).
local function watch(premature, self)
    if premature then return end
    if self.on_stale ~= "closed" then return end
    local lag = stale_since(self)
    if lag > self.max_stale then
        self.store:set_unavailable(format("revocations stale: no sync with Redis for %d s",
            floor(lag)))
    else
        self.store:set_unavailable(nil)
    end
end

--- Starts this worker's timers (the store's start() calls it in init_worker_by_lua).
function Backend:start()
    local d = self.dict
    self.pid = ngx.worker.pid()
    d:safe_add(K.started, ngx.now())
    -- The node's id in the lease: random, so two hosts never share one.
    d:safe_add(K.node, core.jti())
    for _, name in ipairs(COUNTERS) do d:safe_add(K[name], 0) end
    local ok, err = ngx.timer.every(TICK, tick, self)
    if not ok then return nil, "cannot start the Redis sync: " .. tostring(err) end
    ok, err = ngx.timer.at(0, tick, self)
    if not ok then return nil, "cannot start the Redis sync: " .. tostring(err) end
    if self.on_stale == "closed" then
        ok, err = ngx.timer.every(min(1, self.max_stale / 4), watch, self)
        if not ok then return nil, "cannot start the staleness watch: " .. tostring(err) end
    end
    return true
end

--- The backend's state, as store:status().backend.
function Backend:status()
    local d = self.dict
    local last_sync = d:get(K.last_sync)
    local lag = stale_since(self)
    local s = {
        redis = self.host .. ":" .. self.port, prefix = self.keys.prefix,
        connected = d:get(K.connected) == true, subscribed = d:get(K.subscribed) == true,
        last_sync = last_sync, lag = lag, stale = lag > self.max_stale,
        max_stale = self.max_stale, on_stale = self.on_stale, cursor = d:get(K.cursor),
        last_error = d:get(K.last_error), last_error_at = d:get(K.last_error_at),
        pending = d:llen(K.pending) or 0, propagation_ms = d:get(K.last_lag),
        lease_held = d:get(K.lease) == true, polls_auth0 = self.polls_auth0,
        last_poll = d:get(K.last_poll), last_poll_error = d:get(K.last_poll_error),
        subscriber_pid = d:get(K.lock),
    }
    for _, name in ipairs(COUNTERS) do s[name] = d:get(K[name]) or 0 end
    return s
end

local METRICS = {
    { "up", "gauge", "1 when the last Redis operation of this node succeeded.", "connected" },
    { "subscribed", "gauge", "1 while this node's subscriber is subscribed.", "subscribed" },
    { "stale", "gauge", "1 after max_stale seconds without a successful sync.", "stale" },
    { "sync_lag_seconds", "gauge", "Seconds since the last successful sync.", "lag" },
    { "last_sync_timestamp_seconds", "gauge", "When the last sync succeeded.", "last_sync" },
    { "propagation_milliseconds", "gauge", "Revocation to arrival, of the last one applied.",
      "propagation_ms" },
    { "pending", "gauge", "Revocations queued for Redis.", "pending" },
    { "lease_held", "gauge", "1 when this node polls Auth0 for the fleet.", "lease_held" },
    { "errors_total", "counter", "Failed Redis operations.", "errors" },
    { "messages_total", "counter", "Revocations received by pub/sub.", "messages" },
    { "caught_up_total", "counter", "Revocations read from the log or keys in a catch-up.",
      "caught_up" },
    { "syncs_total", "counter", "Successful catch-ups.", "syncs" },
    { "full_resyncs_total", "counter", "Catch-ups that scanned every entry.", "full_resyncs" },
    { "published_total", "counter", "Revocations this node wrote into Redis.", "published" },
    { "queued_total", "counter", "Revocations queued while Redis was unreachable.", "queued" },
    { "reconnects_total", "counter", "Subscriptions made (the first one included).",
      "reconnects" },
    { "polls_total", "counter", "Polls of Auth0's blacklist by this node.", "polls" },
    { "poll_errors_total", "counter", "Failed polls of Auth0's blacklist.", "poll_errors" },
    { "seeded_total", "counter", "Entries of Auth0's blacklist new to Redis.", "seeded" },
}

--- The backend's series in Prometheus' text format (auth0_apiv2_fleet_*), one string.
function Backend:metrics()
    local s = self:status()
    local out = {}
    for _, m in ipairs(METRICS) do
        local value = s[m[4]]
        if value == true then value = 1 elseif value == false or value == nil then value = 0 end
        local name = "auth0_apiv2_fleet_" .. m[1]
        out[#out + 1] = "# HELP " .. name .. " " .. m[3]
        out[#out + 1] = "# TYPE " .. name .. " " .. m[2]
        out[#out + 1] = format("%s %.17g", name, tonumber(value) or 0)
    end
    return concat(out, "\n")
end

return M
