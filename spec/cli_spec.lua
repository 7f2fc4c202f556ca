-- The auth0-apiv2 command, run as a real subprocess (bin/auth0-apiv2 on the Lua running the
-- specs), revoke and blacklist against the local Auth0-like server; and cli.main in-process.
local cli = require "auth0.apiv2.cli"
local token = require "auth0.apiv2.token"
local scopes = require "auth0.apiv2.scopes"
local cjson = require "cjson"
local socket = require "socket"
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local h = require "spec.helpers"

local PYTHON = "/usr/bin/python3"
local MOCK = "spec/server/auth0_mock.py"
local VERSION = require("auth0.apiv2")._VERSION
-- A plain-text secret (--raw-secret) and one that is not base64 text.
local RAW_SECRET = "correct horse battery staple, plain text secret!"
local WRONG_SECRET = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy"
local SECRETS = { h.SECRET, RAW_SECRET, WRONG_SECRET }
local write_temp = h.write_temp

-- Runs bin/auth0-apiv2 with args; opts.env, opts.stdin (h.run_cli), checking that no secret
-- is in either stream.
local function run(args, opts)
    opts = opts or {}
    return h.run_cli(args, opts.env, opts.stdin, SECRETS)
end

local WITH_SECRET = { env = { AUTH0_API_SECRET = h.SECRET } }

-- A usage error: exit 2, nothing on stdout, one line on stderr; returns that line.
local function usage_error(args, opts)
    local stdout, stderr, code = run(args, opts)
    assert.are.equal(2, code, stderr)
    assert.are.equal("", stdout)
    assert.is_truthy(stderr:match("^[^\n]+\n$"), "not one line: " .. stderr)
    return stderr
end

local function sign(opts, secret)
    return token.new(opts):sign(secret or h.SECRET)
end

local function claims_of(jwt)
    local _, claims = assert(token.decode(jwt))
    return claims
end

describe("auth0-apiv2", function()
    it("prints the version of the rock", function()
        local stdout, _, code = run({ "--version" })
        assert.are.equal(0, code)
        assert.are.equal("auth0-apiv2 " .. VERSION .. "\n", stdout)
        stdout = run({ "--version", "--json" })
        assert.are.same({ version = VERSION }, cjson.decode(stdout))
    end)

    it("prints help overall and for each command, exit 0", function()
        for _, args in ipairs({ { "--help" }, { "-h" }, { "help" } }) do
            local stdout, _, code = run(args)
            assert.are.equal(0, code)
            assert.is_truthy(stdout:find("^usage: auth0%-apiv2 COMMAND"))
        end
        for _, name in ipairs({ "sign", "decode", "verify", "revoke", "blacklist", "scopes" }) do
            for _, args in ipairs({ { name, "--help" }, { "help", name }, { name, "-x", "-h" } }) do
                local stdout, stderr, code = run(args)
                assert.are.equal(0, code, stderr)
                assert.is_truthy(stdout:find("^usage: auth0%-apiv2 " .. name), stdout)
            end
        end
    end)

    it("exits 2 with one line on stderr for usage errors", function()
        assert.are.equal("auth0-apiv2: a command is required (see auth0-apiv2 --help)\n",
            usage_error({}))
        assert.are.equal("auth0-apiv2: unknown command frobnicate (see auth0-apiv2 --help)\n",
            usage_error({ "frobnicate" }))
        assert.are.equal("auth0-apiv2 decode: unknown option --frob (see auth0-apiv2 decode "
            .. "--help)\n", usage_error({ "decode", "--frob", "x.y.z" }))
        assert.are.equal("auth0-apiv2 sign: --aud needs a value (see auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud" }))
        assert.are.equal("auth0-apiv2 sign: --lifetime given twice (see auth0-apiv2 sign "
            .. "--help)\n", usage_error({ "sign", "--lifetime", "1", "--lifetime", "2" }))
        assert.are.equal("auth0-apiv2 decode: --json takes no value (see auth0-apiv2 decode "
            .. "--help)\n", usage_error({ "decode", "--json=yes", "x.y.z" }))
    end)

    it("refuses a secret on the command line, saying why, and never repeats it", function()
        for _, args in ipairs({
            { "sign", "--aud", h.AUD, "--secret", h.SECRET },
            { "sign", "--aud", h.AUD, "--secret=" .. h.SECRET },
            { "verify", "x.y.z", "--client-secret", h.SECRET },
            { "revoke", "--jti", "j", "--aud", h.AUD, "--secret", h.SECRET },
        }) do
            local line = usage_error(args)   -- also checks that stdout is empty
            assert.is_truthy(line:find("is refused: a secret on the command line is visible to "
                .. "every user of this machine", 1, true), line)
            -- Not the secret, nor any 8-character piece of it.
            for i = 1, #h.SECRET - 7 do
                assert.is_nil(line:find(h.SECRET:sub(i, i + 7), 1, true), line)
            end
        end
    end)

    it("does not repeat arguments it does not understand (they could be secrets)", function()
        local line = usage_error({ "sign", "--aud", h.AUD, h.SECRET })
        assert.are.equal("auth0-apiv2 sign: takes no arguments, got 1 (see auth0-apiv2 sign "
            .. "--help)\n", line)
        line = usage_error({ "sign", "--aud", h.AUD, "-" .. h.SECRET })
        assert.is_truthy(line:find("unknown option (not shown", 1, true))
        line = usage_error({ h.SECRET })
        assert.are.equal("auth0-apiv2: unknown command (see auth0-apiv2 --help)\n", line)
        line = usage_error({ "--" .. RAW_SECRET })
        assert.are.equal("auth0-apiv2: unknown option before the command (see auth0-apiv2 "
            .. "--help)\n", line)
    end)
