--- Management API calls, shared by auth0.apiv2.blacklist and auth0.apiv2.management: the
-- connection options, bearer tokens, one request with retries, and Auth0's errors as values.
-- Only 429 (rate limited) and 5xx answers are retried; any other answer, and any network
-- failure, is final. The wait follows the server's word (Retry-After, then
-- x-ratelimit-reset), else exponential backoff with jitter, and is always capped.
local http = require "auth0.apiv2.internal.http"
local json = require "auth0.apiv2.internal.json"
local clock = require "auth0.apiv2.internal.clock"
local token = require "auth0.apiv2.token"

local M = {}

local type, tonumber, tostring, ipairs, rawget, pcall, require, error, setmetatable =
    type, tonumber, tostring, ipairs, rawget, pcall, require, error, setmetatable
local find, gsub, match, sub = string.find, string.gsub, string.match, string.sub
local concat = table.concat
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
M.DEFAULT_MAX_WAIT = 10     -- seconds
M.BASE_DELAY = 0.25         -- seconds: the first backoff, doubled on each retry

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

--- The number in a rate-limit header (Retry-After, x-ratelimit-*): a non-negative decimal,
-- fractions allowed; nil for anything else, an HTTP date included.
local function seconds(value)
    local text = type(value) == "string" and match(value, "^%s*(%d+%.?%d*)%s*$")
    return text and tonumber(text) or nil
end

M.header_number = seconds

--- Seconds to wait after `response` before retry number `attempt` (1 for the first retry).
-- Retry-After (seconds; an HTTP date is ignored), else x-ratelimit-reset minus now, else
-- BASE_DELAY * 2^(attempt-1) with jitter (between half and all of it); capped at max_wait.
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
        local backoff = M.BASE_DELAY * 2 ^ (attempt - 1)
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
    if max_wait == nil then max_wait = M.DEFAULT_MAX_WAIT end
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


---------------------------------------------------------------- error values

M.DEFAULT_TIMEOUT = http.DEFAULT_TIMEOUT   -- ms, for each of connect, send and read
M.DEFAULT_MAX_WAIT_MS = 10000              -- ms: the longest single wait before a retry
-- A minted token is replaced this long before its exp, so clock skew and slow requests
-- never present an expired one.
M.MINT_RENEW_BEFORE = 60
local MAX_MESSAGE = 300          -- characters of a non-JSON error body kept in a message
-- RFC 6750's token68 characters: anything else could break the Authorization header.
local BEARER_CHARS = "^[%w%-._~+/]+=*$"
M.BEARER_CHARS = BEARER_CHARS
local RATE_FIELDS = {
    { "retry_after", "retry-after" }, { "reset", "x-ratelimit-reset" },
    { "limit", "x-ratelimit-limit" }, { "remaining", "x-ratelimit-remaining" },
}
-- The fields an error value copies from the one the token source returned.
local COPIED_FIELDS = {
    "status", "error_code", "error", "error_description", "message", "attempts", "stage",
    "retry_after", "reset", "limit", "remaining",
}

--- The metatable of error values: fields `op` ("blacklist.revoke"), `status` (HTTP status, or
-- nil when no answer came), `error_code` (Auth0's `errorCode`, the OAuth `error` of
-- /oauth/token, or one of ours: timeout, connection_refused, tls, network, protocol,
-- unavailable, invalid_response, missing_jti, malformed_token, sign_failed, no_token), `error`,
-- `error_description`, `message`, `attempts`, `stage` ("token" when getting the bearer token
-- failed), `required_scopes` (on a 403 of the management client: the catalog's scopes for the
-- endpoint), and from the rate-limit headers `retry_after`, `reset` (UNIX seconds), `limit`,
-- `remaining`.
local Error = {}
Error.__index = Error
M.Error = Error

