-- Regressions of issue 15 in the command (items 8, 9, 11): control bytes from a token or a
-- server shown, never obeyed; --secret-file never repeats its path; --json on one line.
local cli = require "auth0.apiv2.cli"
local h = require "spec.helpers"
local hostile = require "spec.hardening.hostile_server"

local ESC = "\27"
local HEADER = '{"alg":"HS256","typ":"JWT"}'

-- Runs cli.main in-process; returns stdout, stderr and the exit code.
local function run(argv, env, stdin)
    local out, err = {}, {}
    local code = cli.main(argv, {
        stdout = { write = function(_, ...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end },
        stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do err[#err + 1] = s end end },
        stdin = { read = function() return stdin or "" end },
        getenv = function(name) return (env or {})[name] end,
        now = function() return h.NOW end,
    })
    return table.concat(out), table.concat(err), code
end

-- No byte below 0x20 but the final line break, no DEL.
local function assert_terminal_safe(text, what)
    local body = text:gsub("\n$", "")
    assert.is_nil(body:find("[%z\1-\9\11-\31\127]"), what .. ": " .. text)
    assert.is_nil(body:find("\194[\128-\159]"), what .. ": a C1 control in " .. text)
end

local function forged(payload)
    return h.forge(HEADER, payload, h.unhex(h.SECRET_HEX))
end

describe("auth0-apiv2 decode and verify with control bytes (issue 15, items 8 and 11)", function()
    local payload = '{\n  "aud": "' .. h.AUD .. '",\n  "name": "x\\u001b[2Jy\\u009b\127",\n'
        .. '  "scope": "read:users read:a\\u001b]0;pwn\\u0007",\n'
        .. '  "scopes": {"users\\u001b[31m": {"actions": ["read"]}}\n}'
    local jwt = forged(payload)

    it("decode shows every control byte of the claims and scopes, and obeys none", function()
        local stdout, stderr, code = run({ "decode", jwt })
        assert.are.equal(0, code, stderr)
        assert_terminal_safe(stdout:gsub("\n", " "), "decode")
        assert.is_truthy(stdout:find("read:users\\27[31m", 1, true), stdout)
        assert.is_truthy(stdout:find("read:a\\27]0;pwn\\7", 1, true), stdout)
        assert.is_truthy(stdout:find("\\u001b[2Jy\\u009b\\u007f", 1, true), stdout)
    end)

    it("decode --json writes one line, the claims' meaning unchanged", function()
        local stdout, stderr, code = run({ "decode", "--json", jwt })
        assert.are.equal(0, code, stderr)
        assert.is_truthy(stdout:match("^[^\n]+\n$"), "not one line: " .. stdout)
        assert_terminal_safe(stdout, "decode --json")
        local decoded = require("cjson").decode(stdout)
        assert.are.equal("x\27[2Jy\194\155\127", decoded.claims.name)
        assert.are.equal(h.AUD, decoded.claims.aud)
    end)

    it("verify prints the claims terminal-safe, and --json on one line", function()
        local env = { AUTH0_API_SECRET = h.SECRET }
        local stdout, stderr, code = run({ "verify", jwt }, env)
        assert.are.equal(0, code, stderr)
        assert_terminal_safe(stdout:gsub("\n", " "), "verify")
        stdout, stderr, code = run({ "verify", "--json", jwt }, env)
        assert.are.equal(0, code, stderr)
        assert.is_truthy(stdout:match("^[^\n]+\n$"), "not one line: " .. stdout)
        assert_terminal_safe(stdout, "verify --json")
    end)
end)

describe("auth0-apiv2 --secret-file (issue 15, item 9)", function()
    it("says the file cannot be read without repeating what was given as its name", function()
        local pasted = h.SECRET   -- the secret itself, pasted where the path goes
        local stdout, stderr, code = run({ "sign", "--aud", h.AUD, "--secret-file", pasted })
        assert.are.equal(2, code)
        assert.are.equal("", stdout)
        assert.is_nil(stderr:find(pasted, 1, true), stderr)
        assert.is_nil(stderr:find(pasted:sub(1, 16), 1, true), stderr)
        assert.are.equal("auth0-apiv2 sign: cannot read the file given to --secret-file (No such "
            .. "file or directory) (see auth0-apiv2 sign --help)\n", stderr)
    end)
end)

describe("auth0-apiv2 revoke and blacklist with a hostile server (issue 15, item 8)", function()
    local server
    setup(function() server = hostile.start() end)
    teardown(function() hostile.stop(server) end)
    local env = { AUTH0_TOKEN = "a.b.c" }

    it("blacklist shows the control bytes of the entries, in text and --json", function()
        local body = '[{"aud":"a\\u001b[31m","jti":"j\\u001b]0;x\\u0007\\u009b"}]'
        local base = hostile.raw_url(server, hostile.json_response(200, body))
        local stdout, stderr, code = run({ "blacklist", "--base-url", base }, env)
        assert.are.equal(0, code, stderr)
        assert_terminal_safe(stdout:gsub("\n", " "), "blacklist")
        assert.is_truthy(stdout:find("a\\27[31m  j\\27]0;x\\7\\194\\155", 1, true), stdout)
        stdout = run({ "blacklist", "--json", "--base-url", base }, env)
        assert_terminal_safe(stdout, "blacklist --json")
        assert.is_truthy(stdout:find("\\u001b[31m", 1, true), stdout)
    end)

    it("revoke shows the control bytes of the jti and aud it revoked", function()
        local base = hostile.raw_url(server, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        local stdout, stderr, code = run({ "revoke", "--jti", "j" .. ESC .. "[2K", "--aud",
            "a" .. ESC .. "c", "--base-url", base }, env)
        assert.are.equal(0, code, stderr)
        assert.are.equal("revoked jti j\\27[2K (aud a\\27c)\n", stdout)
    end)

    it("shows the control bytes of the server's error message on stderr", function()
        local body = '{"statusCode":401,"error":"Unauthorized","message":"bad\\u001b[2J\\u001b]2;t'
            .. '\\u0007token","errorCode":"invalid_token"}'
        local base = hostile.raw_url(server, hostile.json_response(401, body))
        local stdout, stderr, code = run({ "blacklist", "--base-url", base }, env)
        assert.are.equal(1, code)
        assert.are.equal("", stdout)
        assert_terminal_safe(stderr, "stderr")
        assert.are.equal("auth0-apiv2 blacklist: 401 invalid_token: bad\\27[2J\\27]2;t\\7token\n",
            stderr)
        stdout = run({ "blacklist", "--json", "--base-url", base }, env)
        assert_terminal_safe(stdout, "--json error")
    end)
end)
