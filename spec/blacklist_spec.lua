-- The blacklist helper and its HTTP and retry layers, without a network: an injected transport
-- plays Auth0, and a fake `ngx` table plays OpenResty's cosockets.
local blacklist = require "auth0.apiv2.blacklist"
local http = require "auth0.apiv2.internal.http"
local retry = require "auth0.apiv2.internal.retry"
local certname = require "auth0.apiv2.internal.http.certname"
local token = require "auth0.apiv2.token"
local cjson = require "cjson"
local h = require "spec.helpers"
local reply, error_of = h.reply, h.error_of

local BASE = "https://tenant.auth0.com/api/v2"
local URL = BASE .. "/blacklists/tokens"
local FORBIDDEN = '{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, '
    .. 'expected any of: blacklist:tokens","errorCode":"insufficient_scope"}'
local LIMITED = '{"statusCode":429,"error":"Too Many Requests","message":"Global limit has '
    .. 'been reached","errorCode":"too_many_requests"}'

local function admin_token()
    return token.new{ aud = h.AUD, scopes = { "blacklist:tokens" } }:sign(h.SECRET)
end

-- A transport answering with `answers` in turn (the last one repeats), recording requests.
local function fake_auth0(...)
    local answers, requests = { ... }, {}
    local function transport(req)
        requests[#requests + 1] = req
        local answer = answers[math.min(#requests, #answers)]
        if type(answer) == "function" then return answer(req) end
        return answer
    end
    return transport, requests
end

-- A client on a fake transport that records its sleeps instead of sleeping.
local function client(transport, opts)
    local slept = {}
    opts = opts or {}
    opts.base_url = opts.base_url or (not opts.domain and BASE or nil)
    if not opts.key then opts.token = opts.token or admin_token() end
    opts.transport = transport
    opts.sleep = opts.sleep or function(s) slept[#slept + 1] = s end
    return blacklist.new(opts), slept
end

describe("blacklist.new", function()
    local key = token.key(h.SECRET)
    local function new_error(opts) return error_of(blacklist.new, opts) end

    it("builds the API's URL from the domain", function()
        local transport, requests = fake_auth0(reply(200, "[]"))
        local bl = client(transport, { domain = "tenant.auth0.com" })
        assert.are.same({}, bl:list())
        assert.are.equal(URL, requests[1].url)
    end)

    it("takes base_url instead, without its trailing slash", function()
        local transport, requests = fake_auth0(reply(200, "[]"))
        assert.is_truthy(client(transport, { base_url = "http://127.0.0.1:8080/api/v2/" }):list())
        assert.are.equal("http://127.0.0.1:8080/api/v2/blacklists/tokens", requests[1].url)
    end)

    it("refuses missing, unknown and ill-typed options", function()
        assert.are.equal("blacklist.new: options must be a table", new_error(nil))
        assert.are.equal("blacklist.new: unknown option 'tokn'",
            new_error{ domain = "a.auth0.com", tokn = "x" })
        assert.are.equal("blacklist.new: domain (or base_url) is required",
            new_error{ token = "a.b.c" })
        assert.are.equal("blacklist.new: token (or key and aud) is required",
            new_error{ domain = "a.auth0.com" })
        assert.are.equal("blacklist.new: give either token, or key and aud, not both",
            new_error{ domain = "a.auth0.com", token = "a.b.c", key = key, aud = h.AUD })
        assert.are.equal("blacklist.new: key needs aud (the tenant's API key)",
            new_error{ domain = "a.auth0.com", key = key })
        assert.are.equal("blacklist.new: key must be a key object from token.key",
            new_error{ domain = "a.auth0.com", key = h.SECRET, aud = h.AUD })
        assert.are.equal("blacklist.new: token must be a bearer token (a compact JWT)",
            new_error{ domain = "a.auth0.com", token = "a.b.c\r\nX-Evil: 1" })
        assert.are.equal("blacklist.new: domain must be a host name, e.g. tenant.auth0.com",
            new_error{ domain = "https://a.auth0.com", token = "a.b.c" })
        assert.are.equal("blacklist.new: base_url must be an http(s) URL without query, "
            .. "e.g. https://tenant.auth0.com/api/v2",
            new_error{ base_url = "ftp://a.auth0.com/api/v2", token = "a.b.c" })
        assert.are.equal("blacklist.new: transport must be a function",
            new_error{ domain = "a.auth0.com", token = "a.b.c", transport = "luasocket" })
        assert.are.equal("blacklist.new: cannot read ca_file /nonexistent/ca.pem",
            new_error{ domain = "a.auth0.com", token = "a.b.c", ca_file = "/nonexistent/ca.pem" })
    end)

    it("requires a finite positive timeout and bounded retries and waits", function()
        for _, bad in ipairs({ 0, -1, "5000", math.huge, 0 / 0 }) do
            assert.are.equal("blacklist.new: timeout must be a positive number of milliseconds",
                new_error{ domain = "a.auth0.com", token = "a.b.c", timeout = bad })
        end
        for _, bad in ipairs({ -1, 1.5, 11, "3" }) do
            assert.are.equal("blacklist.new: retries must be a whole number from 0 to 10",
                new_error{ domain = "a.auth0.com", token = "a.b.c", retries = bad })
        end
        assert.are.equal("blacklist.new: max_wait must be a non-negative number of milliseconds",
            new_error{ domain = "a.auth0.com", token = "a.b.c", max_wait = -5 })
    end)

    it("never shows the bearer token in tostring", function()
        local jwt = admin_token()
        local bl = blacklist.new{ domain = "tenant.auth0.com", token = jwt }
        assert.are.equal("auth0.apiv2.blacklist (https://tenant.auth0.com/api/v2, bearer token)",
            tostring(bl))
        for _, value in pairs(bl) do
            assert.are_not.equal(jwt, value)
        end
    end)
end)

describe("bl:revoke", function()
    it("posts the jti and aud read from a token, with the bearer token", function()
        local transport, requests = fake_auth0(reply(204))
        local admin = admin_token()
        local bl = client(transport, { token = admin, ca_file = "spec/helpers.lua" })
        local victim = token.new{ aud = "OTHERaud", jti = "victim-1" }:sign(h.SECRET)
        assert.is_true(bl:revoke(victim))
        local req = requests[1]
        assert.are.equal("POST", req.method)
        assert.are.equal(URL, req.url)
        assert.are.equal("Bearer " .. admin, req.headers.Authorization)
        assert.are.equal("application/json", req.headers["Content-Type"])
        assert.are.equal("application/json", req.headers.Accept)
        assert.are.same({ jti = "victim-1", aud = "OTHERaud" }, cjson.decode(req.body))
        assert.are.equal(5000, req.timeout)
        assert.are.equal("spec/helpers.lua", req.ca_file)
    end)

    it("takes a table with jti and aud, ignoring other fields such as decoded claims", function()
        local transport, requests = fake_auth0(reply(204))
        local bl = client(transport)
        assert.is_true(bl:revoke({ jti = "j1", aud = "A" }))
        local _, claims = token.decode(token.new{ aud = "B", jti = "j2" }:sign(h.SECRET))
        assert.is_true(bl:revoke(claims))
        assert.are.same({ jti = "j1", aud = "A" }, cjson.decode(requests[1].body))
        assert.are.same({ jti = "j2", aud = "B" }, cjson.decode(requests[2].body))
    end)

    it("omits an absent or empty aud, as the SDKs do", function()
        local transport, requests = fake_auth0(reply(204))
        local bl = client(transport)
        assert.is_true(bl:revoke({ jti = "j1" }))
        assert.is_true(bl:revoke({ jti = "j2", aud = "" }))
        assert.are.equal('{"jti":"j1"}', requests[1].body)
        assert.are.equal('{"jti":"j2"}', requests[2].body)
    end)

    it("counts any 2xx answer as success", function()
        for _, status in ipairs({ 200, 201, 204 }) do
            assert.is_true(client(fake_auth0(reply(status, "{}"))):revoke({ jti = "j" }))
        end
    end)

    it("refuses a token without jti before any request", function()
        local transport, requests = fake_auth0(reply(204))
        local bl = client(transport)
        local no_jti = token.new{ aud = h.AUD }:sign(h.SECRET)
        -- A token made by token.new always has a jti: forge one without.
        local core = require "auth0.apiv2.core"
        no_jti = no_jti:gsub("^([^.]+)%.[^.]+", "%1." .. core.b64url_encode('{"aud":"A"}'))
        for _, what in ipairs({ no_jti, { aud = "A" }, { jti = "" } }) do
            local ok, err = bl:revoke(what)
            assert.is_nil(ok)
            assert.are.equal("missing_jti", err.error_code)
            assert.is_nil(err.status)
            assert.are.equal("blacklist.revoke: missing_jti: the token has no jti, so it cannot "
                .. "be revoked", tostring(err))
        end
        assert.are.equal(0, #requests)
    end)

    it("refuses a malformed token before any request", function()
        local transport, requests = fake_auth0(reply(204))
        local ok, err = client(transport):revoke("not-a-token")
        assert.is_nil(ok)
        assert.are.equal("blacklist.revoke: malformed_token: cannot read the token: "
            .. "malformed token", tostring(err))
        assert.are.equal(0, #requests)
    end)

    it("raises when given neither a token nor a table, or non-string fields", function()
        local bl = client(fake_auth0(reply(204)))
        assert.are.equal("blacklist.revoke: expected a token or a table with jti and aud, got "
            .. "number", error_of(bl.revoke, bl, 42))
        assert.are.equal("blacklist.revoke: jti must be a string",
            error_of(bl.revoke, bl, { jti = 7 }))
        assert.are.equal("blacklist.revoke: aud must be a string",
            error_of(bl.revoke, bl, { jti = "j", aud = true }))
        assert.are.equal("blacklist.revoke: request.jti: string is not UTF-8 text (invalid utf8)",
            error_of(bl.revoke, bl, { jti = "\255" }))
    end)

    it("returns Auth0's error as a value, and never retries it", function()
        local transport, requests = fake_auth0(reply(403, FORBIDDEN,
            { ["content-type"] = "application/json" }))
        local bl, slept = client(transport)
        local ok, err = bl:revoke({ jti = "j" })
        assert.is_nil(ok)
        assert.are.equal(403, err.status)
        assert.are.equal("insufficient_scope", err.error_code)
        assert.are.equal("Forbidden", err.error)
        assert.are.equal("Insufficient scope, expected any of: blacklist:tokens", err.message)
        assert.are.equal(1, err.attempts)
        assert.are.equal("blacklist.revoke: 403 insufficient_scope: Insufficient scope, expected "
            .. "any of: blacklist:tokens", tostring(err))
        assert.are.equal(1, #requests)
        assert.are.equal(0, #slept)
    end)

    it("reads an error body without errorCode, and a body that is not JSON", function()
        local _, err = client(fake_auth0(reply(401,
            '{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}')))
            :revoke({ jti = "j" })
        assert.is_nil(err.error_code)
        assert.are.equal("blacklist.revoke: 401: Missing authentication", tostring(err))
        _, err = client(fake_auth0(reply(502, "<html>\nBad gateway</html>"))):list()
        assert.are.equal("<html> Bad gateway</html>", err.message)
        _, err = client(fake_auth0(reply(404))):list()
        assert.are.equal("blacklist.list: 404: no message", tostring(err))
    end)

    it("describes an error without its op, as the command line shows it", function()
        local _, err = client(fake_auth0(reply(401,
            '{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}')))
            :revoke({ jti = "j" })
        assert.are.equal("401: Missing authentication", err:describe())
        local fail = function() return nil, "http: read from 10.0.0.1:443: timeout", "timeout" end
        _, err = client(fake_auth0(fail), { retries = 0 }):list()
        assert.are.equal("timeout: read from 10.0.0.1:443: timeout", err:describe())
        assert.are.equal("blacklist.list: " .. err:describe(), tostring(err))
    end)

    it("never shows the bearer token, even when the server echoes it", function()
        local admin = admin_token()
        local echo = function(req)
            return reply(400, cjson.encode({ statusCode = 400, error = "Bad Request",
                message = "bad header " .. req.headers.Authorization, errorCode = "invalid_body" }))
        end
        local _, err = client(fake_auth0(echo), { token = admin }):revoke({ jti = "j" })
        assert.are.equal("bad header Bearer [token]", err.message)
        assert.is_nil(tostring(err):find(admin, 1, true))
        local fail = function(req) return nil, "proxy refused " .. req.headers.Authorization end
        _, err = client(fake_auth0(fail), { token = admin }):revoke({ jti = "j" })
        assert.are.equal("blacklist.revoke: network: proxy refused Bearer [token]", tostring(err))
    end)

    it("reports a network failure with its code, without retrying", function()
        local transport, requests = fake_auth0(function()
            return nil, "http: read from 10.0.0.1:443: timeout", "timeout"
        end)
        local _, err = client(transport):revoke({ jti = "j" })
        assert.are.equal("timeout", err.error_code)
        assert.is_nil(err.status)
        assert.are.equal("blacklist.revoke: timeout: read from 10.0.0.1:443: timeout",
            tostring(err))
        assert.are.equal(1, #requests)
    end)
end)

describe("bl:list", function()
    it("returns the revoked tokens as an array of { aud, jti }", function()
        local transport, requests = fake_auth0(reply(200,
            '[{"aud":"A","jti":"1"},{"aud":"B","jti":"2","extra":true}]'))
        local list = client(transport):list()
        assert.are.same({ { aud = "A", jti = "1" }, { aud = "B", jti = "2" } }, list)
        assert.are.equal("GET", requests[1].method)
        assert.are.equal(URL, requests[1].url)
        assert.is_nil(requests[1].body)
        assert.is_nil(requests[1].headers["Content-Type"])
    end)

    it("asks for one tenant's tokens with a URL-encoded aud", function()
        local transport, requests = fake_auth0(reply(200, "[]"))
        assert.are.same({}, client(transport):list({ aud = "a b&c=d/é" }))
        assert.are.equal(URL .. "?aud=a%20b%26c%3Dd%2F%C3%A9", requests[1].url)
    end)

    it("refuses an answer that is not a JSON array of entries with a jti", function()
        for _, body in ipairs({ "{}", "oops", "", '[{"aud":"A"}]', '["x"]' }) do
            local list, err = client(fake_auth0(reply(200, body))):list()
            assert.is_nil(list)
            assert.are.equal("invalid_response", err.error_code)
            assert.are.equal(200, err.status)
        end
        local _, err = client(fake_auth0(reply(200, "oops"))):list()
        assert.are.equal("blacklist.list: 200 invalid_response: expected a JSON array of "
            .. "{aud, jti}, got oops", tostring(err))
    end)

    it("raises on unknown options and a non-string aud", function()
        local bl = client(fake_auth0(reply(200, "[]")))
        assert.are.equal("blacklist.list: unknown option 'audience'",
            error_of(bl.list, bl, { audience = "A" }))
        assert.are.equal("blacklist.list: aud must be a non-empty string",
            error_of(bl.list, bl, { aud = 1 }))
        assert.are.equal("blacklist.list: options must be a table", error_of(bl.list, bl, "A"))
    end)
end)

describe("blacklist.new with key and aud", function()
    local key = token.key(h.SECRET)

    local function bearer_of(req)
        return (req.headers.Authorization:gsub("^Bearer ", ""))
    end

    it("mints its own short-lived blacklist:tokens token for that tenant", function()
        local transport, requests = fake_auth0(reply(204))
        local bl = client(transport, { key = key, aud = h.AUD })
        assert.is_true(bl:revoke({ jti = "j" }))
        local header, claims = token.decode(bearer_of(requests[1]))
        assert.are.equal("HS256", header.alg)
        assert.are.equal(h.AUD, claims.aud)
        assert.are.same({ tokens = { actions = { "blacklist" } } }, claims.scopes)
        assert.are.equal(300, claims.exp - claims.iat)
        assert.are.equal(32, #claims.jti)
        assert.are.equal("auth0.apiv2.blacklist (https://tenant.auth0.com/api/v2, minted tokens)",
            tostring(bl))
    end)

    it("reuses the minted token until a minute before it expires", function()
        local now = 1000
        local transport, requests = fake_auth0(reply(204))
        local bl = client(transport, { key = key, aud = h.AUD, now = function() return now end })
        bl:revoke({ jti = "1" })
        now = 1000 + 239
        bl:revoke({ jti = "2" })
        now = 1000 + 240
        bl:revoke({ jti = "3" })
        assert.are.equal(bearer_of(requests[1]), bearer_of(requests[2]))
        assert.are_not.equal(bearer_of(requests[2]), bearer_of(requests[3]))
    end)
end)

describe("retries", function()
    it("waits for Retry-After on a 429, then succeeds", function()
        local limited = reply(429, LIMITED, { ["retry-after"] = "2", ["x-ratelimit-reset"] = "9" })
        local transport, requests = fake_auth0(limited, limited, reply(204))
        local bl, slept = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(3, #requests)
        assert.are.same({ 2, 2 }, slept)
    end)

    it("retries a 5xx only where sending twice is harmless", function()
        local retry_mod = require "auth0.apiv2.internal.retry"
        assert.is_true(retry_mod.retryable(503, "GET"))
        assert.is_true(retry_mod.retryable(503, "POST", true))   -- revoking twice is harmless
        assert.is_false(retry_mod.retryable(500, "POST"))
        assert.is_false(retry_mod.retryable(502, "PATCH"))
        assert.is_false(retry_mod.retryable(501, "GET"))
        assert.is_true(retry_mod.retryable(429, "POST"))
        local transport, requests = fake_auth0(reply(503), reply(204))
        local bl = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(2, #requests)
    end)

    it("keeps tostring working when the server sends an absurd x-ratelimit-reset", function()
        local absurd = reply(429, LIMITED, { ["x-ratelimit-reset"] = "100000000000000000000" })
        local transport = fake_auth0(absurd, absurd, absurd, absurd)
        local bl = client(transport)
        local ok, err = bl:list()
        assert.is_nil(ok)
        local shown, text = pcall(tostring, err)
        assert.is_true(shown, text)
        assert.is_truthy(text:find("rate limit resets at", 1, true))
    end)

    it("scrubs an echoed bearer token before cutting a long body, so no part of it is left", function()
        local bearer = admin_token()
        local echoed = string.rep("x", 280) .. bearer
        local transport = fake_auth0(reply(400, echoed, { ["content-type"] = "text/plain" }))
        local bl = client(transport, { token = bearer })
        local _, err = bl:list()
        assert.is_nil(tostring(err):find(bearer:sub(1, 12), 1, true))
    end)

    it("waits until x-ratelimit-reset when there is no Retry-After", function()
        local transport = fake_auth0(reply(429, LIMITED, { ["x-ratelimit-reset"] = "1003" }),
            reply(204))
        local bl, slept = client(transport, { now = function() return 1000.5 end })
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.same({ 2.5 }, slept)
    end)

    it("backs off exponentially with jitter when the server gives no time", function()
        local transport = fake_auth0(reply(429, LIMITED), reply(429, LIMITED),
            reply(429, LIMITED), reply(204))
        local bl, slept = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(3, #slept)
        for i, wait in ipairs(slept) do
            local full = retry.BASE_DELAY_S * 2 ^ (i - 1)
            assert.is_true(wait >= full / 2 and wait <= full, "wait " .. i .. ": " .. wait)
        end
    end)

    it("ignores an HTTP-date Retry-After and a reset time already past", function()
        local transport = fake_auth0(reply(429, LIMITED, {
            ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT", ["x-ratelimit-reset"] = "900" }),
            reply(204))
        local bl, slept = client(transport, { now = function() return 1000 end })
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.is_true(slept[1] >= retry.BASE_DELAY_S / 2 and slept[1] <= retry.BASE_DELAY_S)
    end)

    it("caps every wait at max_wait", function()
        local transport = fake_auth0(reply(429, LIMITED, { ["retry-after"] = "3600" }), reply(204))
        local bl, slept = client(transport, { max_wait = 1500 })
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.same({ 1.5 }, slept)
    end)

    it("gives up after the allowed retries and reports when the limit resets", function()
        local transport, requests = fake_auth0(reply(429, LIMITED, { ["retry-after"] = "30",
            ["x-ratelimit-reset"] = tostring(h.NOW + 10), ["x-ratelimit-limit"] = "2",
            ["x-ratelimit-remaining"] = "0" }))
        local bl, slept = client(transport, { retries = 2 })
        local ok, err = bl:list()
        assert.is_nil(ok)
        assert.are.equal(3, #requests)
        assert.are.same({ 10, 10 }, slept)
        assert.are.equal(429, err.status)
        assert.are.equal("too_many_requests", err.error_code)
        assert.are.equal(3, err.attempts)
        assert.are.equal(30, err.retry_after)
        assert.are.equal(h.NOW + 10, err.reset)
        assert.are.equal(2, err.limit)
        assert.are.equal(0, err.remaining)
        assert.are.equal("blacklist.list: 429 too_many_requests: Global limit has been reached "
            .. "(3 attempts; retry after 30 s; rate limit resets at 2026-01-01T00:00:10Z)",
            tostring(err))
    end)

    it("retries 5xx answers too", function()
        local transport, requests = fake_auth0(reply(503), reply(500), reply(204))
        local bl, slept = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(3, #requests)
        assert.are.equal(2, #slept)
    end)

    it("never retries a 4xx other than 429", function()
        for _, status in ipairs({ 400, 401, 403, 404, 409, 422 }) do
            local transport, requests = fake_auth0(reply(status), reply(204))
            local _, err = client(transport):revoke({ jti = "j" })
            assert.are.equal(status, err.status)
            assert.are.equal(1, #requests)
        end
    end)

    it("makes a single attempt with retries = 0", function()
        local transport, requests = fake_auth0(reply(429, LIMITED), reply(204))
        local _, err = client(transport, { retries = 0 }):revoke({ jti = "j" })
        assert.are.equal(429, err.status)
        assert.are.equal(1, #requests)
    end)
end)

describe("retry.delay", function()
    it("draws its default jitter from the core's pool, not the unseeded math.random", function()
        local no_jitter = { max_wait = 10, now = function() return 100 end }
        local seen = {}
        for _ = 1, 20 do
            math.randomseed(1)   -- what every nginx worker starts with
            seen[retry.delay(reply(503), 3, no_jitter)] = true
        end
        local distinct = 0
        for _ in pairs(seen) do distinct = distinct + 1 end
        assert.is_true(distinct > 1)
    end)

    local policy = { max_wait = 10, now = function() return 100 end, random = function() return 0 end }

    it("prefers Retry-After, then x-ratelimit-reset, then backoff", function()
        assert.are.equal(0.5, retry.delay(reply(429, "", { ["retry-after"] = "0.5",
            ["x-ratelimit-reset"] = "105" }), 1, policy))
        assert.are.equal(5, retry.delay(reply(429, "", { ["x-ratelimit-reset"] = "105" }), 1, policy))
        assert.are.equal(retry.BASE_DELAY_S * 4 / 2, retry.delay(reply(503), 3, policy))
    end)
end)

---------------------------------------------------------------- inside OpenResty (a fake ngx)

-- An `ngx` whose cosocket replays `response` and records what the client did.
local function fake_ngx(opts)
    local log = { sent = {}, slept = {} }
    local buffer
    local sock = {}
    function sock.settimeouts(_, ...) log.timeouts = { ... } return 1 end
    function sock.settimeout(_, ms)
        log.read_timeouts = log.read_timeouts or {}
        log.read_timeouts[#log.read_timeouts + 1] = ms
        return 1
    end
    function sock.connect(_, host, port)
        log.connect = { host, port }
        if opts.connect_error then return nil, opts.connect_error end
        return 1
    end
    function sock.sslhandshake(_, session, name, verify)
        log.handshake = { session, name, verify }
        if opts.handshake_error then return nil, opts.handshake_error end
        return {}
    end
    function sock.send(_, data) log.sent[#log.sent + 1] = data return #data end
    function sock.receive(_, pattern)
        if opts.tick then opts.tick() end   -- time passing while the server drips
        if pattern == "*l" then
            local i = buffer:find("\n", 1, true)
            if not i then
                local rest = buffer
                buffer = ""
                return nil, "closed", rest
            end
            local line = buffer:sub(1, i - 1):gsub("\r$", "")
            buffer = buffer:sub(i + 1)
            return line
        end
        if #buffer < pattern then
            local rest = buffer
            buffer = ""
            return nil, "closed", rest
        end
        local data = buffer:sub(1, pattern)
        buffer = buffer:sub(pattern + 1)
        return data
    end
    function sock.close(_) log.closed = true return 1 end
    local ngx = {
        get_phase = function() return opts.phase or "content" end,
        socket = { tcp = function() buffer = opts.response or "" return sock end },
        sleep = function(s) log.slept[#log.slept + 1] = s end,
        now = opts.now or function() return 1000 end,
        time = function() return 1000 end,
    }
    return ngx, log
end

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

describe("http.host_matches", function()
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
