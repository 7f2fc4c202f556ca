-- The blacklist helper over real HTTP and HTTPS on 127.0.0.1, against the local Auth0-like
-- server (spec/server/auth0_mock.py), which checks tokens with its own code. The specs start it
-- themselves, with certificates made under a fresh temporary directory.
local blacklist = require "auth0.apiv2.blacklist"
local token = require "auth0.apiv2.token"
local socket = require "socket"
local cjson = require "cjson"
local h = require "spec.helpers"
local sh, control = h.must_run, h.mock_control

local PYTHON = "/usr/bin/python3"
local MOCK = "spec/server/auth0_mock.py"
local START_TIMEOUT = 15     -- s: the first start makes certificates

-- An unrelated 48-byte secret: tokens signed with it must be refused.
local WRONG_SECRET = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy"

-- Starts the mock server in the background; `wait_ready` then returns its ready line.
local function start_mock(dir, tls_dir)
    sh("mkdir -p " .. h.quote(dir))
    os.execute(("%s %s --port 0 --https-port 0 --tls-dir %s --tenant %s --ready-file %s "
        .. ">/dev/null 2>%s &"):format(PYTHON, MOCK, h.quote(tls_dir),
        h.quote(h.AUD .. "=" .. h.SECRET), h.quote(dir .. "/ready"), h.quote(dir .. "/stderr")))
    return dir .. "/ready"
end

local wait_ready = function(ready_file) return h.wait_mock_ready(ready_file, START_TIMEOUT) end
local stop_mock = h.stop_mock

-- A server certificate for another name, signed by the CA the client trusts.
local function make_wrong_name_certificates(tls_dir)
    sh(PYTHON .. " " .. MOCK .. " --gen-ca " .. h.quote(tls_dir) .. " >/dev/null")
    local ext = tls_dir .. "/wrong.ext"
    local f = assert(io.open(ext, "w"))
    f:write("basicConstraints = critical,CA:FALSE\nextendedKeyUsage = serverAuth\n"
        .. "subjectAltName = DNS:wrong.example\n")
    f:close()
    local q = function(name) return h.quote(tls_dir .. "/" .. name) end
    sh(("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout %s "
        .. "-out %s -subj /CN=wrong.example 2>/dev/null"):format(q("server.key"), q("wrong.csr")))
    sh(("openssl x509 -req -in %s -CA %s -CAkey %s -set_serial 0x1f2e3d -days 30 -out %s "
        .. "-extfile %s 2>/dev/null"):format(q("wrong.csr"), q("ca.pem"), q("ca.key"),
        q("server.pem"), h.quote(ext)))
end

local function token_with(scopes, secret)
    return token.new{ aud = h.AUD, scopes = scopes }:sign(secret or h.SECRET)
end

local function free_port()
    local server = assert(socket.bind("127.0.0.1", 0))
    local _, port = server:getsockname()
    server:close()
    return port
end

