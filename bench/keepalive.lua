-- A bulk loop of Management API calls over HTTPS against the local Auth0-like server, with
-- and without keep-alive: prints "<mode> <calls/s> calls/s <connections>" lines.
-- Usage: keepalive.lua HTTPS_PORT CA_FILE CLIENT_ID CLIENT_SECRET N CONTROL_URL
local management = require "auth0.apiv2.management"
local socket = require "socket"
local socket_http = require "socket.http"

local port, ca_file, id, secret, n, control = arg[1], arg[2], arg[3], arg[4],
    tonumber(arg[5]), arg[6]

local function connections()
    local body = socket_http.request(control .. "/__control/connections")
    return tonumber(body:match('"https":(%d+)'))
end

for _, keepalive in ipairs({ false, true }) do
    local mgmt = management.new{ domain = "tenant.example.com", client_id = id,
        client_secret = secret, ca_file = ca_file, keepalive = keepalive,
        base_url = ("https://localhost:%s/api/v2"):format(port) }
    assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))   -- the token, outside
    management.close_idle()
    local before = connections()
    local started = socket.gettime()
    for _ = 1, n do assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" })) end
    local elapsed = socket.gettime() - started
    print(("%s %.0f calls/s %d"):format(keepalive and "keepalive" or "close", n / elapsed,
        connections() - before))
end