end)

describe("auth0-apiv2 sign", function()
    it("signs with the secret from AUTH0_API_SECRET and prints the token alone", function()
        local stdout, stderr, code = run({ "sign", "--aud", h.AUD, "--scope", "read:users",
            "--scope", "update:users,create:users" }, WITH_SECRET)
        assert.are.equal(0, code, stderr)
        assert.are.equal("", stderr)
        local jwt = stdout:match("^([%w_.-]+)\n$")
        local claims = assert(token.verify(jwt, h.SECRET, { audience = h.AUD }))
        assert.are.same({ "read", "update", "create" }, claims.scopes.users.actions)
        assert.is_nil(claims.exp)
        assert.is_true(math.abs(claims.iat - os.time()) < 60)
        assert.are.equal(32, #claims.jti)
    end)

    it("reads the secret from --secret-file and from standard input", function()
        local path = write_temp(h.SECRET .. "\n")
        local stdout, stderr, code = run({ "sign", "--aud", h.AUD, "--secret-file", path })
        os.remove(path)
        assert.are.equal(0, code, stderr)
        assert.is_table(token.verify(stdout:match("^(%S+)\n$"), h.SECRET))
        stdout, stderr, code = run({ "sign", "--aud", h.AUD }, { stdin = "  " .. h.SECRET .. "\n" })
        assert.are.equal(0, code, stderr)
        assert.is_table(token.verify(stdout:match("^(%S+)\n$"), h.SECRET))
    end)

    it("prefers --secret-file to AUTH0_API_SECRET", function()
        local path = write_temp(WRONG_SECRET)
        local stdout = run({ "sign", "--aud", h.AUD, "--secret-file", path }, WITH_SECRET)
        os.remove(path)
        assert.is_table(token.verify(stdout:match("^(%S+)\n$"), WRONG_SECRET))
    end)

    it("uses a plain-text secret's bytes with --raw-secret", function()
        local stdout, stderr, code = run({ "sign", "--aud", h.AUD, "--raw-secret" },
            { stdin = RAW_SECRET .. "\n" })
        assert.are.equal(0, code, stderr)
        local key = token.key(RAW_SECRET, { encoding = "raw" })
        assert.is_table(token.verify(stdout:match("^(%S+)\n$"), key))
    end)

    it("refuses a missing, malformed or short secret (exit 2)", function()
        assert.are.equal("auth0-apiv2 sign: no secret: give it in AUTH0_API_SECRET, "
            .. "--secret-file FILE or standard input (see auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud", h.AUD }))
        assert.are.equal("auth0-apiv2 sign: the secret from AUTH0_API_SECRET is not base64 or "
            .. "base64url text; for a plain-text secret add --raw-secret (see auth0-apiv2 sign "
            .. "--help)\n", usage_error({ "sign", "--aud", h.AUD },
            { env = { AUTH0_API_SECRET = RAW_SECRET } }))
        assert.are.equal("auth0-apiv2 sign: the secret from standard input: key is 24 bytes, "
            .. "at least 32 are required (see auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud", h.AUD }, { stdin = string.rep("A", 32) }))
        local line = usage_error({ "sign", "--aud", h.AUD, "--secret-file", "/nonexistent/s" })
        assert.is_truthy(line:find("cannot read the file given to --secret-file (No such file "
            .. "or directory)", 1, true))
        assert.is_nil(line:find("/nonexistent/s", 1, true))   -- never the path (issue 15)
    end)

    it("grants the least privileged scope of each --endpoint", function()
        local stdout, stderr, code = run({ "sign", "--aud", h.AUD, "--endpoint",
            "PATCH /users/{id}", "--endpoint", "GET /api/v2/users/auth0|123" }, WITH_SECRET)
        assert.are.equal(0, code, stderr)
        local claims = claims_of(stdout:match("^(%S+)\n$"))
        assert.are.same({ users_app_metadata = { actions = { "update" } },
            users = { actions = { "read" } } }, claims.scopes)
        assert.are.equal("auth0-apiv2 sign: token.new: endpoint 'GET /nothing': unknown "
            .. "endpoint (see auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud", h.AUD, "--endpoint", "GET /nothing" }, WITH_SECRET))
    end)

    it("sets exp from --lifetime", function()
        local stdout = run({ "sign", "--aud", h.AUD, "--lifetime", "600" }, WITH_SECRET)
        local claims = claims_of(stdout:match("^(%S+)\n$"))
        assert.are.equal(claims.iat + 600, claims.exp)
        for _, bad in ipairs({ "0", "-5", "1.5", "soon" }) do
            assert.are.equal("auth0-apiv2 sign: --lifetime must be a whole number from 1 to "
                .. "9007199254740991 (see auth0-apiv2 sign --help)\n",
                usage_error({ "sign", "--aud", h.AUD, "--lifetime", bad }, WITH_SECRET))
        end
    end)

    it("adds --claim values as JSON scalars when they are, else as text", function()
        local stdout, stderr, code = run({ "sign", "--aud", h.AUD,
            "--claim", "n=42", "--claim", "neg=-1.5", "--claim", "e=1e3", "--claim", "t=true",
            "--claim", "f=false", "--claim", "nul=null", "--claim", "s=hello world",
            "--claim", 'q="42"', "--claim", "zero=007", "--claim", "plus=+1",
            "--claim", "big=123456789012345678901", "--claim", "eq=a=b", "--claim", "empty=",
            "--claim", "True=True" }, WITH_SECRET)
        assert.are.equal(0, code, stderr)
        local payload = h.payload_text(stdout:match("^(%S+)\n$"))
        assert.are.equal('{"True":"True","big":"123456789012345678901","e":1000,"empty":"",'
            .. '"eq":"a=b","f":false,"n":42,"neg":-1.5,"nul":null,"plus":"+1","q":"42",'
            .. '"s":"hello world","t":true,"zero":"007","iat":', payload:match('^.-"iat":'))
    end)

    it("refuses reserved or malformed claims", function()
        assert.are.equal("auth0-apiv2 sign: --claim exp: exp is set by the command (iat, "
            .. "scopes, jti, exp and aud are reserved) (see auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud", h.AUD, "--claim", "exp=1" }, WITH_SECRET))
        assert.are.equal("auth0-apiv2 sign: --claim takes NAME=VALUE (see auth0-apiv2 sign "
            .. "--help)\n", usage_error({ "sign", "--aud", h.AUD, "--claim", "x" }, WITH_SECRET))
        assert.are.equal("auth0-apiv2 sign: --claim x given twice (see auth0-apiv2 sign "
            .. "--help)\n", usage_error({ "sign", "--aud", h.AUD, "--claim", "x=1", "--claim",
            "x=2" }, WITH_SECRET))
    end)

    it("checks scopes: syntax, current_user, and the catalog with --strict-scopes", function()
        assert.are.equal("auth0-apiv2 sign: token.new: malformed scope 'Read:users' at "
            .. "scopes[1]: expected action:entity in lower case, e.g. read:users (see "
            .. "auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud", h.AUD, "--scope", "Read:users" }, WITH_SECRET))
        local line = usage_error({ "sign", "--aud", h.AUD, "--scope", "read:current_user" },
            WITH_SECRET)
        assert.is_truthy(line:find("is a current_user scope", 1, true))
        local _, _, code = run({ "sign", "--aud", h.AUD, "--scope", "frob:widgets" }, WITH_SECRET)
        assert.are.equal(0, code)
        assert.are.equal("auth0-apiv2 sign: token.new: unknown scope 'frob:widgets' "
            .. "(strict_scopes is on) (see auth0-apiv2 sign --help)\n",
            usage_error({ "sign", "--aud", h.AUD, "--scope", "frob:widgets", "--strict-scopes" },
            WITH_SECRET))
    end)

    it("needs --aud", function()
        assert.are.equal("auth0-apiv2 sign: --aud is required (the tenant's API key) (see "
            .. "auth0-apiv2 sign --help)\n", usage_error({ "sign" }, WITH_SECRET))
    end)

    it("prints the token and its claims with --json", function()
        local stdout, _, code = run({ "sign", "--aud", h.AUD, "--scope", "read:users",
            "--json" }, WITH_SECRET)
        assert.are.equal(0, code)
        local out = cjson.decode(stdout)
        assert.are.same(assert(token.verify(out.token, h.SECRET)), out.claims)
        assert.are.equal(h.AUD, out.claims.aud)
    end)