describe("the blacklist against a local Auth0 over HTTP and HTTPS", function()
    local tmp, server, wrong_server, ready, wrong_ready

    setup(function()
        tmp = sh("mktemp -d"):gsub("%s+$", "")
        ready = start_mock(tmp .. "/main", tmp .. "/main/tls")
        make_wrong_name_certificates(tmp .. "/wrong/tls")
        wrong_ready = start_mock(tmp .. "/wrong", tmp .. "/wrong/tls")
        server = wait_ready(ready)
        wrong_server = wait_ready(wrong_ready)
    end)

    teardown(function()
        stop_mock(server, ready)
        stop_mock(wrong_server, wrong_ready)
        if tmp and tmp:match("^/tmp/") then os.execute("rm -rf " .. h.quote(tmp)) end
    end)

    before_each(function()
        control(server, "POST", "/__control/reset")
    end)

    -- A client of the main server; `host` is localhost (matched by name) or 127.0.0.1 (by IP).
    local function https_client(opts, host)
        opts = opts or {}
        opts.base_url = ("https://%s:%s/api/v2"):format(host or "localhost", server.https_port)
        if opts.ca_file == nil then opts.ca_file = server.ca_file end
        if opts.ca_file == false then opts.ca_file = nil end
        if not opts.key and not opts.token then opts.token = token_with({ "blacklist:tokens" }) end
        return blacklist.new(opts)
    end

    local function recorded()
        return control(server, "GET", "/__control/requests")
    end

    it("revokes a token over HTTPS, then lists it", function()
        local admin = token_with({ "blacklist:tokens" })
        local bl = https_client({ token = admin })
        local victim = token_with({ "read:users" })
        local _, claims = token.decode(victim)
        assert.is_true(bl:revoke(victim))
        assert.are.same({ { aud = h.AUD, jti = claims.jti } }, bl:list())
        local requests = recorded()
        assert.are.equal(2, #requests)
        assert.are.equal("https", requests[1].scheme)
        assert.are.equal("POST", requests[1].method)
        assert.are.equal("/api/v2/blacklists/tokens", requests[1].path)
        assert.are.equal("Bearer " .. admin, requests[1].headers.authorization)
        assert.are.same({ jti = claims.jti, aud = h.AUD }, cjson.decode(requests[1].body))
    end)

    it("works over plain HTTP too", function()
        local bl = blacklist.new{ base_url = server.http .. "/api/v2",
            token = token_with({ "blacklist:tokens" }) }
        assert.is_true(bl:revoke({ jti = "plain-1", aud = "someone" }))
        assert.are.same({ { aud = "someone", jti = "plain-1" } }, bl:list())
        assert.are.equal("http", recorded()[1].scheme)
    end)

    it("checks the certificate by IP address as well as by name", function()
        assert.are.same({}, https_client(nil, "127.0.0.1"):list())
    end)

    it("mints its own token from the key and aud", function()
        local key = token.key(h.SECRET)
        local bl = https_client({ key = key, aud = h.AUD })
        assert.is_true(bl:revoke({ jti = "minted-1" }))
        assert.are.same({ { aud = h.AUD, jti = "minted-1" } }, bl:list())
        local requests = recorded()
        assert.are.equal(requests[1].headers.authorization, requests[2].headers.authorization)
    end)

    it("lists one tenant's tokens when given its aud", function()
        local bl = https_client()
        assert.is_true(bl:revoke({ jti = "1", aud = h.AUD }))
        assert.is_true(bl:revoke({ jti = "2", aud = "other tenant" }))
        assert.are.same({ { aud = "other tenant", jti = "2" } }, bl:list({ aud = "other tenant" }))
        assert.are.equal("aud=other%20tenant", recorded()[3].query)
    end)

    it("refuses a revoked admin token afterwards", function()
        local admin = token_with({ "blacklist:tokens" })
        local bl = https_client({ token = admin })
        assert.is_true(bl:revoke(admin))
        local list, err = bl:list()
        assert.is_nil(list)
        assert.are.equal(401, err.status)
        assert.are.equal("invalid_token", err.error_code)
        assert.are.equal("blacklist.list: 401 invalid_token: Invalid token", tostring(err))
    end)

    it("reports a token without the blacklist:tokens scope, without retrying", function()
        local bl = https_client({ token = token_with({ "read:users" }) })
        local ok, err = bl:revoke({ jti = "x" })
        assert.is_nil(ok)
        assert.are.equal("blacklist.revoke: 403 insufficient_scope: Insufficient scope, expected "
            .. "any of: blacklist:tokens", tostring(err))
        assert.are.equal(1, #recorded())
    end)

    it("reports a token signed with the wrong secret", function()
        local wrong = token_with({ "blacklist:tokens" }, WRONG_SECRET)
        local _, err = https_client({ token = wrong }):list()
        assert.are.equal(401, err.status)
        assert.are.equal("invalid_token", err.error_code)
        assert.is_nil(tostring(err):find(wrong, 1, true))
    end)

    it("waits out a 429 and then succeeds", function()
        control(server, "POST", "/__control/ratelimit", { count = 2, retry_after = 0.05,
            reset_in = 5 })
        local started = socket.gettime()
        assert.is_true(https_client():revoke({ jti = "after-429" }))
        assert.is_true(socket.gettime() - started >= 0.1)
        assert.are.equal(3, #recorded())
    end)

    it("waits until x-ratelimit-reset when the 429 has no Retry-After", function()
        control(server, "POST", "/__control/ratelimit", { count = 1, reset_in = 2 })
        local slept = {}
        local bl = https_client({ sleep = function(s) slept[#slept + 1] = s end })
        assert.is_true(bl:revoke({ jti = "after-reset" }))
        assert.are.equal(1, #slept)
        assert.is_true(slept[1] > 1.5 and slept[1] <= 3, "waited " .. slept[1])
    end)

    it("gives up on a 429 that never ends, in bounded time, and says when it resets", function()
        control(server, "POST", "/__control/ratelimit", { count = -1, retry_after = 30,
            reset_in = 60 })
        local started = socket.gettime()
        local ok, err = https_client({ max_wait = 100, retries = 3 }):list()
        local elapsed = socket.gettime() - started
        assert.is_nil(ok)
        assert.is_true(elapsed >= 0.3 and elapsed < 3, "took " .. elapsed .. " s")
        assert.are.equal(429, err.status)
        assert.are.equal("too_many_requests", err.error_code)
        assert.are.equal(4, err.attempts)
        assert.are.equal(30, err.retry_after)
        assert.is_true(math.abs(err.reset - (os.time() + 60)) <= 2)
        assert.are.equal(0, err.remaining)
        assert.is_truthy(tostring(err):find("rate limit resets at ", 1, true))
        assert.are.equal(4, #recorded())
    end)

    it("retries a 503", function()
        control(server, "POST", "/__control/ratelimit", { count = 1, status = 503,
            retry_after = 0 })
        assert.is_true(https_client():revoke({ jti = "after-503" }))
        assert.are.equal(2, #recorded())
    end)

    it("times out on a server that does not answer", function()
        control(server, "POST", "/__control/delay", { seconds = 2 })
        local started = socket.gettime()
        local ok, err = https_client({ timeout = 300 }):list()
        assert.is_nil(ok)
        assert.are.equal("timeout", err.error_code, tostring(err))
        assert.is_nil(err.status)
        assert.are.equal(1, err.attempts)
        assert.is_true(socket.gettime() - started < 1.5)
        control(server, "POST", "/__control/delay", { seconds = 0 })
    end)

    it("reports a refused connection", function()
        local bl = blacklist.new{ base_url = "http://127.0.0.1:" .. free_port() .. "/api/v2",
            token = token_with({ "blacklist:tokens" }) }
        local _, err = bl:list()
        assert.are.equal("connection_refused", err.error_code)
        assert.is_truthy(tostring(err):find("connection refused", 1, true))
    end)

    it("refuses a server whose certificate comes from an unknown CA", function()
        local other_ca = server.ca_file:gsub("ca%.pem$", "other-ca.pem")
        for _, ca_file in ipairs({ other_ca, false }) do     -- false: the system's CAs
            local _, err = https_client({ ca_file = ca_file }):list()
            assert.are.equal("tls", err.error_code)
            assert.is_truthy(err.message:find("certificate verify failed", 1, true), err.message)
        end
        assert.are.equal(0, #recorded())
    end)

    it("refuses a trusted certificate issued for another name", function()
        for _, host in ipairs({ "localhost", "127.0.0.1" }) do
            local bl = blacklist.new{ token = token_with({ "blacklist:tokens" }),
                base_url = ("https://%s:%s/api/v2"):format(host, wrong_server.https_port),
                ca_file = wrong_server.ca_file }
            local _, err = bl:list()
            assert.are.equal("tls", err.error_code)
            assert.are.equal(("blacklist.list: tls: TLS handshake with %s:%s failed: the "
                .. "certificate is not valid for %s"):format(host, wrong_server.https_port, host),
                tostring(err))
        end
        assert.are.equal(0, #control(wrong_server, "GET", "/__control/requests"))
    end)
end)
