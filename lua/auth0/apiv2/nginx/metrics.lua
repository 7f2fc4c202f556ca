--- The guard's metrics, in a lua_shared_dict, shown in Prometheus' text format.
--
-- Counting on the request path touches no shared memory: each worker adds to its own Lua
-- tables, and a timer of each worker (every `flush` seconds, default 1) adds them into the
-- dict with one `incr` per changed series; serve() flushes its own worker first. So a figure
-- may lag by up to `flush` seconds in the other workers, and a worker that is killed (not
-- stopped) loses at most that much. A shared-dict `incr` per series per request would cost
-- several of these per request, each taking the dict's lock.
--
-- Series (all counters but the gauges of the revocation store):
--   auth0_apiv2_requests_total{status="401",outcome="expired"}   one per outcome
--   auth0_apiv2_verifier_cache_total{result="hit"|"miss"}
--   auth0_apiv2_check_duration_seconds{_bucket{le=..},_sum,_count}  the guard's decision time
--   auth0_apiv2_revocations_*                                     from the revocation store
-- luacheck: globals ngx
local options = require "auth0.apiv2.internal.options"
local revocations = require "auth0.apiv2.nginx.revocations"

local M = {}

local type, pairs, ipairs, tostring, error, setmetatable, pcall, require =
    type, pairs, ipairs, tostring, error, setmetatable, pcall, require
local concat, sort = table.concat, table.sort
local format, gsub = string.format, string.gsub

M.DEFAULT_FLUSH = 1
M.BUCKETS_MAX = 1000            -- a histogram's bounds (each is a series in the dict)
-- Seconds: a cached check takes about a microsecond, an uncached one a few.
M.DEFAULT_BUCKETS = { 0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001,
                      0.00025, 0.001, 0.01 }

local OP = "auth0.apiv2.nginx.metrics"
local OPTIONS = { dict = true, flush = true, buckets = true, latency = true }

local REQUESTS = "auth0_apiv2_requests_total"
local CACHE = "auth0_apiv2_verifier_cache_total"
local DURATION = "auth0_apiv2_check_duration_seconds"

-- A precise monotonic clock (nginx's ngx.now has millisecond steps and only moves between
-- events): clock_gettime through LuaJIT's FFI (the vDSO, no system call).
local function monotonic_clock()
    local ok, ffi = pcall(require, "ffi")
    if not ok then return nil end
    local defined = pcall(ffi.cdef, [[
        struct auth0_apiv2_timespec { long tv_sec; long tv_nsec; };
        int clock_gettime(int clock_id, struct auth0_apiv2_timespec *tp);
    ]])
    if not defined then return nil end
    local ts = ffi.new("struct auth0_apiv2_timespec")
    local C, tonumber = ffi.C, tonumber
    local ok_call = pcall(function() return C.clock_gettime(1, ts) end)
    if not ok_call then return nil end
    return function()
        C.clock_gettime(1, ts)              -- CLOCK_MONOTONIC
        return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
    end
end
M.clock = monotonic_clock()

local Metrics = {}
Metrics.__index = Metrics

