-- The Management API client over real HTTP and HTTPS on 127.0.0.1, against the local
-- Auth0-like server (spec/server/auth0_mock.py): its /oauth/token issues the client
-- credentials tokens and its /api/v2 checks them with its own code. The spec starts the
-- server itself, with certificates made under a fresh temporary directory.
local management = require "auth0.apiv2.management"
local token = require "auth0.apiv2.token"
local socket = require "socket"
local cjson = require "cjson"
local h = require "spec.helpers"
local sh, control, form = h.must_run, h.mock_control, h.form_decode

local PYTHON = "/usr/bin/python3"
local MOCK = "spec/server/auth0_mock.py"
local START_TIMEOUT = 15     -- s: the first start makes certificates
local DOMAIN = "tenant.example.com"
local ADMIN_ID, ADMIN_SECRET = "adminClient", "adm1n-s3cret-0123456789"
local READER_ID, READER_SECRET = "readerClient", "r3ader-s3cret-0123456789"

local function start_mock(dir)
    sh("mkdir -p " .. h.quote(dir))
    os.execute(("%s %s --port 0 --https-port 0 --tls-dir %s --tenant %s --client %s --client %s "
        .. "--ready-file %s >/dev/null 2>%s &"):format(PYTHON, MOCK, h.quote(dir .. "/tls"),
        h.quote(h.AUD .. "=" .. h.SECRET),
        h.quote(ADMIN_ID .. "=" .. ADMIN_SECRET .. ":read:users,update:users,blacklist:tokens"),
        h.quote(READER_ID .. "=" .. READER_SECRET .. ":read:users"),
        h.quote(dir .. "/ready"), h.quote(dir .. "/stderr")))
    return dir .. "/ready"
end

local wait_ready = function(ready_file) return h.wait_mock_ready(ready_file, START_TIMEOUT) end
local stop_mock = h.stop_mock

