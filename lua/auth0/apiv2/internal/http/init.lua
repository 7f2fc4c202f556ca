--- The one HTTP/1.1 client of auth0.apiv2, TLS always verified; with `keepalive` connections
-- are kept for the next request to the same place (http/luasocket.lua's pool, nginx's pools).
-- Inside nginx it uses OpenResty's cosockets (http/cosocket.lua, and never LuaSocket, which
-- would block the worker); elsewhere LuaSocket and LuaSec (http/luasocket.lua), required only
-- when first needed. `transport` replaces both (tests, hosts with their own HTTP client).
local url = require "auth0.apiv2.internal.http.url"
local wire = require "auth0.apiv2.internal.http.wire"
local cosocket = require "auth0.apiv2.internal.http.cosocket"
local luasocket = require "auth0.apiv2.internal.http.luasocket"

local M = {}

local type, tostring, pairs, error = type, tostring, pairs, error
local format, lower = string.format, string.lower
local huge = math.huge

M.DEFAULT_TIMEOUT_MS = 5000          -- ms, for each of connect, send and read

-- A transport's answer, checked and with lower-case header names.
local function normalise(response)
    if type(response) ~= "table" or type(response.status) ~= "number" then
        return wire.fail("protocol", "the transport returned no response")
    end
    local headers = {}
    for name, value in pairs(response.headers or {}) do headers[lower(name)] = value end
    return { status = response.status, headers = headers, body = response.body or "" }
end

--- Sends one request and reads the whole answer. No retries here (see auth0.apiv2.internal.retry).
-- @tparam table req `method` ("GET"), `url` (http or https), `headers` (name -> value),
--   `body` (string), `timeout` (ms for each of connect, send and read; default 5000),
--   `ca_file` (PEM file of trusted CAs for LuaSec; inside nginx `lua_ssl_trusted_certificate`
--   applies instead), `keepalive` (keep the connection for the next request to the same
--   scheme, host and port), `transport` (function(req) -> response | nil, err: replaces the
--   network; see docs/management.md)
-- @treturn table `{ status = 204, headers = { ["content-type"] = ... }, body = "" }`
-- @treturn[2] nil
-- @treturn[2] string what failed, e.g. "http: connect to 127.0.0.1:9: connection refused"
-- @treturn[2] string a code: timeout, connection_refused, tls, network, protocol, unavailable
-- @raise when the request itself is malformed (url, method, headers, timeout)
function M.request(req)
    if type(req) ~= "table" then error("http.request: request must be a table", 2) end
    local timeout = req.timeout
    if timeout == nil then timeout = M.DEFAULT_TIMEOUT_MS end
    if type(timeout) ~= "number" or timeout <= 0 or timeout == huge or timeout ~= timeout then
        error("http.request: timeout must be a positive number of milliseconds", 2)
    end
    if req.ca_file ~= nil and type(req.ca_file) ~= "string" then
        error("http.request: ca_file must be a string", 2)
    end
    local u, uerr = url.parse_url(req.url)
    if not u then error("http.request: " .. uerr, 2) end
    local text = wire.request_text(req, u)
    if req.transport ~= nil then
        if type(req.transport) ~= "function" then
            error("http.request: transport must be a function", 2)
        end
        local copy = {}
        for k, v in pairs(req) do copy[k] = v end
        copy.method, copy.timeout, copy.transport = req.method or "GET", timeout, nil
        local response, err, code = req.transport(copy)
        if not response then return nil, tostring(err or "transport failed"), code end
        return normalise(response)
    end
    local plain = { method = req.method, timeout = timeout, ca_file = req.ca_file,
        keepalive = req.keepalive }
    local where = format("%s:%d", u.ipv6 and ("[" .. u.host .. "]") or u.host, u.port)
    local ngx = cosocket.nginx()
    if ngx then
        local _, usable = cosocket.in_nginx()
        if not usable then
            local phase = ngx.get_phase and ngx.get_phase() or "unknown"
            return wire.fail("unavailable", "cosockets are not available in nginx's " .. phase
                .. " phase (use a timer, or the rewrite, access or content phase)")
        end
        return cosocket.request(ngx, plain, u, text, where)
    end
    return luasocket.request(plain, u, text, where)
end

M.close_idle = luasocket.close_idle

return M
