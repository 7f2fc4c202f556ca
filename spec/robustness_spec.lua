-- Bad input everywhere: every public function, given wrong types, huge strings, embedded NULs,
-- invalid UTF-8, deep and cyclic tables, answers with an error (raised or returned), never
-- a crash, and without holding on to memory. The README records this list.
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"
local h = require "spec.helpers"

local HUGE = string.rep("A", 100 * 1024 * 1024)

local function deep(n)
    local t = {}
    local cur = t
    for _ = 1, n do cur.x = {}; cur = cur.x end
    return t
end

local cyclic = {}
cyclic.self = cyclic

local BAD = {
    { "nil", nil }, { "boolean", true }, { "number", 42 }, { "NaN", 0 / 0 },
    { "empty string", "" }, { "NUL", "\0" }, { "NULs", "a\0b.c\0d.e\0f" },
    { "invalid UTF-8", "\255\254\192\128" }, { "100 MB string", HUGE },
    { "deep table", deep(100000) }, { "cyclic table", cyclic }, { "function", function() end },
    { "coroutine", coroutine.create(function() end) }, { "userdata", io.stdout },
    { "array", { 1, 2, 3 } },
}

local key = token.key(h.SECRET)
local good_jwt = token.new{ aud = "A", scopes = { "read:users" } }:sign(key)

-- The public functions, each with the argument position under test filled by `bad`.
local CALLS = {
    { "token.new", function(bad) return token.new(bad) end },
    { "token.new aud", function(bad) return token.new{ aud = bad } end },
    { "token.new scopes", function(bad) return token.new{ aud = "A", scopes = bad } end },
    { "token.new scopes item", function(bad) return token.new{ aud = "A", scopes = { bad } } end },
    { "token.new claims", function(bad) return token.new{ aud = "A", claims = { c = bad } } end },
    { "token.new jti", function(bad) return token.new{ aud = "A", jti = bad } end },
    { "token.new lifetime", function(bad) return token.new{ aud = "A", lifetime = bad } end },
    { "token.key", function(bad) return token.key(bad) end },
    { "token.key raw", function(bad) return token.key(bad, { encoding = "raw" }) end },
    { "sign", function(bad) return token.new{ aud = "A" }:sign(bad) end },
    { "sign with claims", function(bad) return token.new{ aud = bad == HUGE and HUGE or "A" }:sign(key) end },
    { "token.verify jwt", function(bad) return token.verify(bad, key) end },
    { "token.verify key", function(bad) return token.verify(good_jwt, bad) end },
    { "token.verify opts", function(bad) return token.verify(good_jwt, key, bad) end },
    { "token.verify audience", function(bad) return token.verify(good_jwt, key, { audience = bad }) end },
    { "token.decode", function(bad) return token.decode(bad) end },
    { "token.has_scope claims", function(bad) return token.has_scope(bad, "read:users") end },
    { "token.has_scope scope", function(bad) return token.has_scope({ scope = "x" }, bad) end },
    { "json.encode", function(bad) return json.encode(bad) end },
}

describe("every public function given bad input", function()
    it("raises or returns an error, never crashes, and keeps no memory", function()
        collectgarbage()
        local baseline = collectgarbage("count")
        for _, call in ipairs(CALLS) do
            for _, bad in ipairs(BAD) do
                local ok, a, b = pcall(call[2], bad[2])
                local where = call[1] .. " with " .. bad[1]
                if ok then
                    -- Answered: a value, or nil and a string reason.
                    assert.is_true(a ~= nil or type(b) == "string", where)
                else
                    assert.is_string(a, where)
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
