-- Secret hygiene: key objects wiped and unusable afterwards, nothing secret in messages, and
-- a secret passed as text not kept anywhere the library can reach once the call returns.
local token = require "auth0.apiv2.token"
local core = require "auth0.apiv2.core"
local h = require "spec.helpers"

-- Whether value is reachable from the registry through tables, metatables and upvalues.
local function reachable(value)
    local seen, stack = {}, { debug.getregistry() }
    local function push(v)
        local t = type(v)
        if (t == "table" or t == "function" or t == "userdata") and not seen[v] then
            seen[v] = true
            stack[#stack + 1] = v
        end
    end
    while #stack > 0 do
        local v = table.remove(stack)
        if v == value then return true end
        local t = type(v)
        if t == "table" then
            for k, x in next, v do
                if k == value or x == value then return true end
                push(k)
                push(x)
            end
        elseif t == "function" then
            for i = 1, 255 do
                local name, x = debug.getupvalue(v, i)
                if not name then break end
                if x == value then return true end
                push(x)
            end
        end
        push(debug.getmetatable(v))
    end
    return false
end

-- A secret no other code can have made: random bytes, base64url.
local function fresh_secret()
    return core.b64url_encode(core.random(48))
end

describe("key objects", function()
    it("are wiped by their finalizer and unusable afterwards", function()
        local key = token.key(h.SECRET)
        local jwt = token.new{ aud = "A" }:sign(key)
        local mt = debug.getmetatable(key)
        assert.is_function(mt.__close)
        mt.__gc(key)
        assert.are.equal("auth0.apiv2.key (wiped)", tostring(key))
        assert.has_error(function() token.new{ aud = "A" }:sign(key) end)
        assert.has_error(function() token.verify(jwt, key) end)
    end)

    it("are wiped by :wipe() and unusable afterwards", function()
        local key = token.key(h.SECRET)
        local jwt = token.new{ aud = "A" }:sign(key)
        key:wipe()
        assert.has_error(function() token.verify(jwt, key) end)
        assert.has_error(function() key:mac("x") end)
    end)
end)

describe("a secret passed as text", function()
    it("is not kept by token.key, sign or verify after the call", function()
        local secret = fresh_secret()
        local key = token.key(secret)
        local jwt = token.new{ aud = "A", scopes = { "read:users" } }:sign(secret)
        assert.is_table(token.verify(jwt, secret))
        assert.is_table(token.verify(jwt, { secret }))
        assert.is_table(token.verify(jwt, function() return secret end))
        assert.is_truthy(key)
        collectgarbage()
        assert.is_false(reachable(secret))
    end)

    it("is found by the reachability check when something does keep it (the check works)", function()
        local secret = fresh_secret()
        package.loaded["spec.hygiene.kept"] = { secret }
        assert.is_true(reachable(secret))
        package.loaded["spec.hygiene.kept"] = nil
    end)
end)

describe("messages", function()
    local key = token.key(h.SECRET)
    local jwt = token.new{ aud = h.AUD, scopes = { "read:users" } }:sign(key)
    local signature = jwt:match("[^.]+$")

    it("never contain the token, its signature or a secret", function()
        local invalid = h.fixture("vectors/jwt_invalid.json")
        for _, case in ipairs(invalid.tests) do
            local t = case.token_hex and h.unhex(case.token_hex) or case.token
            local ok, claims, err = pcall(token.verify, t, key, { now = h.NOW })
            local text = tostring(ok and err or claims)
            -- (t:match("[^.]*$") is quadratic on the 1 MiB cases)
            local sig = t:sub((t:find("%.[^.]*$") or 0) + 1)
            if #t > 8 then assert.is_nil(text:find(t, 1, true), case.id) end
            if #sig > 8 then assert.is_nil(text:find(sig, 1, true), case.id) end
        end
        local _, err = token.verify(jwt, token.key(fresh_secret()))
        assert.are.equal("signature mismatch", err)
        assert.is_nil(tostring(err):find(signature, 1, true))
        assert.is_nil(tostring(key):find(h.SECRET, 1, true))
    end)
end)
