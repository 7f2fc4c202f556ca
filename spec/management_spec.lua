-- The Management API client without a network: an injected transport plays Auth0 (its
-- /oauth/token and /api/v2), and a fake `ngx` with coroutines plays one nginx worker whose
-- requests run concurrently.
local management = require "auth0.apiv2.management"
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"
local cjson = require "cjson"
local h = require "spec.helpers"
local auth0 = require "spec.util.fake_auth0"
local fake_ngx = require "spec.util.fake_ngx"
local reply, error_of, form = h.reply, h.error_of, h.form_decode
local fake_auth0, token_answer = auth0.tenant, auth0.token_answer
local run_concurrently, fake_semaphore_module, in_worker =
    fake_ngx.run_concurrently, fake_ngx.semaphore_module, fake_ngx.in_worker

local DOMAIN, BASE, TOKEN_URL = auth0.DOMAIN, auth0.BASE, auth0.TOKEN_URL
local CLIENT_ID, CLIENT_SECRET = "myClientId", "s3cr3t-client-secret-XYZ"
local ACCESS_TOKEN = auth0.ACCESS_TOKEN
local FORBIDDEN = '{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, '
    .. 'expected any of: read:users","errorCode":"insufficient_scope"}'
local LIMITED = '{"statusCode":429,"error":"Too Many Requests","message":"Global limit has '
    .. 'been reached","errorCode":"too_many_requests"}'

