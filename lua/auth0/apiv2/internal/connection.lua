--- The connection options every Management API client shares (domain or base_url, timeout,
-- retries, max_wait, ca_file, transport, sleep, now), checked once when the client is made.
local url = require "auth0.apiv2.internal.http.url"
local http = require "auth0.apiv2.internal.http"
local retry = require "auth0.apiv2.internal.retry"
local clock = require "auth0.apiv2.internal.clock"

local M = {}

local type, error = type, error
local find, gsub, match = string.find, string.gsub, string.match
local huge = math.huge

M.DEFAULT_TIMEOUT_MS = http.DEFAULT_TIMEOUT_MS   -- ms, for each of connect, send and read
M.DEFAULT_MAX_WAIT_MS = 10000              -- ms: the longest single wait before a retry

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
function M.new(fname, opts)
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
        if not url.parse_url(base_url) or find(base_url, "[?#]") then
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
    local policy = retry.policy(fname, {
        retries = opts.retries, max_wait = (opts.max_wait or M.DEFAULT_MAX_WAIT_MS) / 1000,
        sleep = opts.sleep, now = opts.now,
    }, 4)
    return {
        base_url = base_url,
        timeout = opts.timeout or M.DEFAULT_TIMEOUT_MS,
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

return M