end)

describe("auth0-apiv2 decode", function()
    local jwt = sign{ aud = h.AUD, scopes = { "read:users" }, iat = 1000000000,
        exp = 1000003600, jti = "0123456789abcdef0123456789abcdef" }

    it("prints header and claims as pretty JSON, the times in UTC and the scopes", function()
        local stdout, stderr, code = run({ "decode", jwt })
        assert.are.equal(0, code, stderr)
        assert.are.equal([[
header:
{
  "alg": "HS256",
  "typ": "JWT"
}
claims:
{
  "aud": "DEMOapiKEY0123456789abcdefghijkl",
  "exp": 1000003600,
  "iat": 1000000000,
  "jti": "0123456789abcdef0123456789abcdef",
  "scopes": {
    "users": {
      "actions": [
        "read"
      ]
    }
  }
}
times (UTC):
  iat  2001-09-09T01:46:40Z
  exp  2001-09-09T02:46:40Z  (expired)
scopes:
  read:users
]], stdout)
    end)

    it("reads the token from standard input with -, and needs no secret", function()
        local stdout, _, code = run({ "decode", "-" }, { stdin = "\n" .. jwt .. "\n" })
        assert.are.equal(0, code)
        assert.is_truthy(stdout:find('"jti": "0123456789abcdef0123456789abcdef"', 1, true))
    end)

    it("notes current_user scopes and a missing jti", function()
        local special = h.forge('{"alg":"HS256"}', '{"scopes":{"current_user":{"actions":'
            .. '["read"]},"users":{"actions":["read"]}},"scope":"read:users update:users"}',
            h.unhex(h.SECRET_HEX))
        local stdout, _, code = run({ "decode", special })
        assert.are.equal(0, code)
        local tail = "scopes:\n  read:current_user\n  read:users\n  update:users\n"
            .. "note: read:current_user is a current_user scope: Auth0 grants it only to a "
            .. "logged-in user's own token, so a token signed with the API secret cannot use "
            .. "it\nnote: the token has no jti, so it cannot be revoked\n"
        assert.are.equal(tail, stdout:sub(-#tail))
    end)

    it("prints machine-readable JSON with --json", function()
        local stdout, _, code = run({ "decode", "--json", jwt })
        assert.are.equal(0, code)
        local _, payload = require("auth0.apiv2.core").jws_parse(jwt)
        assert.is_truthy(stdout:find('{"claims":' .. payload .. ',', 1, true))
        assert.are.same({
            claims = claims_of(jwt), header = { alg = "HS256", typ = "JWT" },
            scopes = { "read:users" }, special_scopes = {},
            times = { iat = "2001-09-09T01:46:40Z", exp = "2001-09-09T02:46:40Z" },
        }, cjson.decode(stdout))
    end)

    it("exits 1 with the reason for a token it cannot read, without repeating it", function()
        local bad = jwt:sub(1, -3) .. "!!"
        local stdout, stderr, code = run({ "decode", bad })
        assert.are.equal(1, code)
        assert.are.equal("", stdout)
        assert.are.equal("auth0-apiv2 decode: malformed token\n", stderr)
        stdout, stderr, code = run({ "decode", "--json", "a.b" })
        assert.are.equal(1, code)
        assert.are.same({ error = "malformed token" }, cjson.decode(stdout))
        assert.are.equal("auth0-apiv2 decode: malformed token\n", stderr)
        assert.are.equal("auth0-apiv2 decode: a token (or - for standard input) is required (see "
            .. "auth0-apiv2 decode --help)\n", usage_error({ "decode" }))
        assert.are.equal("auth0-apiv2 decode: the token is empty (see auth0-apiv2 decode "
            .. "--help)\n", usage_error({ "decode", "-" }))
    end)
end)

describe("auth0-apiv2 verify", function()
    local now = os.time()
    local good = sign{ aud = h.AUD, scopes = { "read:users" }, lifetime = 3600 }
    local expired = sign{ aud = h.AUD, iat = now - 1000, exp = now - 100 }

    it("exits 0 and prints the claims of a valid token", function()
        local stdout, stderr, code = run({ "verify", good, "--aud", h.AUD, "--scope",
            "read:users", "--require-exp" }, WITH_SECRET)
        assert.are.equal(0, code, stderr)
        assert.are.equal("", stderr)
        assert.are.same(claims_of(good), cjson.decode(stdout))
        assert.is_truthy(stdout:find('^{\n  "aud": "'))
    end)

    it("exits 1 with the reason on stderr for an invalid token", function()
        local cases = {
            { { "verify", good }, { env = { AUTH0_API_SECRET = WRONG_SECRET } },
                "signature mismatch" },
            { { "verify", expired }, WITH_SECRET, "expired" },
            { { "verify", good, "--aud", "someone else" }, WITH_SECRET, "audience mismatch" },
            { { "verify", good, "--scope", "read:users,delete:users" }, WITH_SECRET,
                "insufficient scope (missing: delete:users)" },
            { { "verify", good, "--scope", "delete:users,update:clients" }, WITH_SECRET,
                "insufficient scope (missing: delete:users, update:clients)" },
            { { "verify", (expired:gsub("^[^.]+", "eyJhbGciOiJub25lIn0")) }, WITH_SECRET,
                "alg not allowed" },
            { { "verify", sign{ aud = h.AUD } , "--require-exp" }, WITH_SECRET, "exp missing" },
            { { "verify", "x.y.z" }, WITH_SECRET, "invalid base64url" },
        }
        for _, case in ipairs(cases) do
            local stdout, stderr, code = run(case[1], case[2])
            assert.are.equal(1, code, case[3])
            assert.are.equal("", stdout)
            assert.are.equal("auth0-apiv2 verify: " .. case[3] .. "\n", stderr)
        end
    end)

    it("allows clock skew with --leeway, 0 to 300 seconds", function()
        local _, _, code = run({ "verify", expired, "--leeway", "200" }, WITH_SECRET)
        assert.are.equal(0, code)
        for _, bad in ipairs({ "301", "-1", "1.5", "lots" }) do
            assert.are.equal("auth0-apiv2 verify: --leeway must be a whole number from 0 to 300 "
                .. "(see auth0-apiv2 verify --help)\n",
                usage_error({ "verify", expired, "--leeway", bad }, WITH_SECRET))
        end
    end)

    it("prints machine-readable results with --json", function()
        local stdout, _, code = run({ "verify", "--json", good }, WITH_SECRET)
        assert.are.equal(0, code)
        assert.are.same({ valid = true, claims = claims_of(good) }, cjson.decode(stdout))
        stdout, _, code = run({ "verify", "--json", expired }, WITH_SECRET)
        assert.are.equal(1, code)
        assert.are.same({ valid = false, reason = "expired" }, cjson.decode(stdout))
    end)

    it("reads the token from standard input, and then not the secret", function()
        local stdout, _, code = run({ "verify", "-" }, { stdin = good, env = WITH_SECRET.env })
        assert.are.equal(0, code)
        assert.are.equal(h.AUD, cjson.decode(stdout).aud)
        assert.are.equal("auth0-apiv2 verify: the token is read from standard input, so the "
            .. "secret must come from AUTH0_API_SECRET or --secret-file (see auth0-apiv2 verify "
            .. "--help)\n", usage_error({ "verify", "-" }, { stdin = good }))
    end)

    it("reads the secret from standard input when the token is an argument", function()
        local _, _, code = run({ "verify", good }, { stdin = h.SECRET })
        assert.are.equal(0, code)
    end)
end)

---------------------------------------------------------------- against the local server

-- Calls the server's control API with LuaSocket's own client (independent of ours).
local function control(base, method, path)
    local chunks = {}
    socket_http.TIMEOUT = 5
    local ok, status = socket_http.request{ url = base .. path, method = method,
        sink = ltn12.sink.table(chunks) }
    assert(ok and status == 200, "control " .. path .. ": " .. tostring(status))
    return cjson.decode(table.concat(chunks))
end

describe("auth0-apiv2 revoke and blacklist against a local Auth0", function()
    local dir, base, pid, api

    setup(function()
        local out = assert(h.run("mktemp -d"))
        dir = out:gsub("%s+$", "")
        local ready = dir .. "/ready"
        os.execute(("%s %s --port 0 --http-only --tenant %s --ready-file %s >/dev/null 2>%s &")
            :format(PYTHON, MOCK, h.quote(h.AUD .. "=" .. h.SECRET), h.quote(ready),
            h.quote(dir .. "/stderr")))
        local deadline = socket.gettime() + 15
        while socket.gettime() < deadline do
            local f = io.open(ready, "rb")
            if f then
                local info = cjson.decode(f:read("*a"))
                f:close()
                base = ("http://127.0.0.1:%d"):format(info.http_port)
                pid = ("%d"):format(info.pid)
                break
            end
            socket.sleep(0.02)
        end
        assert(base, "auth0_mock did not start")
        api = base .. "/api/v2"
    end)

    teardown(function()
        if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
        if dir and dir:match("^/tmp/") then os.execute("rm -rf " .. h.quote(dir)) end
    end)

    before_each(function()
        control(base, "POST", "/__control/reset")
    end)

    local function recorded()
        return control(base, "GET", "/__control/requests")
    end

    it("revokes a token with an admin token signed from the secret, then lists it", function()
        local victim = sign{ aud = h.AUD, scopes = { "read:users" } }
        local jti = claims_of(victim).jti
        local stdout, stderr, code = run({ "revoke", victim, "--base-url", api }, WITH_SECRET)
        assert.are.equal(0, code, stderr)
        assert.are.equal("revoked jti " .. jti .. " (aud " .. h.AUD .. ")\n", stdout)
        local requests = recorded()
        assert.are.equal(1, #requests)
        assert.are.same({ jti = jti, aud = h.AUD }, cjson.decode(requests[1].body))
        local admin = requests[1].headers.authorization:match("^Bearer (%S+)$")
        local claims = assert(token.verify(admin, h.SECRET))
        assert.are.same({ "blacklist" }, claims.scopes.tokens.actions)
        assert.is_nil(requests[1].body:find(h.SECRET, 1, true))

        stdout, stderr, code = run({ "blacklist", "--aud", h.AUD, "--base-url", api },
            WITH_SECRET)
        assert.are.equal(0, code, stderr)
        assert.are.equal(("AUD%s  JTI\n%s  %s\n"):format((" "):rep(#h.AUD - 3), h.AUD, jti),
            stdout)
        stdout, stderr, code = run({ "blacklist", "--aud", h.AUD, "--base-url", api, "--json" },
            WITH_SECRET)
        assert.are.equal(0, code, stderr)
        assert.are.same({ { aud = h.AUD, jti = jti } }, cjson.decode(stdout))

        -- the server now refuses the revoked token
        stdout, stderr, code = run({ "blacklist", "--base-url", api },
            { env = { AUTH0_TOKEN = victim } })
        assert.are.equal(1, code)
        assert.are.equal("", stdout)
        assert.are.equal("auth0-apiv2 blacklist: 401 invalid_token: Invalid token\n", stderr)
    end)

    it("revokes by --jti and --aud, and a token read from standard input", function()
        local stdout, stderr, code = run({ "revoke", "--jti", "abc", "--aud", h.AUD,
            "--base-url", api, "--json" }, WITH_SECRET)
        assert.are.equal(0, code, stderr)
        assert.are.same({ revoked = true, jti = "abc", aud = h.AUD }, cjson.decode(stdout))
        local victim = sign{ aud = h.AUD }
        stdout, stderr, code = run({ "revoke", "-", "--base-url", api },
            { stdin = victim .. "\n", env = WITH_SECRET.env })
        assert.are.equal(0, code, stderr)
        assert.are.equal("revoked jti " .. claims_of(victim).jti .. " (aud " .. h.AUD .. ")\n",
            stdout)
        stdout = run({ "blacklist", "--aud", h.AUD, "--base-url", api, "--json" }, WITH_SECRET)
        assert.are.same({ { aud = h.AUD, jti = "abc" },
            { aud = h.AUD, jti = claims_of(victim).jti } }, cjson.decode(stdout))
    end)

    it("uses AUTH0_TOKEN as the bearer token when it is set", function()
        local admin = sign{ aud = h.AUD, scopes = { "blacklist:tokens" } }
        local stdout, stderr, code = run({ "blacklist", "--base-url", api },
            { env = { AUTH0_TOKEN = admin } })
        assert.are.equal(0, code, stderr)
        assert.are.equal("no revoked tokens\n", stdout)
        assert.are.equal("Bearer " .. admin, recorded()[1].headers.authorization)
        stdout, stderr, code = run({ "revoke", "--jti", "j1", "--base-url", api },
            { env = { AUTH0_TOKEN = admin } })
        assert.are.equal(0, code, stderr)
        assert.are.equal("revoked jti j1\n", stdout)
    end)

    it("exits 1 with Auth0's error when the request is refused", function()
        local weak = sign{ aud = h.AUD, scopes = { "read:users" } }
        local stdout, stderr, code = run({ "revoke", "--jti", "j1", "--base-url", api, "--json" },
            { env = { AUTH0_TOKEN = weak } })
        assert.are.equal(1, code)
        assert.are.equal("auth0-apiv2 revoke: 403 insufficient_scope: Insufficient scope, "
            .. "expected any of: blacklist:tokens\n", stderr)
        local out = cjson.decode(stdout)
        assert.are.equal(403, out.error.status)
        assert.are.equal("insufficient_scope", out.error.error_code)
        assert.is_nil(stdout:find(weak, 1, true))
        assert.is_nil(stderr:find(weak, 1, true))
    end)

    it("sends nothing for a token without jti", function()
        local no_jti = h.forge('{"alg":"HS256"}', '{"aud":"' .. h.AUD .. '"}', h.unhex(h.SECRET_HEX))
        local _, stderr, code = run({ "revoke", no_jti, "--base-url", api }, WITH_SECRET)
        assert.are.equal(1, code)
        assert.are.equal("auth0-apiv2 revoke: missing_jti: the token has no jti, so it cannot be "
            .. "revoked\n", stderr)
        assert.are.equal(0, #recorded())
    end)

    it("exits 1 when no server answers", function()
        local _, stderr, code = run({ "blacklist", "--aud", h.AUD, "--base-url",
            "http://127.0.0.1:1/api/v2" }, WITH_SECRET)
        assert.are.equal(1, code)
        assert.are.equal("auth0-apiv2 blacklist: connection_refused: connect to 127.0.0.1:1: "
            .. "connection refused\n", stderr)
    end)

    it("exits 2 without a tenant, an admin token or a usable option", function()
        assert.are.equal("auth0-apiv2 blacklist: the tenant is unknown: give --domain or set "
            .. "AUTH0_DOMAIN (see auth0-apiv2 blacklist --help)\n",
            usage_error({ "blacklist", "--aud", h.AUD }, WITH_SECRET))
        assert.are.equal("auth0-apiv2 blacklist: blacklist.new: domain must be a host name, e.g. "
            .. "tenant.auth0.com (see auth0-apiv2 blacklist --help)\n",
            usage_error({ "blacklist", "--aud", h.AUD },
            { env = { AUTH0_DOMAIN = "not a host", AUTH0_API_SECRET = h.SECRET } }))
        assert.are.equal("auth0-apiv2 blacklist: no admin token: set AUTH0_TOKEN, or give --aud "
            .. "so that one is signed with the secret (see auth0-apiv2 blacklist --help)\n",
            usage_error({ "blacklist", "--domain", "tenant.auth0.com" }, WITH_SECRET))
        assert.are.equal("auth0-apiv2 revoke: --aud goes with --jti: a token's own aud is used "
            .. "(see auth0-apiv2 revoke --help)\n",
            usage_error({ "revoke", "a.b.c", "--aud", h.AUD, "--base-url", api }, WITH_SECRET))
        assert.are.equal("auth0-apiv2 revoke: give a token or --jti, not both (see auth0-apiv2 "
            .. "revoke --help)\n",
            usage_error({ "revoke", "a.b.c", "--jti", "j", "--base-url", api }, WITH_SECRET))
        usage_error({ "revoke", "--base-url", api }, WITH_SECRET)
        usage_error({ "blacklist", "--aud", h.AUD, "--base-url", api, "--retries", "11" },
            WITH_SECRET)
        local line = usage_error({ "blacklist", "--aud", h.AUD, "--base-url", api,
            "--ca-file", "/nonexistent/ca.pem" }, WITH_SECRET)
        assert.is_truthy(line:find("cannot read ca_file /nonexistent/ca.pem", 1, true))
        assert.are.equal(0, #recorded())
    end)
end)

describe("auth0-apiv2 scopes", function()
    it("prints the scopes of an endpoint, marking the one sign --endpoint grants", function()
        local expected = [[
SCOPE                         DESCRIPTION
update:users                  Update Users
update:users_app_metadata     Update Users App Metadata  [least privileged: sign --endpoint grants it]
update:current_user_metadata  Update Current User Metadata  [current_user: only in a user's own token]
]]
        for _, endpoint in ipairs({ "PATCH /users/{id}", "patch /api/v2/users/auth0|123" }) do
            local stdout, stderr, code = run({ "scopes", "--endpoint", endpoint })
            assert.are.equal(0, code, stderr)
            assert.are.equal(expected, stdout)
        end
    end)

    it("filters by entity and by a word, and lists the whole catalog", function()
        local stdout = run({ "scopes", "--entity", "users" })
        assert.are.equal("SCOPE         DESCRIPTION\ncreate:users  Create Users\n"
            .. "delete:users  Delete Users\nread:users    Read Users\n"
            .. "update:users  Update Users\n", stdout)
        stdout = run({ "scopes", "--search", "BLACKLIST" })
        assert.are.equal("SCOPE             DESCRIPTION\nblacklist:tokens  Blacklist Tokens\n",
            stdout)
        stdout = run({ "scopes", "--entity", "users", "--search", "read" })
        assert.are.equal("SCOPE       DESCRIPTION\nread:users  Read Users\n", stdout)
        local _, n = run({ "scopes" }):gsub("\n", "")
        assert.are.equal(#scopes.all() + 1, n)
        stdout = run({ "scopes", "--entities" })
        assert.are.equal(table.concat(scopes.entities(), "\n") .. "\n", stdout)
    end)

    it("prints JSON with --json", function()
        local stdout, _, code = run({ "scopes", "--endpoint", "GET /users", "--json" })
        assert.are.equal(0, code)
        assert.are.same({
            { scope = "read:users", description = "Read Users", special = false,
                least_privileged = true },
            { scope = "read:user_idp_tokens", description = scopes.describe("read:user_idp_tokens"),
                special = false, least_privileged = false },
        }, cjson.decode(stdout))
        stdout = run({ "scopes", "--entity", "tokens", "--json" })
        assert.are.same({ { scope = "blacklist:tokens", description = "Blacklist Tokens",
            special = false } }, cjson.decode(stdout))
    end)

    it("exits 1 when nothing matches and 2 for a malformed endpoint", function()
        local stdout, stderr, code = run({ "scopes", "--search", "no such words" })
        assert.are.equal(1, code)
        assert.are.equal("", stdout)
        assert.are.equal("auth0-apiv2 scopes: no scope matches\n", stderr)
        stdout, stderr, code = run({ "scopes", "--endpoint", "GET /nothing/here" })
        assert.are.equal(1, code)
        assert.are.equal("", stdout)
        assert.are.equal("auth0-apiv2 scopes: unknown endpoint\n", stderr)
        assert.are.equal("auth0-apiv2 scopes: --endpoint takes \"METHOD PATH\", e.g. "
            .. "\"GET /users/{id}\" (see auth0-apiv2 scopes --help)\n",
            usage_error({ "scopes", "--endpoint", "users" }))
    end)
end)

---------------------------------------------------------------- in-process

describe("cli.main", function()
    local function sink()
        local chunks = {}
        return { write = function(_, ...)
            for i = 1, select("#", ...) do chunks[#chunks + 1] = select(i, ...) end
        end, text = function() return table.concat(chunks) end }
    end

    local function call(argv, stdin, env)
        local out, err = sink(), sink()
        local code = cli.main(argv, {
            stdout = out, stderr = err,
            stdin = { read = function() return stdin or "" end },
            getenv = function(name) return (env or {})[name] end,
            now = function() return h.NOW end,
        })
        return code, out.text(), err.text()
    end

    it("returns the exit code and writes to the streams it is given", function()
        local code, stdout, stderr = call({ "sign", "--aud", h.AUD, "--lifetime", "60" },
            h.SECRET)
        assert.are.equal(0, code, stderr)
        local claims = assert(token.verify(stdout:match("^(%S+)\n$"), h.SECRET, { now = h.NOW }))
        assert.are.equal(h.NOW, claims.iat)
        assert.are.equal(h.NOW + 60, claims.exp)
        code, stdout, stderr = call({ "sign", "--aud", h.AUD, "--secret", h.SECRET })
        assert.are.equal(2, code)
        assert.are.equal("", stdout)
        assert.is_nil(stderr:find(h.SECRET, 1, true))
    end)

    it("uses its clock for verify", function()
        local jwt = sign{ aud = h.AUD, iat = h.NOW, exp = h.NOW + 10 }
        assert.are.equal(0, (call({ "verify", jwt }, h.SECRET)))
        local out, err = sink(), sink()
        assert.are.equal(1, cli.main({ "verify", jwt }, { stdout = out, stderr = err,
            getenv = function() return h.SECRET end, now = function() return h.NOW + 10 end }))
        assert.are.equal("auth0-apiv2 verify: expired\n", err.text())
    end)

    it("raises on misuse", function()
        local ok, err = pcall(cli.main, "sign")
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find("cli.main: argv must be a table", 1, true))
        ok, err = pcall(cli.main, {}, {})
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find("cli.main: io_table needs stdout and stderr", 1, true))
    end)
end)

describe("cli.pretty", function()
    it("sorts keys by bytes and indents by two spaces", function()
        assert.are.equal('{\n  "B": [\n    1,\n    "x",\n    {}\n  ],\n  "a": {\n    "c": null\n'
            .. '  },\n  "b": true\n}', cli.pretty{ b = true, a = { c = cjson.null },
            B = { 1, "x", {} } })
        assert.are.equal('"\\u0001\\n"', cli.pretty("\1\n"))
    end)
end)
