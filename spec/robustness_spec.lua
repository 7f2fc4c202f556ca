-- Bad input everywhere: every public function (token, blacklist, management, scopes, and the
-- JSON writer behind them), given wrong types, huge strings, embedded NULs, invalid UTF-8, deep
-- and cyclic tables, gives the one answer expected for that input (a raised message, or the
-- values it returns), never a crash, and holds on to no memory. The README records this list.
local token = require "auth0.apiv2.token"
local blacklist = require "auth0.apiv2.blacklist"
local management = require "auth0.apiv2.management"
local scopes = require "auth0.apiv2.scopes"
local json = require "auth0.apiv2.internal.json"
local h = require "spec.helpers"

local HUGE = string.rep("A", 100 * 1024 * 1024)
-- Calls marked `mib` get 1 MiB instead: they percent-encode or scan it byte by byte, which
-- takes seconds for 100 MB and shows nothing more.
local MIB = string.rep("A", 1024 * 1024)

local function deep(n)
    local t = {}
    local cur = t
    for _ = 1, n do cur.x = {}; cur = cur.x end
    return t
end

local cyclic = {}
cyclic.self = cyclic

-- Each bad input, and the type name a message gives for it.
local BAD = {
    { "nil", nil, "nil" }, { "boolean", true, "boolean" }, { "number", 42, "number" },
    { "NaN", 0 / 0, "number" }, { "empty string", "", "string" }, { "NUL", "\0", "string" },
    { "NULs", "a\0b.c\0d.e\0f", "string" }, { "invalid UTF-8", "\255\254\192\128", "string" },
    { "100 MB string", HUGE, "string" }, { "deep table", deep(100000), "table" },
    { "cyclic table", cyclic, "table" }, { "function", function() end, "function" },
    { "coroutine", coroutine.create(function() end), "thread" },
    { "userdata", io.stdout, "userdata" }, { "array", { 1, 2, 3 }, "table" },
}
local STRINGS = { "empty string", "NUL", "NULs", "invalid UTF-8", "100 MB string" }
local TABLES = { "deep table", "cyclic table", "array" }

local key = token.key(h.SECRET)
local good_jwt = token.new{ aud = "A", scopes = { "read:users" } }:sign(key)
local function no_content() return { status = 204, headers = {}, body = "" } end
local bl = blacklist.new{ domain = "t.auth0.com", token = good_jwt, transport = no_content }
local mgmt = management.new{ domain = "t.auth0.com", token = good_jwt, transport = no_content }

-- Checkers of a returned answer.
local function is(...)
    local expected = { n = select("#", ...), ... }
    return function(a, b)
        assert.are.same(expected, { n = expected.n, a, b })
    end
end
local function a_table(a) assert.is_table(a) end
local function a_token(a) assert.is_truthy(type(a) == "string" and a:match("^[%w_-]+%.[%w_-]+%.[%w_-]+$")) end
local function a_key(a) assert.is_true(token.key ~= nil and tostring(a):find("^auth0%.apiv2%.key %(") ~= nil) end
local function error_value(code)
    return function(a, b)
        assert.is_nil(a)
        assert.are.equal(code, b.error_code)
    end
end

local function names(list, check)
    local out = {}
    for _, name in ipairs(list) do out[name] = check end
    return out
end
local function merge(...)
    local out = {}
    for _, t in ipairs({ ... }) do for k, v in pairs(t) do out[k] = v end end
    return out
end

local OPTIONS = "options must be a table"
local OPTION_NAMES = { ["deep table"] = "unknown option 'x'", ["cyclic table"] = "unknown option 'self'",
    array = "unknown option (number)" }
local NOT_BASE64 = "secret is not base64 or base64url text; for a plain-text secret use "
    .. "token.key(secret, { encoding = \"raw\" })"
local MALFORMED_SCOPE = "malformed scope %s at scopes[1]: expected action:entity in lower case, "
    .. "e.g. read:users"
local PATH = "path must be a string starting with /, without query, e.g. /users/{id}"
local PARAM = "path parameter 'id' must be a string or a finite number"
local QUERY = "query.q must be a string, a finite number, a boolean or a list of them"
local LIFETIME = "lifetime must be a positive whole number of seconds (at most a century)"
local DEEP = ": nested deeper than 32 levels"