-- A client credentials client on a fake transport, recording its sleeps instead of sleeping.
local function client(log, opts)
    local slept = {}
    opts = opts or {}
    opts.domain = opts.domain or DOMAIN
    if not (opts.key or opts.token) then
        opts.client_id, opts.client_secret = CLIENT_ID, CLIENT_SECRET
    end
    opts.transport = log.transport
    opts.sleep = opts.sleep or function(s) slept[#slept + 1] = s end
    return management.new(opts), slept
end

local function bearer_of(req)
    return (req.headers.Authorization:gsub("^Bearer ", ""))
end

describe("management.new", function()
    local key = token.key(h.SECRET)
    local function new_error(opts) return error_of(management.new, opts) end

    it("refuses missing, unknown and ill-typed options", function()
        assert.are.equal("management.new: options must be a table", new_error(nil))
        assert.are.equal("management.new: unknown option 'client_secert'",
            new_error{ domain = DOMAIN, client_id = "a", client_secert = "b" })
        assert.are.equal("management.new: give one of: client_id and client_secret, key with "
            .. "aud and scopes, or token", new_error{ domain = DOMAIN })
        assert.are.equal("management.new: give only one of: client_id and client_secret, key "
            .. "with aud and scopes, or token",
            new_error{ domain = DOMAIN, client_id = "a", client_secret = "b", token = "a.b.c" })
        assert.are.equal("management.new: domain (or base_url) is required",
            new_error{ token = "a.b.c" })
        assert.are.equal("management.new: domain must be a host name, e.g. tenant.auth0.com",
            new_error{ domain = "https://" .. DOMAIN, token = "a.b.c" })
        assert.are.equal("management.new: client_secret must be a non-empty string",
            new_error{ domain = DOMAIN, client_id = "a" })
        assert.are.equal("management.new: client_id must be a non-empty string",
            new_error{ domain = DOMAIN, client_id = 7, client_secret = "b" })
        assert.are.equal("management.new: key must be a key object from token.key",
            new_error{ domain = DOMAIN, key = h.SECRET, aud = h.AUD, scopes = {} })
        assert.are.equal("management.new: aud must be a non-empty string",
            new_error{ domain = DOMAIN, key = key, scopes = { "read:users" } })
        assert.are.equal("management.new: scopes must be a table, e.g. { \"read:users\" }",
            new_error{ domain = DOMAIN, key = key, aud = h.AUD })
        assert.are.equal("management.new: token must be a bearer token (a compact JWT) or a "
            .. "function", new_error{ domain = DOMAIN, token = "a.b.c\r\nX-Evil: 1" })
        assert.are.equal("management.new: timeout must be a positive number of milliseconds",
            new_error{ domain = DOMAIN, token = "a.b.c", timeout = 0 })
        assert.are.equal("management.new: retries must be a whole number from 0 to 10",
            new_error{ domain = DOMAIN, token = "a.b.c", retries = 11 })
        assert.are.equal("management.new: transport must be a function",
            new_error{ domain = DOMAIN, token = "a.b.c", transport = "luasocket" })
    end)

    it("reports a bad scope in key mode under its own name", function()
        assert.are.equal("management.new: token.new: malformed scope 'Read:users' at "
            .. "scopes[1]: expected action:entity in lower case, e.g. read:users",
            new_error{ domain = DOMAIN, key = key, aud = h.AUD, scopes = { "Read:users" } })
    end)

    it("needs the domain for client credentials, since the audience names it", function()
        assert.are.equal("management.new: client credentials need domain (the token's audience "
            .. "is https://DOMAIN/api/v2/), also with base_url",
            new_error{ base_url = "http://127.0.0.1:9/api/v2", client_id = "a",
                client_secret = "b" })
        assert.are.equal("management.new: with client credentials, base_url must end in "
            .. "/api/v2 (/oauth/token is beside it)",
            new_error{ domain = DOMAIN, base_url = "http://127.0.0.1:9/v2", client_id = "a",
                client_secret = "b" })
    end)

    it("never shows a credential in tostring or in its fields", function()
        local jwt = token.new{ aud = h.AUD, scopes = { "read:users" } }:sign(h.SECRET)
        local clients = {
            { management.new{ domain = DOMAIN, client_id = CLIENT_ID,
                client_secret = CLIENT_SECRET }, "client credentials" },
            { management.new{ domain = DOMAIN, token = jwt }, "bearer token" },
            { management.new{ domain = DOMAIN, key = key, aud = h.AUD,
                scopes = { "read:users" } }, "minted tokens" },
            { management.new{ domain = DOMAIN, token = function() return jwt end },
                "token function" },
        }
        for _, case in ipairs(clients) do
            local mgmt = case[1]
            assert.are.equal("auth0.apiv2.management (" .. BASE .. ", " .. case[2] .. ")",
                tostring(mgmt))
            local seen = {}
            local function walk(t)
                if seen[t] then return end
                seen[t] = true
                for k, v in pairs(t) do
                    for _, secret in ipairs({ jwt, CLIENT_SECRET, h.SECRET }) do
                        assert.are_not.equal(secret, k)
                        assert.are_not.equal(secret, v)
                    end
                    if type(v) == "table" then walk(v) end
                end
            end
            walk(mgmt)
        end
    end)
end)

describe("mgmt:request", function()
    it("sends the method, the URL-encoded path, the JSON body and the bearer token", function()
        local log = fake_auth0{ api = reply(200, '{"user_id":"auth0|123","app_metadata":'
            .. '{"plan":"pro"}}') }
        local mgmt = client(log)
        local user = assert(mgmt:request("PATCH", "/users/{id}", { id = "auth0|123" },
            { app_metadata = { plan = "pro" } }))
        assert.are.same({ user_id = "auth0|123", app_metadata = { plan = "pro" } }, user)
        local req = log.api_requests[1]
        assert.are.equal("PATCH", req.method)
        assert.are.equal(BASE .. "/users/auth0%7C123", req.url)
        assert.are.equal('{"app_metadata":{"plan":"pro"}}', req.body)
        assert.are.equal("application/json", req.headers["Content-Type"])
        assert.are.equal("application/json", req.headers.Accept)
        assert.are.equal("Bearer " .. ACCESS_TOKEN, req.headers.Authorization)
        assert.are.equal(5000, req.timeout)
    end)

    it("encodes every reserved character of a path parameter, and takes integers", function()
        local log = fake_auth0()
        local mgmt = client(log)
        assert.is_truthy(mgmt:request("get", "/users/{id}/roles/{n}",
            { id = "a/b?c#d e%f|é", n = 42 }))
        assert.are.equal("GET", log.api_requests[1].method)
        assert.are.equal(BASE .. "/users/a%2Fb%3Fc%23d%20e%25f%7C%C3%A9/roles/42",
            log.api_requests[1].url)
        assert.is_nil(log.api_requests[1].body)
        assert.is_nil(log.api_requests[1].headers["Content-Type"])
    end)

    it("sends query parameters in name order, lists as repeated names", function()
        local log = fake_auth0{ api = reply(200, "[]") }
        local mgmt = client(log)
        assert.are.same({}, mgmt:request("GET", "/users", nil, nil, {
            q = 'email:"a@b.c"', per_page = 50, include_totals = true, page = 0,
            fields = { "user_id", "email" }, ratio = 0.5 }))
        assert.are.equal(BASE .. "/users?fields=user_id&fields=email&include_totals=true&page=0"
            .. "&per_page=50&q=email%3A%22a%40b.c%22&ratio=0.5", log.api_requests[1].url)
    end)

    it("returns true for an answer without a body, and sends JSON text as it is", function()
        local log = fake_auth0{ api = { reply(204), reply(200, ""), reply(201, "{}") } }
        local mgmt = client(log)
        assert.is_true(mgmt:request("DELETE", "/users/{id}", { id = "x" }))
        assert.is_true(mgmt:request("POST", "/jobs/verification-email", nil, '{"user_id":"x"}'))
        assert.are.same({}, mgmt:request("POST", "/roles", nil, { name = "r",
            permissions = json.empty_array }))
        assert.are.equal('{"user_id":"x"}', log.api_requests[2].body)
        assert.are.equal('{"name":"r","permissions":[]}', log.api_requests[3].body)
    end)

    it("refuses a 2xx answer that is not JSON", function()
        local mgmt = client(fake_auth0{ api = reply(200, "<html>oops</html>") })
        local value, err = mgmt:request("GET", "/users")
        assert.is_nil(value)
        assert.are.equal("management.request: 200 invalid_response: expected JSON, got "
            .. "<html>oops</html>", tostring(err))
    end)

    it("raises on a malformed method, path, parameter, body or query", function()
        local mgmt = client(fake_auth0())
        local function raised(...) return error_of(mgmt.request, mgmt, ...) end
        assert.are.equal('management.request: method must be an HTTP method such as "GET"',
            raised("GET /users", "/users"))
        assert.are.equal("management.request: path must be a string starting with /, without "
            .. "query, e.g. /users/{id}", raised("GET", "users"))
        assert.are.equal("management.request: path must be a string starting with /, without "
            .. "query, e.g. /users/{id}", raised("GET", "/users?q=x"))
        assert.are.equal("management.request: path has a malformed placeholder (expected "
            .. "{name})", raised("GET", "/users/{id"))
        assert.are.equal("management.request: path parameter 'id' must be a string or a finite "
            .. "number (it is missing)", raised("GET", "/users/{id}", {}))
        assert.are.equal("management.request: path parameter 'id' must be a string or a finite "
            .. "number", raised("GET", "/users/{id}", { id = true }))
        assert.are.equal("management.request: unknown path parameter 'user_id'",
            raised("GET", "/users/{id}", { id = "x", user_id = "x" }))
        assert.are.equal("management.request: path parameters must be a table",
            raised("GET", "/users/{id}", "x"))
        assert.are.equal("management.request: body must be a table or JSON text",
            raised("POST", "/users", nil, 42))
        assert.are.equal("management.request: body.name: string is not UTF-8 text "
            .. "(invalid utf8)", raised("POST", "/users", nil, { name = "\255" }))
        assert.are.equal("management.request: query must be a table",
            raised("GET", "/users", nil, nil, "q=x"))
        assert.are.equal("management.request: query.page must be a string, a finite number, "
            .. "a boolean or a list of them", raised("GET", "/users", nil, nil, { page = 0 / 0 }))
    end)

    it("returns an error, without a request, for a parameter that would change the path", function()
        local log = fake_auth0()
        local mgmt = client(log)
        for _, id in ipairs({ "", ".", ".." }) do
            local value, err = mgmt:request("DELETE", "/users/{id}", { id = id })
            assert.is_nil(value)
            assert.are.equal("invalid_parameter", err.error_code)
            assert.are.equal("management.request: invalid_parameter: path parameter 'id' is "
                .. "empty, . or .., which would change the path", tostring(err))
        end
        assert.are.equal(0, #log.requests)
    end)

    it("names the scopes the catalog lists for the endpoint on a 403", function()
        local log = fake_auth0{ api = reply(403, FORBIDDEN) }
        local mgmt = client(log)
        local value, err = mgmt:request("GET", "/users/{id}", { id = "auth0|123" })
        assert.is_nil(value)
        assert.are.equal(403, err.status)
        assert.are.equal("insufficient_scope", err.error_code)
        assert.are.same({ "read:users", "read:user_idp_tokens" }, err.required_scopes)
        assert.are.equal("management.request: 403 insufficient_scope: Insufficient scope, "
            .. "expected any of: read:users (the endpoint needs one of: read:users, "
            .. "read:user_idp_tokens)", tostring(err))
        assert.are.equal(1, #log.api_requests)
        value, err = mgmt:request("GET", "/no/such/endpoint")
        assert.is_nil(value)
        assert.is_nil(err.required_scopes)
    end)

    it("retries 429 and 5xx answers as the blacklist helper does, and no other", function()
        local limited = reply(429, LIMITED, { ["retry-after"] = "2" })
        local log = fake_auth0{ api = { limited, reply(503), reply(200, "{}") } }
        local mgmt, slept = client(log)
        assert.are.same({}, mgmt:request("GET", "/users"))
        assert.are.equal(3, #log.api_requests)
        assert.are.equal(2, #slept)
        assert.are.equal(2, slept[1])

        log = fake_auth0{ api = reply(429, LIMITED, { ["retry-after"] = "30",
            ["x-ratelimit-reset"] = tostring(h.NOW + 10) }) }
        mgmt, slept = client(log, { retries = 2, max_wait = 1000 })
        local _, err = mgmt:request("GET", "/users")
        assert.are.equal(3, err.attempts)
        assert.are.same({ 1, 1 }, slept)
        assert.are.equal("management.request: 429 too_many_requests: Global limit has been "
            .. "reached (3 attempts; retry after 30 s; rate limit resets at "
            .. "2026-01-01T00:00:10Z)", tostring(err))

        for _, status in ipairs({ 400, 401, 404, 409 }) do
            log = fake_auth0{ api = { reply(status), reply(200, "{}") } }
            _, err = client(log):request("GET", "/users")
            assert.are.equal(status, err.status)
            assert.are.equal(1, #log.api_requests)
        end
    end)

    it("reports a network failure with its code, without retrying", function()
        local log = fake_auth0{ api = function()
            return nil, "http: connect to tenant.auth0.com:443: connection refused",
                "connection_refused"
        end }
        local _, err = client(log):request("GET", "/users")
        assert.are.equal("management.request: connection_refused: connect to "
            .. "tenant.auth0.com:443: connection refused", tostring(err))
        assert.are.equal(1, #log.api_requests)
    end)

    it("never shows the bearer token, even when the server echoes it", function()
        local log = fake_auth0{ api = function(req)
            return reply(400, cjson.encode({ statusCode = 400, error = "Bad Request",
                message = "bad " .. req.headers.Authorization, errorCode = "invalid_body" }))
        end }
        local _, err = client(log):request("GET", "/users")
        assert.are.equal("management.request: 400 invalid_body: bad Bearer [token]",
            tostring(err))
    end)
end)

describe("management.new with client credentials", function()
    it("posts the client credentials grant for the domain's API, then uses the token", function()
        local log = fake_auth0()
        local mgmt = client(log)
        assert.is_truthy(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        local req = log.token_requests[1]
        assert.are.equal("POST", req.method)
        assert.are.equal(TOKEN_URL, req.url)
        assert.are.equal("application/x-www-form-urlencoded", req.headers["Content-Type"])
        assert.are.same({ grant_type = "client_credentials", client_id = CLIENT_ID,
            client_secret = CLIENT_SECRET, audience = "https://tenant.auth0.com/api/v2/" },
            form(req.body))
        assert.are.equal(ACCESS_TOKEN, bearer_of(log.api_requests[1]))
        assert.are.equal(2, #log.requests)
    end)

    it("finds /oauth/token beside base_url, and still names the domain as audience", function()
        local log = fake_auth0()
        local mgmt = client(log, { base_url = "http://127.0.0.1:8080/proxy/api/v2/" })
        assert.is_truthy(mgmt:request("GET", "/users"))
        assert.are.equal("http://127.0.0.1:8080/proxy/oauth/token", log.token_requests[1].url)
        assert.are.equal("https://tenant.auth0.com/api/v2/",
            form(log.token_requests[1].body).audience)
        assert.are.equal("http://127.0.0.1:8080/proxy/api/v2/users", log.api_requests[1].url)
    end)

    it("keeps the token, and fetches a new one 10 s before it expires", function()
        local now = h.NOW
        local log = fake_auth0{ token = { token_answer("first.token.a", 3600),
            token_answer("second.token.b", 3600) } }
        local mgmt = client(log, { now = function() return now end })
        mgmt:request("GET", "/users")
        now = h.NOW + 3589
        mgmt:request("GET", "/users")
        assert.are.equal(1, #log.token_requests)
        now = h.NOW + 3590
        mgmt:request("GET", "/users")
        assert.are.equal(2, #log.token_requests)
        assert.are.same({ "first.token.a", "first.token.a", "second.token.b" }, {
            bearer_of(log.api_requests[1]), bearer_of(log.api_requests[2]),
            bearer_of(log.api_requests[3]) })
    end)

    it("returns Auth0's error from /oauth/token as a value, and does not keep it", function()
        local denied = reply(401, '{"error":"access_denied","error_description":"Unauthorized"}')
        local log = fake_auth0{ token = { denied, token_answer() } }
        local mgmt, slept = client(log)
        local value, err = mgmt:request("GET", "/users")
        assert.is_nil(value)
        assert.are.equal(401, err.status)
        assert.are.equal("access_denied", err.error_code)
        assert.are.equal("access_denied", err.error)
        assert.are.equal("Unauthorized", err.error_description)
        assert.are.equal("Unauthorized", err.message)
        assert.are.equal("token", err.stage)
        assert.are.equal("management.request", err.op)
        assert.are.equal("management.request: 401 access_denied: Unauthorized (while getting "
            .. "a token from /oauth/token)", tostring(err))
        assert.are.equal(0, #log.api_requests)
        assert.are.equal(0, #slept)
        assert.is_truthy(mgmt:request("GET", "/users"))
        assert.are.equal(2, #log.token_requests)
    end)

    it("never shows the client secret, even when /oauth/token echoes it", function()
        local log = fake_auth0{ token = function(req)
            return reply(400, cjson.encode({ error = "invalid_request",
                error_description = "bad body " .. req.body }))
        end }
        local _, err = client(log):request("GET", "/users")
        assert.is_nil(tostring(err):find(CLIENT_SECRET, 1, true))
        assert.is_truthy(tostring(err):find("client_secret=[secret]", 1, true))
        assert.are.equal("invalid_request", err.error_code)
    end)

    it("retries /oauth/token on 429 and 5xx too", function()
        local log = fake_auth0{ token = { reply(429, "{}", { ["retry-after"] = "1" }),
            reply(502), token_answer() } }
        local mgmt, slept = client(log)
        assert.is_truthy(mgmt:request("GET", "/users"))
        assert.are.equal(3, #log.token_requests)
        assert.are.equal(2, #slept)
    end)

    it("refuses an unusable token answer without showing its body", function()
        local cases = {
            { reply(200, "not json " .. ACCESS_TOKEN), "is not a JSON object" },
            { reply(200, '{"expires_in":60}'), "has no usable access_token" },
            { reply(200, '{"access_token":"a b","expires_in":60}'), "has no usable access_token" },
            { reply(200, '{"access_token":"' .. ACCESS_TOKEN .. '","token_type":"mac",'
                .. '"expires_in":60}'), "has a token_type other than Bearer" },
            { reply(200, '{"access_token":"' .. ACCESS_TOKEN .. '"}'), "has no valid expires_in" },
            { reply(200, '{"access_token":"' .. ACCESS_TOKEN .. '","expires_in":-1}'),
                "has no valid expires_in" },
        }
        for _, case in ipairs(cases) do
            local log = fake_auth0{ token = case[1] }
            local _, err = client(log):request("GET", "/users")
            assert.are.equal("management.request: 200 invalid_response: the answer of "
                .. "/oauth/token " .. case[2] .. " (while getting a token from /oauth/token)",
                tostring(err))
            assert.are.equal(0, #log.api_requests)
        end
    end)

    it("takes expires_in as a numeric string", function()
        local log = fake_auth0{ token = reply(200, '{"access_token":"a.b.c","expires_in":"60"}') }
        assert.is_truthy(client(log):request("GET", "/users"))
    end)
end)

describe("management.new with key, aud and scopes", function()
    local key = token.key(h.SECRET)

    it("signs its own APIv2 token with those scopes and keeps it until a minute before exp", function()
        local now = h.NOW
        local log = fake_auth0()
        local mgmt = client(log, { key = key, aud = h.AUD,
            scopes = { "read:users", "update:users_app_metadata" },
            now = function() return now end })
        mgmt:request("GET", "/users")
        now = h.NOW + 239
        mgmt:request("GET", "/users")
        now = h.NOW + 240
        mgmt:request("GET", "/users")
        assert.are.equal(0, #log.token_requests)
        local first = bearer_of(log.api_requests[1])
        local claims = assert(token.verify(first, key))
        assert.are.equal(h.AUD, claims.aud)
        assert.are.equal(300, claims.exp - claims.iat)
        assert.is_true(token.has_scope(claims, "update:users_app_metadata"))
        assert.are.equal(first, bearer_of(log.api_requests[2]))
        assert.are_not.equal(first, bearer_of(log.api_requests[3]))
    end)
end)

describe("management.new with a token", function()
    it("sends the given token, or the one a function returns", function()
        local log = fake_auth0()
        assert.is_truthy(client(log, { token = "given.token.x" }):request("GET", "/users"))
        local calls = 0
        assert.is_truthy(client(log, { token = function()
            calls = calls + 1
            return "made.token.y"
        end }):request("GET", "/users"))
        assert.are.equal("given.token.x", bearer_of(log.api_requests[1]))
        assert.are.equal("made.token.y", bearer_of(log.api_requests[2]))
        assert.are.equal(1, calls)
    end)

    it("reports a token function that gives none, or gives something else", function()
        local log = fake_auth0()
        local _, err = client(log, { token = function() return nil, "vault sealed" end })
            :request("GET", "/users")
        assert.are.equal("management.request: no_token: the token source gave no token: "
            .. "vault sealed", tostring(err))
        _, err = client(log, { token = function() return "a b\r\nX: y" end })
            :request("GET", "/users")
        assert.are.equal("management.request: no_token: the token source gave something that "
            .. "is not a bearer token", tostring(err))
        assert.are.equal(0, #log.requests)
    end)
end)

describe("mgmt:blacklist", function()
    it("revokes with the management client's own cached token", function()
        local log = fake_auth0{ api = { reply(200, "{}"), reply(204), reply(200, "[]") } }
        local mgmt = client(log)
        assert.is_truthy(mgmt:request("GET", "/users"))
        local bl = mgmt:blacklist()
        assert.are.equal(bl, mgmt:blacklist())
        assert.is_true(bl:revoke({ jti = "j1", aud = h.AUD }))
        assert.are.same({}, bl:list())
        assert.are.equal(1, #log.token_requests)
        assert.are.equal(BASE .. "/blacklists/tokens", log.api_requests[2].url)
        assert.are.equal(ACCESS_TOKEN, bearer_of(log.api_requests[2]))
        assert.are.equal("auth0.apiv2.blacklist (" .. BASE .. ", token function)", tostring(bl))
    end)

    it("shares the client's retry settings and reports token errors under its own name", function()
        local denied = reply(401, '{"error":"access_denied","error_description":"Unauthorized"}')
        local log = fake_auth0{ token = denied }
        local mgmt = client(log, { retries = 0, timeout = 1234 })
        local ok, err = mgmt:blacklist():revoke({ jti = "j" })
        assert.is_nil(ok)
        assert.are.equal("blacklist.revoke: 401 access_denied: Unauthorized (while getting a "
            .. "token from /oauth/token)", tostring(err))
        assert.are.equal(1234, log.token_requests[1].timeout)
    end)
end)

---------------------------------------------------------------- one nginx worker (a fake ngx)

-- A transport whose /oauth/token answer takes a few yields, like a cosocket waiting.
local function slow_auth0(opts)
    opts = opts or {}
    local answer = opts.token or token_answer()
    opts.token = function()
        for _ = 1, opts.yields or 5 do coroutine.yield() end
        return answer
    end
    return fake_auth0(opts)
end

local function callers(mgmt, n)
    local fns = {}
    for i = 1, n do
        fns[i] = function() return mgmt:request("GET", "/users/{id}", { id = "u" .. i }) end
    end
    return fns
end

describe("concurrent callers in one nginx worker", function()
    it("share one pending /oauth/token request, waiting on ngx.semaphore", function()
        local semaphore = fake_semaphore_module()
        in_worker({ semaphore = semaphore }, function(slept)
            local log = slow_auth0()
            local mgmt = management.new{ domain = DOMAIN, client_id = CLIENT_ID,
                client_secret = CLIENT_SECRET, transport = log.transport }
            local results = run_concurrently(callers(mgmt, 5))
            for i = 1, 5 do
                assert.are.same({ { user_id = "auth0|123" } }, { results[i][1] })
            end
            assert.are.equal(1, #log.token_requests)
            assert.are.equal(5, #log.api_requests)
            for _, req in ipairs(log.api_requests) do
                assert.are.equal(ACCESS_TOKEN, bearer_of(req))
            end
            assert.are.equal(1, semaphore.made)
            assert.are.equal(4, semaphore.waits)
            assert.are.equal(4, semaphore.posts)
            assert.are.equal(0, #slept)
        end)
    end)

    it("share one pending request by polling with ngx.sleep without ngx.semaphore", function()
        in_worker({}, function(slept)
            local log = slow_auth0()
            local mgmt = management.new{ domain = DOMAIN, client_id = CLIENT_ID,
                client_secret = CLIENT_SECRET, transport = log.transport }
            local results = run_concurrently(callers(mgmt, 4))
            for i = 1, 4 do assert.is_table(results[i][1]) end
            assert.are.equal(1, #log.token_requests)
            assert.is_true(#slept > 0)
            for _, s in ipairs(slept) do assert.are.equal(management.POLL_INTERVAL, s) end
        end)
    end)

    it("give every waiter the error of the shared request, as a value", function()
        in_worker({ semaphore = fake_semaphore_module() }, function()
            local log = slow_auth0{ token = reply(401,
                '{"error":"access_denied","error_description":"Unauthorized"}') }
            local mgmt = management.new{ domain = DOMAIN, client_id = CLIENT_ID,
                client_secret = CLIENT_SECRET, transport = log.transport }
            local fns = callers(mgmt, 2)
            fns[3] = function() return mgmt:blacklist():list() end
            local results = run_concurrently(fns)
            assert.are.equal(1, #log.token_requests)
            for i = 1, 3 do
                assert.is_nil(results[i][1])
                assert.are.equal(401, results[i][2].status)
                assert.are.equal("access_denied", results[i][2].error_code)
            end
            assert.are.equal("management.request", results[2][2].op)
            assert.are.equal("blacklist.list", results[3][2].op)
            assert.are_not.equal(results[1][2], results[2][2])
        end)
    end)

    it("give up on a request whose caller died, and start a new one after it", function()
        local now = h.NOW
        in_worker({ now = function() return now end }, function()
            local stuck = true
            local log = fake_auth0{ token = function()
                while stuck do coroutine.yield() end
                return token_answer()
            end }
            local mgmt = management.new{ domain = DOMAIN, client_id = CLIENT_ID,
                client_secret = CLIENT_SECRET, transport = log.transport, timeout = 100,
                retries = 0, now = function() return now end }
            -- The first caller's request never ends (its nginx request was aborted).
            local _, cos = run_concurrently(callers(mgmt, 1), 3)
            assert.are.equal("suspended", coroutine.status(cos[1]))
            -- A second one waits as long as a request can take (1.4 s here), then gives up.
            local results = run_concurrently(callers(mgmt, 1))
            assert.are.equal("management.request: timeout: gave up waiting for the token "
                .. "another request is getting (while getting a token from /oauth/token)",
                tostring(results[1][2]))
            -- Once that time has passed, the next caller sends its own request.
            now = now + 2
            stuck = false
            results = run_concurrently(callers(mgmt, 1))
            assert.is_table(results[1][1])
            assert.are.equal(2, #log.token_requests)
        end)
    end)

    it("refuse to wait in a phase that cannot yield", function()
        local phase = "content"
        local semaphore = fake_semaphore_module()
        in_worker({ semaphore = semaphore, phase = function() return phase end }, function()
            local log = slow_auth0()
            local mgmt = management.new{ domain = DOMAIN, client_id = CLIENT_ID,
                client_secret = CLIENT_SECRET, transport = log.transport }
            local _, cos = run_concurrently(callers(mgmt, 1), 2)
            assert.are.equal("suspended", coroutine.status(cos[1]))
            phase = "log"
            local value, err = mgmt:request("GET", "/users")
            assert.is_nil(value)
            assert.are.equal("unavailable", err.error_code)
            assert.are.equal(0, semaphore.made)
        end)
    end)
end)
