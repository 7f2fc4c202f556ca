-- The HTTP client (auth0.apiv2.internal.http and its parts) without a network: a fake `ngx`
-- plays OpenResty's cosockets (spec/util/fake_ngx.lua), an injected transport the rest. The
-- real exchanges are in blacklist_http_spec, management_http_spec and spec/openresty/run.
local http = require "auth0.apiv2.internal.http"
local blacklist = require "auth0.apiv2.blacklist"
local certname = require "auth0.apiv2.internal.http.certname"
local h = require "spec.helpers"
local auth0 = require "spec.util.fake_auth0"
local fake = require "spec.util.fake_ngx"
local error_of = h.error_of
local fake_ngx = fake.cosocket

local BASE = auth0.BASE
local URL = BASE .. "/blacklists/tokens"
local admin_token = auth0.admin_token

describe("http.request inside nginx", function()
    local function with_ngx(opts, f)
        local ngx, log = fake_ngx(opts)
        rawset(_G, "ngx", ngx)
        local ok, err = pcall(f, log)
        rawset(_G, "ngx", nil)
        assert(ok, err)
    end

    it("uses a cosocket with TLS verification and the timeout for every step", function()
        with_ngx({ response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            .. "Content-Length: 2\r\n\r\n[]" }, function(log)
            local response = assert(http.request{ method = "POST", url = URL .. "?x=1",
                headers = { Authorization = "Bearer t" }, body = "{}", timeout = 1500 })
            assert.are.equal(200, response.status)
            assert.are.equal("[]", response.body)
            assert.are.equal("application/json", response.headers["content-type"])
            assert.are.same({ "tenant.auth0.com", 443 }, log.connect)
            assert.are.same({ nil, "tenant.auth0.com", true }, log.handshake)
            assert.are.same({ 1500, 1500, 1500 }, log.timeouts)
            assert.are.equal("POST /api/v2/blacklists/tokens?x=1 HTTP/1.1\r\n"
                .. "Host: tenant.auth0.com\r\nAuthorization: Bearer t\r\n"
                .. "User-Agent: auth0-apiv2-lua\r\nContent-Length: 2\r\nConnection: close\r\n"
                .. "\r\n{}", table.concat(log.sent))
            assert.is_true(log.closed)
        end)
    end)

    it("bounds the whole response by the timeout, not only each read", function()
        local t = 1000
        local dripped = "HTTP/1.1 200 OK\r\n" .. string.rep("X-Drip: 1\r\n", 50) .. "\r\n"
        with_ngx({ response = dripped, now = function() return t end,
                   tick = function() t = t + 0.3 end }, function(log)
            local response, err, code = http.request{ url = "http://h:8080/", timeout = 1000 }
            assert.is_nil(response)
            assert.are.equal("timeout", code, tostring(err))
            -- each read was given at most what was left of the one second
            assert.is_true(#log.read_timeouts >= 3 and #log.read_timeouts <= 5)
            assert.is_true(log.read_timeouts[#log.read_timeouts] < 1000)
        end)
    end)

    it("refuses HTTPS to an IP address, which nginx's name check could never pass", function()
        with_ngx({ response = "HTTP/1.1 204 No Content\r\n\r\n" }, function(log)
            local response, err, code = http.request{ url = "https://127.0.0.1:8443/x" }
            assert.is_nil(response)
            assert.are.equal("tls", code)
            assert.is_truthy(tostring(err):find("needs a host name", 1, true))
            assert.is_nil(log.handshake)
        end)
    end)

    it("reads chunked bodies, bodies up to the close, 1xx answers and repeated headers", function()
        with_ngx({ response = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
            .. "Transfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
            .. "3\r\n[{}\r\n1;ext=1\r\n]\r\n0\r\nTrailer: x\r\n\r\n" }, function()
            local response = assert(http.request{ url = "http://h:8080/" })
            assert.are.equal("[{}]", response.body)
            assert.are.equal("1, 2", response.headers["x-a"])
        end)
        with_ngx({ response = "HTTP/1.0 500 Oops\r\n\r\nall of it" }, function(log)
            local response = assert(http.request{ url = "http://h:8080/" })
            assert.are.equal(500, response.status)
            assert.are.equal("all of it", response.body)
            assert.is_nil(log.handshake)
        end)
    end)

    it("reports cut-off and malformed answers", function()
        with_ngx({ response = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" }, function()
            local _, err, code = http.request{ url = URL }
            assert.are.equal("http: read from tenant.auth0.com:443: closed", err)
            assert.are.equal("network", code)
        end)
        with_ngx({ response = "SSH-2.0-OpenSSH\r\n" }, function()
            local _, err, code = http.request{ url = URL }
            assert.are.equal("http: read from tenant.auth0.com:443: malformed status line", err)
            assert.are.equal("protocol", code)
        end)
    end)

    it("reports connect, timeout and TLS failures with their codes", function()
        with_ngx({ connect_error = "connection refused" }, function()
            local _, err, code = http.request{ url = URL }
            assert.are.equal("http: connect to tenant.auth0.com:443: connection refused", err)
            assert.are.equal("connection_refused", code)
        end)
        with_ngx({ connect_error = "timeout" }, function()
            local _, _, code = http.request{ url = URL }
            assert.are.equal("timeout", code)
        end)
        with_ngx({ handshake_error = "18: self signed certificate" }, function()
            local _, err, code = http.request{ url = URL }
            assert.are.equal("http: TLS handshake with tenant.auth0.com:443 failed: 18: self "
                .. "signed certificate", err)
            assert.are.equal("tls", code)
        end)
    end)

    it("refuses to run where cosockets are unavailable, and never falls back to LuaSocket", function()
        for _, phase in ipairs({ "init", "init_worker", "set", "header_filter", "body_filter",
            "log", "balancer" }) do
            with_ngx({ phase = phase }, function(log)
                local _, err, code = http.request{ url = URL }
                assert.are.equal("unavailable", code)
                assert.are.equal("http: cosockets are not available in nginx's " .. phase
                    .. " phase (use a timer, or the rewrite, access or content phase)", err)
                assert.is_nil(log.connect)
            end)
        end
    end)

    it("waits with ngx.sleep between retries", function()
        with_ngx({ response = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
            .. "Content-Length: 0\r\n\r\n" }, function(log)
            local bl = blacklist.new{ base_url = BASE, token = admin_token(), retries = 1 }
            local _, err = bl:list()
            assert.are.equal(429, err.status)
            assert.are.same({ 1 }, log.slept)
        end)
    end)
end)

describe("http.request", function()
    it("raises on a malformed request", function()
        assert.are.equal("http.request: url must start with http:// or https://",
            error_of(http.request, { url = "ftp://x/" }))
        assert.are.equal("http.request: url must not carry user information",
            error_of(http.request, { url = "https://u:p@x/" }))
        assert.are.equal("http.request: url has an invalid port",
            error_of(http.request, { url = "https://x:70000/" }))
        assert.are.equal("http.request: header X contains a line break",
            error_of(http.request, { url = "https://x/", headers = { X = "a\r\nB: c" } }))
        assert.are.equal("http.request: header Host is set by http.request",
            error_of(http.request, { url = "https://x/", headers = { Host = "y" } }))
        assert.are.equal("http.request: timeout must be a positive number of milliseconds",
            error_of(http.request, { url = "https://x/", timeout = 0 }))
    end)

    it("hands an injected transport the request, and lower-cases the answer's headers", function()
        local seen
        local response = assert(http.request{ url = "https://x/y", transport = function(req)
            seen = req
            return { status = 200, headers = { ["Content-Type"] = "text/plain" } }
        end })
        assert.are.same({ status = 200, headers = { ["content-type"] = "text/plain" }, body = "" },
            response)
        assert.are.equal("GET", seen.method)
        assert.are.equal(http.DEFAULT_TIMEOUT_MS, seen.timeout)
        assert.are.equal("https://x/y", seen.url)
    end)
end)

describe("certname.host_matches", function()
    local names = { dns = { "Tenant.Auth0.com", "*.eu.auth0.com", "*.com", "f*.example.org" },
        ip = { "127.0.0.1" } }

    it("matches exact names in any case, and one wildcard label", function()
        assert.is_true(certname.host_matches(names, "tenant.auth0.com"))
        assert.is_true(certname.host_matches(names, "TENANT.auth0.com."))
        assert.is_true(certname.host_matches(names, "x.eu.auth0.com"))
        assert.is_false(certname.host_matches(names, "a.x.eu.auth0.com"))
        assert.is_false(certname.host_matches(names, "eu.auth0.com"))
        assert.is_false(certname.host_matches(names, "other.auth0.com"))
    end)

    it("refuses wildcards over a top-level domain or inside a label", function()
        assert.is_false(certname.host_matches(names, "evil.com"))
        assert.is_false(certname.host_matches(names, "foo.example.org"))
    end)

    it("matches an IP address only against the certificate's IP entries", function()
        assert.is_true(certname.host_matches(names, "127.0.0.1"))
        assert.is_false(certname.host_matches({ dns = { "127.0.0.1" } }, "127.0.0.1"))
        assert.is_false(certname.host_matches(names, "127.0.0.2"))
    end)
end)