-- The histogram bucket of a duration: the index of the first bound it does not exceed, else
-- #buckets + 1. Written out once per bucket list: a loop on the path of every request ends
-- LuaJIT's trace of that path there.
local load_text = rawget(_G, "loadstring") or load
local function bucket_finder(buckets)
    local src = { "local b = ...\nreturn function(s)" }
    for i = 1, #buckets do
        src[#src + 1] = format("if not (s > b[%d]) then return %d end", i, i)
    end
    src[#src + 1] = format("return %d\nend", #buckets + 1)
    return load_text(concat(src, "\n"), "=" .. OP .. " buckets")(buckets)
end

-- Prometheus label values: backslash, double quote and newline escaped.
local function label(value)
    return (gsub(tostring(value), '[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

--- Makes the metrics of a guard.
-- @param opts a lua_shared_dict name, or a table: `dict`, `flush` (seconds, default 1),
--   `buckets` (upper bounds in seconds, increasing), `latency` (false: no histogram)
-- @raise on a missing dict or a bad option
function M.new(opts)
    if type(opts) == "string" then opts = { dict = opts } end
    options.check(OP, opts, OPTIONS, 2)
    local dict = revocations.shared_dict(OP, opts.dict, "1m")
    local flush = opts.flush or M.DEFAULT_FLUSH
    if type(flush) ~= "number" or not (flush > 0 and flush <= 3600) then
        error(OP .. ": flush must be a number of seconds from 0 to 3600", 2)
    end
    local buckets = opts.buckets or M.DEFAULT_BUCKETS
    if type(buckets) ~= "table" or #buckets == 0 then
        error(OP .. ": buckets must be a list of increasing numbers", 2)
    end
    if #buckets > M.BUCKETS_MAX then
        error(OP .. ": buckets: at most " .. M.BUCKETS_MAX .. " bounds", 2)
    end
    for i, b in ipairs(buckets) do
        if type(b) ~= "number" or b ~= b or b <= 0 or (i > 1 and b <= buckets[i - 1]) then
            error(OP .. ": buckets must be a list of increasing numbers", 2)
        end
    end
    if opts.latency ~= nil and type(opts.latency) ~= "boolean" then
        error(OP .. ": latency must be a boolean", 2)
    end
    local bucket_keys = {}
    for i = 1, #buckets do bucket_keys[i] = "h:" .. i end
    bucket_keys[#buckets + 1] = "h:inf"
    return setmetatable({
        name = opts.dict, dict = dict, flush_interval = flush, buckets = buckets,
        bucket_keys = bucket_keys, bucket_of = bucket_finder(buckets),
        clock = opts.latency ~= false and M.clock or nil,
        pending = {}, histogram = {}, sum = 0, observed = 0, started = false,
        outcome_keys = {}, sources = {},
    }, Metrics)
end

--- The key of an outcome's counter, made once per outcome.
function Metrics:outcome_key(status, outcome)
    local by_status = self.outcome_keys[status]
    if not by_status then
        by_status = {}
        self.outcome_keys[status] = by_status
    end
    local key = by_status[outcome]
    if not key then
        key = format('c:%s{status="%d",outcome="%s"}', REQUESTS, status, label(outcome))
        by_status[outcome] = key
    end
    return key
end

--- Counts one request under a key from outcome_key (this worker, no shared memory).
function Metrics:count(key)
    local pending = self.pending
    pending[key] = (pending[key] or 0) + 1
end

--- Adds one duration (seconds) to the histogram.
function Metrics:observe(seconds)
    local i = self.bucket_of(seconds)
    local h = self.histogram
    h[i] = (h[i] or 0) + 1
    self.sum = self.sum + seconds
    self.observed = self.observed + 1
end

--- A source of counters read at each flush: `fn()` returns a table of { key = total } of
-- this worker (totals, not increments: the flush adds the difference).
function Metrics:add_source(fn)
    self.sources[#self.sources + 1] = { fn = fn, last = {} }
end

--- Adds this worker's counts into the dict.
function Metrics:flush()
    local dict = self.dict
    local pending = self.pending
    self.pending = {}
    for key, n in pairs(pending) do dict:incr(key, n, 0) end
    if self.observed > 0 then
        local h, keys = self.histogram, self.bucket_keys
        for i, n in pairs(h) do dict:incr(keys[i], n, 0) end
        dict:incr("h:sum", self.sum, 0)
        dict:incr("h:count", self.observed, 0)
        self.histogram, self.sum, self.observed = {}, 0, 0
    end
    for _, source in ipairs(self.sources) do
        local ok, totals = pcall(source.fn)
        if ok and type(totals) == "table" then
            for key, total in pairs(totals) do
                local delta = total - (source.last[key] or 0)
                if delta > 0 then dict:incr(key, delta, 0) end
                source.last[key] = total
            end
        end
    end
end

--- Starts this worker's flush timer (init_worker_by_lua, or later; again is harmless).
function Metrics:start()
    if self.started then return true end
    self.started = true
    local function tick(premature)
        local ok, err = pcall(self.flush, self)
        if not ok then ngx.log(ngx.ERR, OP, ": flush failed: ", tostring(err)) end
        if premature then return end
    end
    local ok, err = ngx.timer.every(self.flush_interval, tick)
    if not ok then return nil, "cannot start the metrics flush: " .. tostring(err) end
    return true
end

local function number(value)
    if value == math.huge then return "+Inf" end
    if value == math.floor(value) and value < 2 ^ 53 and value > -2 ^ 53 then
        return format("%d", value)
    end
    return format("%.15g", value)
end

local function family(out, name, kind, help)
    out[#out + 1] = "# HELP " .. name .. " " .. help
    out[#out + 1] = "# TYPE " .. name .. " " .. kind
end

local function cache_key(result) return format('c:%s{result="%s"}', CACHE, result) end
M.CACHE_HIT, M.CACHE_MISS = cache_key("hit"), cache_key("miss")

--- The metrics as Prometheus text (version 0.0.4), after flushing this worker.
-- @tparam[opt] table store a revocation store whose status to add
-- @treturn string
function Metrics:render(store)
    self:flush()
    local dict = self.dict
    local out = {}
    local counters = {}
    for _, key in ipairs(dict:get_keys(0)) do
        if key:sub(1, 2) == "c:" then counters[#counters + 1] = key end
    end
    sort(counters)
    local by_family = {}
    for _, key in ipairs(counters) do
        local series = key:sub(3)
        local name = series:match("^[%w_]+")
        by_family[name] = by_family[name] or {}
        local list = by_family[name]
        list[#list + 1] = series .. " " .. number(dict:get(key) or 0)
    end
    family(out, REQUESTS, "counter", "Requests the guard decided, by status and outcome.")
    for _, line in ipairs(by_family[REQUESTS] or {}) do out[#out + 1] = line end
    family(out, CACHE, "counter", "Verified-token cache lookups of the guard's verifier.")
    local cache_lines = by_family[CACHE] or {}
    if #cache_lines == 0 then
        cache_lines = { M.CACHE_HIT:sub(3) .. " 0", M.CACHE_MISS:sub(3) .. " 0" }
    end
    for _, line in ipairs(cache_lines) do out[#out + 1] = line end
    if self.clock then
        family(out, DURATION, "histogram", "Time the guard took to decide, in seconds.")
        local cumulative = 0
        for i, bound in ipairs(self.buckets) do
            cumulative = cumulative + (dict:get(self.bucket_keys[i]) or 0)
            out[#out + 1] = format('%s_bucket{le="%.10g"} %s', DURATION, bound,
                number(cumulative))
        end
        cumulative = cumulative + (dict:get("h:inf") or 0)
        out[#out + 1] = format('%s_bucket{le="+Inf"} %s', DURATION, number(cumulative))
        out[#out + 1] = DURATION .. "_sum " .. number(dict:get("h:sum") or 0)
        out[#out + 1] = DURATION .. "_count " .. number(dict:get("h:count") or 0)
    end
    if store then
        local s = store:status()
        local function gauge(name, kind, help, value)
            if value == nil then return end
            family(out, "auth0_apiv2_revocations_" .. name, kind, help)
            out[#out + 1] = "auth0_apiv2_revocations_" .. name .. " " .. number(value)
        end
        gauge("recorded_total", "counter", "Revocations written into the dict.", s.recorded)
        gauge("refused_full_total", "counter", "Revocations a full dict refused.",
            s.refused_full)
        gauge("refreshes_total", "counter", "Successful copies of Auth0's blacklist.",
            s.refreshes)
        gauge("refresh_errors_total", "counter", "Failed copies of Auth0's blacklist.",
            s.refresh_errors)
        gauge("last_refresh_timestamp_seconds", "gauge", "When the last copy succeeded.",
            s.last_refresh or 0)
        gauge("dict_free_bytes", "gauge", "Free bytes in the revocation dict.", s.free_bytes)
        gauge("dict_capacity_bytes", "gauge", "Size of the revocation dict.", s.capacity)
        gauge("unavailable", "gauge", "1 when this worker's lookups fail (store unavailable).",
            s.unavailable and 1 or 0)
        -- A backend's own series (the Redis backend: auth0_apiv2_fleet_*).
        if store.backend and store.backend.metrics then
            out[#out + 1] = store.backend:metrics()
        end
    end
    out[#out + 1] = ""
    return concat(out, "\n")
end

return M
