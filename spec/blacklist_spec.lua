-- The blacklist helper without a network: an injected transport plays Auth0
-- (spec/util/fake_auth0.lua). Its retries, error values and HTTP client have their own specs
-- (retry_spec, errors_spec, http_spec); blacklist_http_spec runs it over real HTTP(S).
local blacklist = require "auth0.apiv2.blacklist"
local token = require "auth0.apiv2.token"
local cjson = require "cjson"
local h = require "spec.helpers"
local auth0 = require "spec.util.fake_auth0"
local reply, error_of = h.reply, h.error_of

local FORBIDDEN = '{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, '
    .. 'expected any of: blacklist:tokens","errorCode":"insufficient_scope"}'
local BASE = auth0.BASE
local URL = BASE .. "/blacklists/tokens"
local admin_token, fake_auth0, client = auth0.admin_token, auth0.answers, auth0.blacklist_client

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

