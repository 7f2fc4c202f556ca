-- Shared by the specs: fixture loading, hex, fixed values, running other programs.
local cjson = require "cjson"

local M = {}

M.FIXTURES = "spec/fixtures/"

-- A made-up 48-byte secret in Auth0's form (64 base64url characters).
M.SECRET = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
M.SECRET_HEX = "555e53c5114413bfc169306354088762f4d03c4d0fe39e0b9ec331bd233cd11c"
    .. "4b5fee8e98289e99604b6180c1a37704"
M.AUD = "DEMOapiKEY0123456789abcdefghijkl"
M.NOW = 1767225600   -- the fixed clock of the specs: 2026-01-01T00:00:00Z

function M.read(path)
    local f = assert(io.open(path, "rb"))
    local data = f:read("*a")
    f:close()
    return data
end

function M.fixture(name)
    return cjson.decode(M.read(M.FIXTURES .. name))
end

function M.unhex(s)
    return (s:gsub("..", function(h) return string.char(tonumber(h, 16)) end))
end

function M.hex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- Runs a shell command, returning its standard output and whether it exited 0.
function M.run(cmd)
    local p = assert(io.popen(cmd .. "; echo \"__rc=$?\"", "r"))
    local out = p:read("*a")
    p:close()
    local body, rc = out:match("^(.-)__rc=(%d+)%s*$")
    return body, tonumber(rc) == 0
end

-- The interpreter running this spec, so a child process uses the same Lua and core.
function M.lua_command()
    if os.getenv("APIV2_LUA") then return os.getenv("APIV2_LUA") end
    local i = -1
    while arg and arg[i - 1] do i = i - 1 end
    return arg and arg[i] or "lua"
end

-- Shell-quotes a string.
function M.quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The payload JSON text of a compact token (no checks).
function M.payload_text(jwt)
    local core = require "auth0.apiv2.core"
    return assert(core.b64url_decode(jwt:match("^[^.]+%.([^.]+)%.")))
end

-- The message of the error f(...) raises, without Lua's "file:line: " prefix.
function M.error_of(f, ...)
    local ok, err = pcall(f, ...)
    assert(not ok, "expected an error")
    return require("auth0.apiv2.internal.options").without_position(err)
end

-- Runs a shell command that must succeed; returns its output.
function M.must_run(cmd)
    local out, ok = M.run(cmd)
    assert(ok, "command failed: " .. cmd .. "\n" .. tostring(out))
    return out
end

-- An HTTP response as transports return them.
function M.reply(status, body, headers)
    return { status = status, body = body or "", headers = headers or {} }
end

