--- Retries of one HTTP request: which answers are worth another try, how long to wait, and
-- the loop. Only 429 (rate limited) and 5xx answers are retried; any other answer, and any
-- network failure, is final. The wait follows the server's word (Retry-After, then
-- x-ratelimit-reset), else exponential backoff with jitter, and is always capped.
local http = require "auth0.apiv2.internal.http"
local ratelimit = require "auth0.apiv2.internal.ratelimit"

local M = {}

local type, ipairs, rawget, pcall, require, error = type, ipairs, rawget, pcall, require, error
local floor, huge = math.floor, math.huge
local core_random = require("auth0.apiv2.internal.core").random

-- Jitter in [0, 1) from the core's random pool: math.random is never seeded inside nginx, so
-- every worker would draw the same sequence and retry in lockstep.
local function random()
    local a, b, c = core_random(3):byte(1, 3)
    return ((a * 256 + b) * 256 + c) / 16777216
end

M.DEFAULT_RETRIES = 3
M.MAX_RETRIES = 10
M.DEFAULT_MAX_WAIT_S = 10     -- seconds
M.BASE_DELAY_S = 0.25         -- seconds: the first backoff, doubled on each retry

-- Methods that may be sent again after a 5xx: the server may have acted on the first one.
local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

--- Whether an answer with this status is worth another try: 429 always (the request was
-- refused, not carried out); 502, 503, 504 and 500 only when sending the request twice is
-- harmless (an idempotent method, or `idempotent` set, as revoking a token is).
function M.retryable(status, method, idempotent)
    if status == 429 then return true end
    if status ~= 500 and status ~= 502 and status ~= 503 and status ~= 504 then return false end
    return idempotent == true or IDEMPOTENT[method or "GET"] == true
end

local seconds = ratelimit.seconds

--- Seconds to wait after `response` before retry number `attempt` (1 for the first retry).
-- Retry-After (seconds; an HTTP date is ignored), else x-ratelimit-reset minus now, else
-- BASE_DELAY_S * 2^(attempt-1) with jitter (between half and all of it); capped at max_wait.
-- @tparam table response `{ status, headers }` with lower-case header names
-- @tparam number attempt
-- @tparam table policy `max_wait` (seconds), `now` (function: seconds), `random` (function
--   returning [0, 1), default: the core's random pool)
-- @treturn number seconds
function M.delay(response, attempt, policy)
    local headers = response.headers or {}
    local wait = seconds(headers["retry-after"])
    if not wait then
        local reset, now = seconds(headers["x-ratelimit-reset"]), policy.now()
        if reset and reset > now then wait = reset - now end
    end
    if not wait then
        local backoff = M.BASE_DELAY_S * 2 ^ (attempt - 1)
        wait = backoff / 2 + (policy.random or random)() * backoff / 2
    end
    if wait > policy.max_wait then wait = policy.max_wait end
    return wait
end

--- The clock for rate-limit resets: fractional seconds where cheap (nginx, LuaSocket).
function M.default_now()
    local ngx = rawget(_G, "ngx")
    if type(ngx) == "table" and ngx.now then return ngx.now() end
    local ok, socket = pcall(require, "socket")
    if ok and socket.gettime then return socket.gettime() end
    return os.time()
end

--- Sleeps without blocking nginx: ngx.sleep inside it, LuaSocket's sleep elsewhere.
function M.default_sleep(s)
    local ngx = rawget(_G, "ngx")
    if type(ngx) == "table" and ngx.sleep then return ngx.sleep(s) end
    local ok, socket = pcall(require, "socket")
    if not ok then error("retry: sleeping needs LuaSocket outside nginx, or opts.sleep", 2) end
    return socket.sleep(s)
end

--- Checks and completes a policy; raises naming `fname` on misuse.
-- @tparam string fname the public function, for error messages
-- @tparam table opts `retries`, `max_wait` (seconds), `sleep`, `now`, `random`
-- @tparam[opt=3] number level for `error`: 3 blames the caller of the function that called this
-- @treturn table the policy
function M.policy(fname, opts, level)
    level = level or 3
    local retries = opts.retries
    if retries == nil then retries = M.DEFAULT_RETRIES end
    if type(retries) ~= "number" or retries ~= floor(retries) or retries < 0
        or retries > M.MAX_RETRIES then
        error(fname .. ": retries must be a whole number from 0 to " .. M.MAX_RETRIES, level)
    end
    local max_wait = opts.max_wait
    if max_wait == nil then max_wait = M.DEFAULT_MAX_WAIT_S end
    if type(max_wait) ~= "number" or max_wait < 0 or max_wait == huge or max_wait ~= max_wait then
        error(fname .. ": max_wait must be a non-negative number", level)
    end
    for _, name in ipairs({ "sleep", "now", "random" }) do
        if opts[name] ~= nil and type(opts[name]) ~= "function" then
            error(fname .. ": " .. name .. " must be a function", level)
        end
    end
    return {
        retries = retries, max_wait = max_wait,
        sleep = opts.sleep or M.default_sleep, now = opts.now or M.default_now,
        random = opts.random,
    }
end

--- Sends a request with http.request, retrying 429 and 5xx answers as the policy says.
-- @tparam table req for http.request
-- @tparam table policy from M.policy
-- @return the last response (maybe still a 429 or 5xx), or nil after a network failure
-- @return nil, or the failure's message
-- @return nil, or the failure's code (see http.request)
-- @treturn number attempts made, in both cases
-- With `policy.pacer` (auth0.apiv2.internal.pacing), the pacer waits before each attempt as
-- the rate-limit headers advise, and a 429 it agrees to wait out is not counted as a retry.
function M.request(req, policy)
    local attempt, sent, waited = 0, 0, 0
    local pacer = policy.pacer
    while true do
        attempt, sent = attempt + 1, sent + 1
        if pacer then pacer:before() end
        local response, err, code = http.request(req)
        if not response then return nil, err, code, sent end
        if pacer then pacer:after(response) end
        local wait = pacer and response.status == 429 and pacer:wait_for(response, waited)
        if wait then
            waited, attempt = waited + wait, attempt - 1
            policy.sleep(wait)
        elseif attempt > policy.retries
            or not M.retryable(response.status, req.method, req.idempotent) then
            return response, nil, nil, sent
        else
            policy.sleep(M.delay(response, attempt, policy))
        end
    end
end

return M