-- Each public function with the argument under test filled by the bad input. `raises` is the
-- message for every input not in `returns` ("%t" stands for the input's type), or a table by
-- input name; `returns` checks the values of the inputs that are answered.
local CALLS = {
    { "token.new", function(bad) return token.new(bad) end, prefix = "token.new: ",
      raises = OPTIONS, by_name = OPTION_NAMES },
    { "token.new aud", function(bad) return token.new{ aud = bad } end, prefix = "token.new: ",
      raises = "aud must be a non-empty string (the tenant's API key)",
      by_name = { ["invalid UTF-8"] = "aud: string is not UTF-8 text (invalid utf8)" },
      returns = names({ "NUL", "NULs", "100 MB string" }, a_table) },
    { "token.new scopes", function(bad) return token.new{ aud = "A", scopes = bad } end,
      prefix = "token.new: ", raises = "scopes must be a table",
      by_name = { ["deep table"] = "scopes.x must be a non-empty list of actions",
          ["cyclic table"] = "scopes.self must be a non-empty list of actions",
          array = MALFORMED_SCOPE:format("(number)") },
      returns = { ["nil"] = a_table } },
    { "token.new scopes item", function(bad) return token.new{ aud = "A", scopes = { bad } } end,
      prefix = "token.new: ", raises = MALFORMED_SCOPE:format("(%t)"),
      by_name = { ["empty string"] = MALFORMED_SCOPE:format("''"),
          NUL = MALFORMED_SCOPE:format("'\\0'"),
          NULs = MALFORMED_SCOPE:format("'a\\0b.c\\0d.e\\0f'"),
          ["invalid UTF-8"] = MALFORMED_SCOPE:format("'\\255\\254\\192\\128'"),
          ["100 MB string"] = MALFORMED_SCOPE:format("'" .. string.rep("A", 64) .. "...'") },
      returns = { ["nil"] = a_table } },
    { "token.new claims", function(bad) return token.new{ aud = "A", claims = { c = bad } } end,
      prefix = "token.new: claims.c", raises = ": cannot encode a %t",
      by_name = { NaN = ": cannot encode NaN or infinity",
          ["invalid UTF-8"] = ": string is not UTF-8 text (invalid utf8)",
          ["deep table"] = string.rep(".x", 32) .. DEEP,
          ["cyclic table"] = string.rep(".self", 32) .. DEEP },
      returns = names({ "nil", "boolean", "number", "empty string", "NUL", "NULs",
          "100 MB string", "array" }, a_table) },
    { "token.new jti", function(bad) return token.new{ aud = "A", jti = bad } end,
      prefix = "token.new: ", raises = "jti must be a non-empty string",
      by_name = { ["invalid UTF-8"] = "jti: string is not UTF-8 text (invalid utf8)" },
      returns = names({ "nil", "NUL", "NULs", "100 MB string" }, a_table) },
    { "token.new lifetime", function(bad) return token.new{ aud = "A", lifetime = bad } end,
      prefix = "token.new: ", raises = LIFETIME, returns = names({ "nil", "number" }, a_table) },
    { "token.key", function(bad) return token.key(bad) end, prefix = "token.key: ",
      raises = "secret must be a string, got %t",
      by_name = { ["empty string"] = "key is 0 bytes, at least 32 are required", NUL = NOT_BASE64,
          NULs = NOT_BASE64, ["invalid UTF-8"] = NOT_BASE64 },
      returns = { ["100 MB string"] = a_key } },
    { "token.key raw", function(bad) return token.key(bad, { encoding = "raw" }) end,
      prefix = "token.key: ", raises = "secret must be a string, got %t",
      by_name = { ["empty string"] = "key is 0 bytes, at least 32 are required",
          NUL = "key is 1 bytes, at least 32 are required",
          NULs = "key is 11 bytes, at least 32 are required",
          ["invalid UTF-8"] = "key is 4 bytes, at least 32 are required" },
      returns = { ["100 MB string"] = a_key } },
    { "sign", function(bad) return token.new{ aud = "A" }:sign(bad) end, prefix = "token.sign: ",
      raises = "expected a key object or a secret string, got %t",
      by_name = { ["empty string"] = "key is 0 bytes, at least 32 are required", NUL = NOT_BASE64,
          NULs = NOT_BASE64, ["invalid UTF-8"] = NOT_BASE64 },
      returns = { ["100 MB string"] = a_token } },
    { "sign with claims", function(bad)
          return token.new{ aud = bad == HUGE and HUGE or "A" }:sign(key)
      end, prefix = "token.sign: ", raises = "the token would be longer than 8192 bytes",
      returns = merge(names({ "nil", "boolean", "number", "NaN", "function", "coroutine",
          "userdata" }, a_token), names(TABLES, a_token),
          names({ "empty string", "NUL", "NULs", "invalid UTF-8" }, a_token)) },
    { "token.verify jwt", function(bad) return token.verify(bad, key) end,
      prefix = "token.verify: ", raises = "token must be a string, got %t",
      returns = merge(names(STRINGS, is(nil, "malformed token")),
          { ["100 MB string"] = is(nil, "token too long") }) },
    { "token.verify key", function(bad) return token.verify(good_jwt, bad) end,
      prefix = "token.verify: ",
      raises = "key must be a key object, a secret string, a list of them or a function",
      by_name = { ["empty string"] = "key is 0 bytes, at least 32 are required", NUL = NOT_BASE64,
          NULs = NOT_BASE64, ["invalid UTF-8"] = NOT_BASE64,
          ["deep table"] = "the list of keys is empty",
          ["cyclic table"] = "the list of keys is empty" },
      returns = { ["100 MB string"] = is(nil, "signature mismatch"), ["function"] = is(nil, "no key") } },
    { "token.verify opts", function(bad) return token.verify(good_jwt, key, bad) end,
      prefix = "token.verify: ", raises = OPTIONS, by_name = OPTION_NAMES,
      returns = { ["nil"] = a_table } },
    { "token.verify audience", function(bad) return token.verify(good_jwt, key, { audience = bad }) end,
      prefix = "token.verify: ", raises = "audience must be a string",
      returns = merge(names(STRINGS, is(nil, "audience mismatch")), { ["nil"] = a_table }) },
    { "token.decode", function(bad) return token.decode(bad) end, prefix = "token.decode: ",
      raises = "token must be a string, got %t",
      returns = merge(names(STRINGS, is(nil, "malformed token")),
          { ["100 MB string"] = is(nil, "token too long") }) },
    { "token.decode_text", function(bad) return token.decode_text(bad) end,
      prefix = "token.decode_text: ", raises = "token must be a string, got %t",
      returns = merge(names(STRINGS, is(nil, "malformed token")),
          { ["100 MB string"] = is(nil, "token too long") }) },
    { "token.has_scope claims", function(bad) return token.has_scope(bad, "read:users") end,
      prefix = "token.has_scope: ", raises = "claims must be a table",
      returns = names(TABLES, is(false)) },
    { "token.has_scope scope", function(bad) return token.has_scope({ scope = "x" }, bad) end,
      prefix = "token.has_scope: ", raises = "scope must be a string",
      returns = names(STRINGS, is(false)) },
    { "token.scopes_of", function(bad) return token.scopes_of(bad) end,
      prefix = "token.scopes_of: ", raises = "claims must be a table",
      returns = names(TABLES, is({})) },
    { "token.bearer", function(bad) return token.bearer(bad) end,
      returns = names({ "nil", "boolean", "number", "NaN", "function", "coroutine", "userdata",
          "empty string", "NUL", "NULs", "invalid UTF-8", "100 MB string", "deep table",
          "cyclic table", "array" }, is(nil, "no bearer token")) },
    { "blacklist.new", function(bad) return blacklist.new(bad) end, prefix = "blacklist.new: ",
      raises = OPTIONS, by_name = OPTION_NAMES },
    { "blacklist.new token", function(bad) return blacklist.new{ domain = "t.auth0.com", token = bad } end,
      prefix = "blacklist.new: ", raises = "token must be a bearer token (a compact JWT)",
      by_name = { ["nil"] = "token (or key and aud) is required" },
      returns = { ["100 MB string"] = a_table, ["function"] = a_table } },
    { "bl:revoke", function(bad) return bl:revoke(bad) end, prefix = "blacklist.revoke: ",
      raises = "expected a token or a table with jti and aud, got %t",
      returns = merge(names(STRINGS, error_value("malformed_token")),
          names(TABLES, error_value("missing_jti"))) },
    { "bl:list", function(bad) return bl:list(bad) end, prefix = "blacklist.list: ",
      raises = OPTIONS, by_name = OPTION_NAMES,
      returns = { ["nil"] = error_value("invalid_response") } },
    { "management.new", function(bad) return management.new(bad) end, prefix = "management.new: ",
      raises = OPTIONS, by_name = OPTION_NAMES },
    { "mgmt:request path", function(bad) return mgmt:request("GET", bad) end,
      prefix = "management.request: ", raises = PATH },
    { "mgmt:request params", function(bad) return mgmt:request("GET", "/users/{id}", { id = bad }) end,
      mib = true, prefix = "management.request: ", raises = PARAM,
      by_name = { ["nil"] = PARAM .. " (it is missing)" },
      returns = merge(names({ "number", "NUL", "NULs", "invalid UTF-8", "100 MB string" }, is(true)),
          { ["empty string"] = error_value("invalid_parameter") }) },
    { "mgmt:request body", function(bad) return mgmt:request("POST", "/users", nil, bad) end,
      prefix = "management.request: ", raises = "body must be a table or JSON text",
      by_name = { ["deep table"] = "body" .. string.rep(".x", 32) .. DEEP,
          ["cyclic table"] = "body" .. string.rep(".self", 32) .. DEEP },
      returns = names({ "nil", "empty string", "NUL", "NULs", "invalid UTF-8", "100 MB string",
          "array" }, is(true)) },
    -- A query value that is a table but not a list is issue 15's (item 6): not asserted here.
    { "mgmt:request query", function(bad) return mgmt:request("GET", "/users", nil, nil, { q = bad }) end,
      mib = true, prefix = "management.request: ", raises = QUERY, skip = { "deep table", "cyclic table" },
      returns = names({ "nil", "boolean", "number", "empty string", "NUL", "NULs", "invalid UTF-8",
          "100 MB string", "array" }, is(true)) },
    { "scopes.for_endpoint", function(bad) return scopes.for_endpoint(bad) end, mib = true,
      prefix = "scopes.for_endpoint: ", raises = "endpoint must be a string",
      -- Over scopes.MAX_ENDPOINT bytes: refused before any matching (issue 15, item 13).
      returns = merge(names({ "empty string", "NUL", "NULs", "invalid UTF-8" },
          is(nil, "malformed endpoint")), { ["100 MB string"] = is(nil, "endpoint too long") }) },
    { "scopes.describe", function(bad) return scopes.describe(bad) end,
      prefix = "scopes.describe: ", raises = "scope must be a string",
      returns = names(STRINGS, is(nil)) },
    { "scopes.least_privileged", function(bad) return scopes.least_privileged(bad) end,
      prefix = "scopes.least_privileged: ", raises = "list must be a table of scope strings",
      by_name = { array = "malformed scope (number) at list[1]" },
      returns = names({ "deep table", "cyclic table" }, is(nil, "no scopes listed")) },
    { "json.encode", function(bad) return json.encode(bad) end,
      returns = { ["nil"] = is(nil, "value: cannot encode a nil"), boolean = is("true"),
          number = is("42"), NaN = is(nil, "value: cannot encode NaN or infinity"),
          ["empty string"] = is('""'), NUL = is('"\\u0000"'),
          NULs = is('"a\\u0000b.c\\u0000d.e\\u0000f"'),
          ["invalid UTF-8"] = is(nil, "value: string is not UTF-8 text (invalid utf8)"),
          ["100 MB string"] = function(a) assert.are.equal(#HUGE + 2, #a) end,
          ["deep table"] = is(nil, "value" .. string.rep(".x", 32) .. DEEP),
          ["cyclic table"] = is(nil, "value" .. string.rep(".self", 32) .. DEEP),
          ["function"] = is(nil, "value: cannot encode a function"),
          coroutine = is(nil, "value: cannot encode a thread"),
          userdata = is(nil, "value: cannot encode a userdata"), array = is("[1,2,3]") } },
}

describe("every public function given bad input", function()
    it("raises the expected message or returns the expected answer, and keeps no memory",
        function()
        collectgarbage()
        local baseline = collectgarbage("count")
        for _, call in ipairs(CALLS) do
            local skip = {}
            for _, name in ipairs(call.skip or {}) do skip[name] = true end
            for _, bad in ipairs(BAD) do
                local name = bad[1]
                local where = call[1] .. " with " .. name
                local value = bad[2]
                if value == HUGE and call.mib then value = MIB end
                local ok, a, b = pcall(call[2], value)
                local check = (call.returns or {})[name]
                if skip[name] then   -- luacheck: ignore 542
                elseif check then
                    assert(ok, where .. " raised: " .. tostring(a))
                    local passed, err = pcall(check, a, b)
                    assert(passed, where .. ": " .. tostring(err))
                else
                    assert(not ok, where .. " did not raise")
                    local expected = ((call.by_name or {})[name] or call.raises or "")
                        :gsub("%%t", bad[3])
                    assert.are.equal((call.prefix or "") .. expected, h.error_of(error, a), where)
                    assert.is_true(#a < 500, where .. ": message of " .. #a .. " bytes")
                end
            end
            collectgarbage()
            assert.is_true(collectgarbage("count") - baseline < 64 * 1024, call[1] .. " kept memory")
        end
    end)

    it("handles 100 MB tokens and secrets in bounded time", function()
        local t0 = os.clock()
        assert.are.same({ nil, "token too long" }, { token.verify(HUGE, key) })
        assert.are.same({ nil, "token too long" }, { token.decode(HUGE) })
        assert.is_true(os.clock() - t0 < 5)
    end)
end)