function Error:__tostring()
    local head = self.op .. ":"
    if self.status then head = head .. " " .. self.status end
    if self.error_code then head = head .. " " .. self.error_code end
    local text = head .. ": " .. tostring(self.message or self.error or "no message")
    local notes = {}
    if self.stage == "token" then
        notes[#notes + 1] = "while getting a token from /oauth/token"
    end
    if self.attempts and self.attempts > 1 then notes[#notes + 1] = self.attempts .. " attempts" end
    if self.retry_after then notes[#notes + 1] = "retry after " .. self.retry_after .. " s" end
    if self.reset then
        -- The server chose this number: a date only when os.date can write it.
        local ok, date = pcall(os.date, "!%Y-%m-%dT%H:%M:%SZ", floor(self.reset))
        notes[#notes + 1] = "rate limit resets at "
            .. (ok and type(date) == "string" and date or tostring(self.reset))
    end
    if type(self.required_scopes) == "table" and #self.required_scopes > 0 then
        notes[#notes + 1] = "the endpoint needs one of: " .. concat(self.required_scopes, ", ")
    end
    if #notes > 0 then text = text .. " (" .. concat(notes, "; ") .. ")" end
    return text
end

--- Makes an error value of a table of fields (see Error).
function M.new_error(fields)
    return setmetatable(fields, Error)
end
local new_error = M.new_error

-- Replaces every copy of each secret in a text from the network; `secrets` is a list of
-- `{ text, label }`, e.g. `{ { bearer, "[token]" } }`.
local function scrub(text, secrets)
    text = tostring(text)
    for _, secret in ipairs(secrets or {}) do
        local value, label = secret[1], secret[2]
        if value ~= "" then
            local out, start = {}, 1
            while true do
                local i, j = find(text, value, start, true)
                if not i then break end
                out[#out + 1] = sub(text, start, i - 1) .. label
                start = j + 1
            end
            out[#out + 1] = sub(text, start)
            text = concat(out)
        end
    end
    return text
end
M.scrub = scrub

--- A printable, bounded excerpt of a body that is not Auth0's JSON error (nil when empty).
function M.excerpt(body)
    local text = gsub(sub(body or "", 1, MAX_MESSAGE), "[%c]", " ")
    return text ~= "" and text or nil
end
local excerpt = M.excerpt

--- The error for a non-2xx answer, from Auth0's error body and rate-limit headers. Reads both
-- the Management API's `{statusCode, error, message, errorCode}` and OAuth's
-- `{error, error_description}` (from /oauth/token, whose `error` becomes the `error_code`).
-- @tparam string op
-- @tparam table response from http.request
-- @tparam number attempts
-- @tparam[opt] table secrets `{ { text, label }, ... }`: each text is replaced by its label
-- @return the error value
function M.http_error(op, response, attempts, secrets)
    local body = type(response.body) == "string" and response.body or ""
    local decoded = find(body, "^%s*{") and json.decode(body)
    local err = { op = op, status = response.status, attempts = attempts }
    if type(decoded) == "table" then
        local function text(name)
            return type(decoded[name]) == "string" and scrub(decoded[name], secrets) or nil
        end
        err.error, err.error_description = text("error"), text("error_description")
        err.error_code = text("errorCode") or (err.error_description and err.error)
        err.message = text("message") or err.error_description
    else
        -- Scrub the whole body first: a cut could split a secret and leave half of it.
        err.message = excerpt(scrub(body, secrets))
    end
    for _, field in ipairs(RATE_FIELDS) do
        err[field[1]] = M.header_number(response.headers[field[2]])
    end
    return new_error(err)
end

---------------------------------------------------------------- connections

local function check_string(fname, name, value)
    if value ~= nil and (type(value) ~= "string" or value == "") then
        error(fname .. ": " .. name .. " must be a non-empty string", 4)
    end
end

local function check_duration(fname, name, value)
    if value ~= nil and (type(value) ~= "number" or value ~= value or value == huge
        or value < 0 or (name == "timeout" and value == 0)) then
        error(fname .. ": " .. name .. " must be a " .. (name == "timeout" and "positive"
            or "non-negative") .. " number of milliseconds", 4)
    end
end

--- Checks the options every Management API client shares and makes its connection.
-- @tparam string fname the public function, for error messages ("blacklist.new")
-- @tparam table opts `domain` ("tenant.auth0.com") or `base_url` (the API's URL, default
--   "https://DOMAIN/api/v2"), `timeout` (ms, default 5000), `retries` (0..10, default 3),
--   `max_wait` (ms, default 10000), `ca_file`, `transport`, `sleep` (function(seconds)),
--   `now` (function: seconds)
-- @treturn table `base_url` (no trailing slash), `timeout`, `ca_file`, `transport`, `policy`,
--   `now` (the clock for token lifetimes); the caller adds `bearer`
-- @raise on an ill-typed option or a missing domain
function M.connection(fname, opts)
    check_string(fname, "domain", opts.domain)
    check_string(fname, "base_url", opts.base_url)
    check_string(fname, "ca_file", opts.ca_file)
    if not opts.domain and not opts.base_url then
        error(fname .. ": domain (or base_url) is required", 3)
    end
    if opts.domain and not match(opts.domain, "^[%w][%w.-]*$") then
        error(fname .. ": domain must be a host name, e.g. tenant.auth0.com", 3)
    end
    local base_url
    if opts.base_url then
        base_url = gsub(opts.base_url, "/+$", "")
        if not http.parse_url(base_url) or find(base_url, "[?#]") then
            error(fname .. ": base_url must be an http(s) URL without query, "
                .. "e.g. https://tenant.auth0.com/api/v2", 3)
        end
    else
        base_url = "https://" .. opts.domain .. "/api/v2"
    end
    check_duration(fname, "timeout", opts.timeout)
    check_duration(fname, "max_wait", opts.max_wait)
    if opts.transport ~= nil and type(opts.transport) ~= "function" then
        error(fname .. ": transport must be a function", 3)
    end
    if opts.ca_file then
        local f = io.open(opts.ca_file, "rb")
        if not f then error(fname .. ": cannot read ca_file " .. opts.ca_file, 3) end
        f:close()
    end
    local policy = M.policy(fname, {
        retries = opts.retries, max_wait = (opts.max_wait or M.DEFAULT_MAX_WAIT_MS) / 1000,
        sleep = opts.sleep, now = opts.now,
    }, 4)
    return {
        base_url = base_url,
        timeout = opts.timeout or M.DEFAULT_TIMEOUT,
        ca_file = opts.ca_file,
        transport = opts.transport,
        policy = policy,
        now = opts.now or clock.now,
    }
end

--- The longest a request with all its retries can take on a connection, in seconds: each
-- attempt's connect, TLS handshake, send and read, plus the waits between attempts.
function M.longest(conn)
    local policy = conn.policy
    return (policy.retries + 1) * 4 * conn.timeout / 1000 + policy.retries * policy.max_wait + 1
end

---------------------------------------------------------------- bearer tokens

--- A token source for a fixed bearer token.
function M.fixed_bearer(jwt)
    return function() return jwt end
end

--- A token source that signs its own APIv2 token with a key object, keeps it, and signs a new
-- one MINT_RENEW_BEFORE seconds before it expires.
-- @tparam table conn from M.connection (its clock)
-- @param key a key object from token.key
-- @tparam table claims for token.new: `aud`, `scopes`, `lifetime`
-- @treturn function `() -> jwt | nil, fields`
-- @raise what token.new raises for bad claims
function M.minted_bearer(conn, key, claims)
    local template = token.new(claims)
    local lifetime, now = claims.lifetime, conn.now
    local current, renew_at
    return function()
        local t = now()
        if not current or t >= renew_at then
            local jwt, err = template:sign(key)
            if not jwt then return nil, { error_code = "sign_failed", message = tostring(err) } end
            current, renew_at = jwt, t + lifetime - M.MINT_RENEW_BEFORE
        end
        return current
    end
end

-- The error value for a token source that gave no token: its fields (an error table) or its
-- message (a string), under the caller's op.
local function bearer_error(op, err)
    local fields = { op = op }
    if type(err) == "table" then
        for _, name in ipairs(COPIED_FIELDS) do fields[name] = err[name] end
    else
        fields.error_code = "no_token"
        fields.message = "the token source gave no token: " .. tostring(err or "no reason")
    end
    fields.error_code = fields.error_code or "no_token"
    return new_error(fields)
end

---------------------------------------------------------------- requests

--- Sends one request on a connection with retries, and turns failures into error values.
-- @tparam string op the public function, e.g. "blacklist.revoke"
-- @tparam table conn from M.connection
-- @tparam table req `method`, `url`, `headers`, `body` (string)
-- @tparam[opt] table secrets `{ { text, label }, ... }`, never shown in a message
-- @treturn table the 2xx response
-- @treturn number attempts
-- @return[2] nil
-- @return[2] the error value
function M.send(op, conn, req, secrets)
    req.timeout, req.ca_file, req.transport = conn.timeout, conn.ca_file, conn.transport
    req.keepalive = conn.keepalive
    local response, err, code, attempts = M.request(req, conn.policy)
    if not response then
        return nil, new_error{ op = op, error_code = code or "network", attempts = attempts,
            message = scrub(gsub(tostring(err), "^http: ", ""), secrets) }
    end
    if response.status < 200 or response.status > 299 then
        return nil, M.http_error(op, response, attempts, secrets)
    end
    return response, attempts
end

--- Calls the Management API with the connection's bearer token (`conn.bearer`, a function
-- returning the token, or nil and an error table or message).
-- @tparam string op the public function, for error values
-- @tparam table conn from M.connection, with `bearer`
-- @tparam string method
-- @tparam string path below the base URL, with its query: "/users/auth0%7C1?fields=email"
-- @tparam[opt] string body JSON text
-- @tparam[opt] boolean idempotent whether a 5xx may be retried whatever the method
-- @tparam[opt] string content_type of the body (default application/json)
-- @treturn table the 2xx response
-- @treturn number attempts
-- @return[2] nil
-- @return[2] the error value
function M.call(op, conn, method, path, body, idempotent, content_type)
    local bearer, berr = conn.bearer()
    if not bearer then return nil, bearer_error(op, berr) end
    if type(bearer) ~= "string" or not match(bearer, BEARER_CHARS) then
        return nil, new_error{ op = op, error_code = "no_token",
            message = "the token source gave something that is not a bearer token" }
    end
    local headers = { Authorization = "Bearer " .. bearer, Accept = "application/json" }
    if body then headers["Content-Type"] = content_type or "application/json" end
    return M.send(op, conn, { method = method, url = conn.base_url .. path, headers = headers,
        body = body, idempotent = idempotent }, { { bearer, "[token]" } })
end

return M