-- A form-encoded body ("a=1&b=x%20y") as a table.
function M.form_decode(body)
    local out = {}
    for pair in body:gmatch("[^&]+") do
        local name, value = pair:match("^([^=]*)=(.*)$")
        out[name] = value:gsub("%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end)
    end
    return out
end

-- Calls the local Auth0-like server's control API (plain HTTP through LuaSocket's own client:
-- independent of the library's HTTP layer).
function M.mock_control(server, method, path, body)
    local socket_http, ltn12 = require "socket.http", require "ltn12"
    local text = body and cjson.encode(body)
    local chunks = {}
    socket_http.TIMEOUT = 5
    local ok, status = socket_http.request{
        url = server.http .. path, method = method,
        source = text and ltn12.source.string(text),
        headers = text and { ["content-type"] = "application/json",
            ["content-length"] = tostring(#text) } or nil,
        sink = ltn12.sink.table(chunks),
    }
    assert(ok and status == 200, "control " .. path .. ": " .. tostring(status))
    return cjson.decode(table.concat(chunks))
end

-- The local Auth0-like server (spec/server/auth0_mock.py), started by a spec in the
-- background with --ready-file: waits for the ready line and returns the server's addresses.
function M.wait_mock_ready(ready_file, timeout)
    local socket = require "socket"
    local deadline = socket.gettime() + (timeout or 15)
    while socket.gettime() < deadline do
        local f = io.open(ready_file, "rb")
        if f then
            local info = cjson.decode(f:read("*a"))
            f:close()
            return {
                http = ("http://127.0.0.1:%d"):format(info.http_port),
                https_port = info.https_port ~= cjson.null and ("%d"):format(info.https_port) or nil,
                ca_file = info.ca_file ~= cjson.null and info.ca_file or nil,
                pid = ("%d"):format(info.pid),
            }
        end
        socket.sleep(0.02)
    end
    local stderr = io.open((ready_file:gsub("ready$", "stderr")), "rb")
    error("auth0_mock did not start: " .. (stderr and stderr:read("*a") or ""))
end

-- Stops that server and waits for it to remove its ready file (it does so on a clean exit).
function M.stop_mock(server, ready_file)
    if not server then return end
    local socket = require "socket"
    os.execute("kill " .. server.pid .. " 2>/dev/null")
    local deadline = socket.gettime() + 3
    while socket.gettime() < deadline do
        local f = io.open(ready_file, "rb")
        if not f then return end
        f:close()
        socket.sleep(0.02)
    end
end

-- Forges a token from exact header and payload texts, correctly signed with key_bytes (raw),
-- so a spec tests one rule at a time. `signature` overrides the encoded signature.
function M.forge(header_json, payload_json, key_bytes, signature)
    local core = require "auth0.apiv2.core"
    local input = core.b64url_encode(header_json) .. "." .. core.b64url_encode(payload_json)
    local key = assert(core.key(key_bytes, "raw"))
    return input .. "." .. (signature or core.b64url_encode(key:mac(input)))
end

-- The shared vectors (spec/fixtures/vectors): a case's token, its verify options, its raw key.
function M.vector_token(case)
    return case.token_hex and M.unhex(case.token_hex) or case.token
end

function M.vector_options(case)
    local v = case.verify
    return { now = v.now, leeway = v.leeway, require_exp = v.require_exp,
             audience = type(v.audience) == "string" and v.audience or nil }
end

function M.vector_key(case)
    return require("auth0.apiv2.token").key(M.unhex(case.key_hex), { encoding = "raw" })
end

-- Writes text to a new temporary file; returns its path.
function M.write_temp(text)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
end

-- Runs bin/auth0-apiv2 with args (each shell-quoted) on the Lua running the specs. The
-- environment has no AUTH0_ variable but those of env; standard input is stdin (default:
-- empty). Returns stdout, stderr and the exit code, after checking that none of secrets is in
-- either stream.
function M.run_cli(args, env, stdin, secrets)
    local parts = { "env -u AUTH0_API_SECRET -u AUTH0_TOKEN -u AUTH0_DOMAIN -u AUTH0_CLIENT_ID "
        .. "-u AUTH0_CLIENT_SECRET" }
    local names = {}
    for name in pairs(env or {}) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do parts[#parts + 1] = name .. "=" .. M.quote(env[name]) end
    parts[#parts + 1] = M.lua_command() .. " bin/auth0-apiv2"
    for _, a in ipairs(args) do parts[#parts + 1] = M.quote(a) end
    local input, out, err = M.write_temp(stdin or ""), os.tmpname(), os.tmpname()
    local p = assert(io.popen(table.concat(parts, " ") .. " <" .. M.quote(input) .. " >"
        .. M.quote(out) .. " 2>" .. M.quote(err) .. "; echo $?", "r"))
    local code = tonumber(p:read("*a"))
    p:close()
    local stdout, stderr = M.read(out), M.read(err)
    os.remove(input)
    os.remove(out)
    os.remove(err)
    for _, secret in ipairs(secrets or {}) do
        assert(not stdout:find(secret, 1, true), "a secret on stdout")
        assert(not stderr:find(secret, 1, true), "a secret on stderr")
    end
    return stdout, stderr, code
end

return M