describe("the management client against a local Auth0 over HTTP and HTTPS", function()
    local tmp, server, ready

    setup(function()
        tmp = sh("mktemp -d"):gsub("%s+$", "")
        ready = start_mock(tmp .. "/main")
        server = wait_ready(ready)
    end)

    teardown(function()
        stop_mock(server, ready)
        if tmp and tmp:match("^/tmp/") then os.execute("rm -rf " .. h.quote(tmp)) end
    end)

    before_each(function()
        control(server, "POST", "/__control/reset")
    end)

    local function https_client(opts)
        opts = opts or {}
        opts.domain = opts.domain or DOMAIN
        opts.base_url = ("https://localhost:%s/api/v2"):format(server.https_port)
        opts.ca_file = server.ca_file
        if not (opts.key or opts.token or opts.client_id) then
            opts.client_id, opts.client_secret = ADMIN_ID, ADMIN_SECRET
        end
        return management.new(opts)
    end

    local function recorded()
        return control(server, "GET", "/__control/requests")
    end

    it("gets a client credentials token over HTTPS, then reads and updates a user", function()
        local mgmt = https_client()
        local user = assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        assert.are.equal("test@example.com", user.email)
        user = assert(mgmt:request("PATCH", "/users/{id}", { id = "auth0|123" },
            { app_metadata = { plan = "pro" } }))
        assert.are.same({ plan = "pro" }, user.app_metadata)
        local requests = recorded()
        assert.are.equal(3, #requests)
        assert.are.equal("/oauth/token", requests[1].path)
        assert.are.equal("https", requests[1].scheme)
        assert.are.same({ grant_type = "client_credentials", client_id = ADMIN_ID,
            client_secret = ADMIN_SECRET, audience = "https://tenant.example.com/api/v2/" },
            form(requests[1].body))
        assert.are.equal("/api/v2/users/auth0%7C123", requests[2].path)
        assert.are.equal("PATCH", requests[3].method)
        assert.are.same({ app_metadata = { plan = "pro" } }, cjson.decode(requests[3].body))
        assert.are.equal(requests[2].headers.authorization, requests[3].headers.authorization)
        local _, claims = token.decode(requests[2].headers.authorization:gsub("^Bearer ", ""))
        assert.are.equal(ADMIN_ID .. "@clients", claims.sub)
        assert.are.equal("https://tenant.example.com/api/v2/", claims.aud)
    end)

    it("works over plain HTTP too, with query parameters", function()
        local mgmt = management.new{ domain = DOMAIN, base_url = server.http .. "/api/v2",
            client_id = ADMIN_ID, client_secret = ADMIN_SECRET }
        local user = assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }, nil,
            { fields = "email,user_id", include_fields = true }))
        assert.are.equal("auth0|123", user.user_id)
        local requests = recorded()
        assert.are.equal("http", requests[2].scheme)
        assert.are.equal("fields=email%2Cuser_id&include_fields=true", requests[2].query)
    end)

    it("fetches a new token 10 s before the old one expires", function()
        local now = os.time()
        local mgmt = https_client({ now = function() return now end })
        assert.is_truthy(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        now = now + 86400 - 11
        assert.is_truthy(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        now = now + 1
        assert.is_truthy(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        local paths = {}
        for i, req in ipairs(recorded()) do paths[i] = req.path end
        assert.are.same({ "/oauth/token", "/api/v2/users/auth0%7C123", "/api/v2/users/auth0%7C123",
            "/oauth/token", "/api/v2/users/auth0%7C123" }, paths)
    end)

    it("returns a 404 as a value", function()
        local value, err = https_client():request("GET", "/users/{id}", { id = "auth0|999" })
        assert.is_nil(value)
        assert.are.equal("management.request: 404 inexistent_user: The user does not exist.",
            tostring(err))
    end)

    it("names the scopes the endpoint needs on a 403", function()
        local mgmt = https_client({ client_id = READER_ID, client_secret = READER_SECRET })
        local value, err = mgmt:request("PATCH", "/users/{id}", { id = "auth0|123" },
            { app_metadata = { plan = "pro" } })
        assert.is_nil(value)
        assert.are.equal("management.request: 403 insufficient_scope: Insufficient scope, "
            .. "expected any of: update:users,update:users_app_metadata (the endpoint needs one "
            .. "of: update:users, update:users_app_metadata)", tostring(err))
        assert.are.same({ "update:users", "update:users_app_metadata" }, err.required_scopes)
    end)

    it("returns the /oauth/token error for a wrong secret, without the secret", function()
        local mgmt = https_client({ client_id = ADMIN_ID, client_secret = "wrong-secret-xyz" })
        local value, err = mgmt:request("GET", "/users/{id}", { id = "auth0|123" })
        assert.is_nil(value)
        assert.are.equal(401, err.status)
        assert.are.equal("access_denied", err.error)
        assert.are.equal("Unauthorized", err.error_description)
        assert.are.equal("management.request: 401 access_denied: Unauthorized (while getting "
            .. "a token from /oauth/token)", tostring(err))
        assert.is_nil(tostring(err):find("wrong-secret-xyz", 1, true))
        assert.are.equal(1, #recorded())
    end)

    it("revokes through mgmt:blacklist() with the same token", function()
        local mgmt = https_client()
        assert.is_truthy(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        local bl = mgmt:blacklist()
        assert.is_true(bl:revoke({ jti = "victim-1", aud = h.AUD }))
        assert.are.same({ { aud = h.AUD, jti = "victim-1" } }, bl:list())
        local requests = recorded()
        assert.are.equal(4, #requests)
        assert.are.equal("/api/v2/blacklists/tokens", requests[3].path)
        assert.are.equal(requests[2].headers.authorization, requests[3].headers.authorization)
    end)

    it("signs its own APIv2 token in key mode", function()
        local mgmt = https_client({ key = token.key(h.SECRET), aud = h.AUD,
            scopes = { "read:users" } })
        assert.are.equal("test@example.com",
            mgmt:request("GET", "/users/{id}", { id = "auth0|123" }).email)
        local _, err = mgmt:request("PATCH", "/users/{id}", { id = "auth0|123" }, { name = "x" })
        assert.are.equal("insufficient_scope", err.error_code)
        local requests = recorded()
        assert.are.equal(2, #requests)
        assert.are.equal(requests[1].headers.authorization, requests[2].headers.authorization)
    end)

    it("waits out a 429 on the API, with the same retry rules as the blacklist", function()
        control(server, "POST", "/__control/ratelimit", { count = 2, retry_after = 0.05,
            reset_in = 5 })
        local started = socket.gettime()
        assert.is_truthy(https_client():request("GET", "/users/{id}", { id = "auth0|123" }))
        assert.is_true(socket.gettime() - started >= 0.1)
        assert.are.equal(4, #recorded())     -- /oauth/token is never limited by the server
    end)

    it("times out on a token endpoint that does not answer", function()
        control(server, "POST", "/__control/delay", { seconds = 2 })
        local started = socket.gettime()
        local value, err = https_client({ timeout = 300 }):request("GET", "/users")
        control(server, "POST", "/__control/delay", { seconds = 0 })
        assert.is_nil(value)
        assert.are.equal("timeout", err.error_code, tostring(err))
        assert.are.equal("token", err.stage)
        assert.is_true(socket.gettime() - started < 1.5)
    end)

    it("refuses a server whose certificate comes from an unknown CA", function()
        local other_ca = server.ca_file:gsub("ca%.pem$", "other-ca.pem")
        local mgmt = management.new{ domain = DOMAIN, client_id = ADMIN_ID,
            client_secret = ADMIN_SECRET, ca_file = other_ca,
            base_url = ("https://localhost:%s/api/v2"):format(server.https_port) }
        local _, err = mgmt:request("GET", "/users/{id}", { id = "auth0|123" })
        assert.are.equal("tls", err.error_code)
        assert.are.equal("token", err.stage)
        assert.are.equal(0, #recorded())
    end)
end)
