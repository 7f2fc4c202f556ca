-- `auth0-apiv2 api` and `verify --check-revoked`, run as real subprocesses (bin/auth0-apiv2 on
-- the Lua running the specs) against the local Auth0-like server over HTTP and HTTPS.
local cjson = require "cjson"
local token = require "auth0.apiv2.token"
local h = require "spec.helpers"
local sh, control = h.must_run, h.mock_control
local write_temp = h.write_temp

local PYTHON = "/usr/bin/python3"
local MOCK = "spec/server/auth0_mock.py"
local DOMAIN = "tenant.example.com"
local CLIENT_ID, CLIENT_SECRET = "cliClient", "cl1-s3cret-0123456789abcdef"
-- Runs the command with only the AUTH0_ variables of env; returns stdout, stderr, exit code,
-- after checking that the client secret is in neither stream.
local function run(args, env, stdin)
    return h.run_cli(args, env, stdin, { CLIENT_SECRET })
end
local SCOPES = "read:users,update:users,create:users,read:organizations,blacklist:tokens"

local function lines(text)
    local out = {}
    for line in text:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
    return out
end

describe("auth0-apiv2 api against a local Auth0", function()
    local tmp, server, ready, env, https

    setup(function()
        tmp = sh("mktemp -d"):gsub("%s+$", "")
        sh("mkdir -p " .. h.quote(tmp .. "/m"))
        os.execute(("%s %s --port 0 --https-port 0 --tls-dir %s --tenant %s --client %s "
            .. "--ready-file %s >/dev/null 2>%s &"):format(PYTHON, MOCK,
            h.quote(tmp .. "/m/tls"), h.quote(h.AUD .. "=" .. h.SECRET),
            h.quote(CLIENT_ID .. "=" .. CLIENT_SECRET .. ":" .. SCOPES),
            h.quote(tmp .. "/m/ready"), h.quote(tmp .. "/m/stderr")))
        ready = tmp .. "/m/ready"
        server = h.wait_mock_ready(ready, 15)
        env = { AUTH0_DOMAIN = DOMAIN, AUTH0_CLIENT_ID = CLIENT_ID,
            AUTH0_CLIENT_SECRET = CLIENT_SECRET }
        https = { "--base-url", ("https://localhost:%s/api/v2"):format(server.https_port),
            "--ca-file", server.ca_file }
    end)

    teardown(function()
        h.stop_mock(server, ready)
        if tmp and tmp:match("^/tmp/") then os.execute("rm -rf " .. h.quote(tmp)) end
    end)

    before_each(function() control(server, "POST", "/__control/reset") end)

    local function with(list, ...)
        local out = {}
        for _, a in ipairs({ ... }) do out[#out + 1] = a end
        for _, a in ipairs(list) do out[#out + 1] = a end
        return out
    end

    it("GETs a user over HTTPS with a path parameter, as one line of JSON", function()
        local out, err, code = run(with(https, "api", "GET", "/users/{id}", "--param",
            "id=auth0|scale-00007", "--query", "fields=user_id,email"), env)
        assert.are.equal(0, code, err)
        local got = lines(out)
        assert.are.equal(1, #got)
        assert.are.equal("user00007@scale.example.com", got[1].email)
        assert.truthy(out:find('"n":7,', 1, true))       -- an integer, on every Lua
        local reqs = control(server, "GET", "/__control/requests")
        assert.are.equal("/api/v2/users/auth0%7Cscale-00007", reqs[2].path)
    end)

    it("pages through a search with --paginate, one user per line", function()
        local out, err, code = run({ "api", "GET", "/users", "--query",
            "q=app_metadata.tier:silver", "--query", "per_page=40", "--paginate", "--base-url",
            server.http .. "/api/v2" }, env)
        assert.are.equal(0, code, err)
        local users = lines(out)
        assert.are.equal(150, #users)
        assert.are.equal("silver", users[150].app_metadata.tier)
        out = run(with(https, "api", "GET", "/organizations", "--query", "take=100",
            "--paginate"), env)
        assert.are.equal(250, #lines(out))
    end)

    it("PATCHes with a body inline, from a file and from standard input", function()
        local base = { "--base-url", server.http .. "/api/v2" }
        local out, err, code = run(with(base, "api", "PATCH", "/users/{id}", "--param",
            "id=auth0|123", "--body", '{"app_metadata":{"plan":"pro"}}', "--idempotent"), env)
        assert.are.equal(0, code, err)
        assert.are.equal("pro", lines(out)[1].app_metadata.plan)
        local file = write_temp('{"app_metadata":{"plan":"team"}}')
        out = run(with(base, "api", "patch", "/api/v2/users/{id}", "--param", "id=auth0|123",
            "--body", "@" .. file), env)
        os.remove(file)
        assert.are.equal("team", lines(out)[1].app_metadata.plan)
        out = run(with(base, "api", "PATCH", "/users/{id}", "--param", "id=auth0|123",
            "--body", "-"), env, '{"name":"From Stdin"}')
        assert.are.equal("From Stdin", lines(out)[1].name)
    end)

    it("works with AUTH0_TOKEN instead of client credentials", function()
        local jwt = token.new{ aud = h.AUD, scopes = { "read:users" } }:sign(token.key(h.SECRET))
        local out, err, code = run({ "api", "GET", "/users/{id}", "--param", "id=auth0|123",
            "--base-url", server.http .. "/api/v2" }, { AUTH0_TOKEN = jwt })
        assert.are.equal(0, code, err)
        assert.are.equal("test@example.com", lines(out)[1].email)
    end)

    it("fails with exit 1 on an API error and 2 on misuse", function()
        local base = { "--base-url", server.http .. "/api/v2" }
        local out, err, code = run(with(base, "api", "GET", "/users/{id}", "--param",
            "id=auth0|nobody"), env)
        assert.are.equal(1, code)
        assert.are.equal("", out)
        assert.are.equal("auth0-apiv2 api: 404 inexistent_user: The user does not exist.\n", err)
        local _
        _, err, code = run(with(base, "--json", "api", "GET", "/users", "--query", "page=20",
            "--paginate"), env)
        assert.are.equal(1, code)
        assert.truthy(err:find("export_users", 1, true))
        assert.are.equal(1, code)
        assert.truthy(err:find("result_cap", 1, true))
        for _, bad in ipairs({
            { "api", "GET" },
            { "api", "GET", "/users", "--body", "{nope" },
            { "api", "POST", "/users", "--paginate" },
            { "api", "GET", "users" },
            { "api", "GET", "/users/{id}" },
            { "api", "GET", "/users", "--param", "x" },
        }) do
            out, err, code = run(with(base, table.unpack and table.unpack(bad) or unpack(bad)),
                env)
            assert.are.equal(2, code, table.concat(bad, " ") .. ": " .. err)
            assert.are.equal("", out)
        end
        _, err, code = run(with(base, "api", "GET", "/users"), { AUTH0_DOMAIN = DOMAIN })
        assert.are.equal(2, code)
        assert.truthy(err:find("no credentials", 1, true))
    end)

    it("verify --check-revoked refuses a revoked token and passes a live one", function()
        local key = token.key(h.SECRET)
        local live = token.new{ aud = h.AUD, scopes = { "read:users" } }:sign(key)
        local victim = token.new{ aud = h.AUD, scopes = { "read:users" } }:sign(key)
        local base = { "--base-url", server.http .. "/api/v2" }
        local senv = { AUTH0_API_SECRET = h.SECRET }
        local _, err, code = run(with(base, "revoke", victim), senv)
        assert.are.equal(0, code, err)
        _, err, code = run(with(base, "verify", victim, "--check-revoked"), senv)
        assert.are.equal(1, code)
        assert.are.equal("auth0-apiv2 verify: revoked\n", err)
        _, err, code = run(with(base, "verify", live, "--check-revoked"), senv)
        assert.are.equal(0, code, err)
        _, err, code = run(with(base, "verify", victim), senv)
        assert.are.equal(0, code, err)        -- without the flag, the blacklist is not asked
        _, err, code = run({ "verify", live, "--check-revoked", "--retries", "0",
            "--base-url", "http://127.0.0.1:9/api/v2" }, senv)
        assert.are.equal(1, code)
        assert.are.equal("auth0-apiv2 verify: revocation check failed\n", err)
    end)
end)
