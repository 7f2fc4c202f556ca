-- Regressions of issue 15 in token.new and the JSON encoder (items 10 and 12): bounded
-- messages, and no silent rounding of integers.
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"
local h = require "spec.helpers"
local error_of = h.error_of

local MiB = 1024 * 1024

-- Lua 5.3+ integers; nil on Lua 5.1/5.2/LuaJIT, which have doubles only.
local function integer(text) return math.tointeger and math.tointeger(tonumber(text)) end

describe("token.new messages (issue 15, item 10)", function()
    it("stay short whatever the size of a claim name", function()
        local name = ("n"):rep(10 * MiB)
        local err = error_of(token.new, { aud = h.AUD, scopes = {}, claims = { [name] = print } })
        assert.is_true(#err < 200, #err .. " bytes")
        assert.are.equal("token.new: claims.'" .. ("n"):rep(64) .. "...': cannot encode a "
            .. "function", err)
    end)

    it("stay short for a long nested key and show its control bytes escaped", function()
        local err = error_of(token.new, { aud = h.AUD, scopes = {},
            claims = { meta = { ["\27[31m" .. ("k"):rep(MiB)] = 0 / 0 } } })
        assert.is_true(#err < 200, #err .. " bytes")
        assert.is_nil(err:find("\27", 1, true))
        assert.truthy(err:find("claims.meta.'\\27[31mkkk", 1, true))
    end)

    it("stay short for an unknown scope with strict_scopes", function()
        local scope = "read:" .. ("x"):rep(MiB)
        local err = error_of(token.new, { aud = h.AUD, scopes = { scope }, strict_scopes = true })
        assert.is_true(#err < 200, #err .. " bytes")
        assert.are.equal("token.new: unknown scope 'read:" .. ("x"):rep(59) .. "...' "
            .. "(strict_scopes is on)", err)
    end)

    it("stay short for a long entity in a scopes table", function()
        local entity = ("e"):rep(MiB)
        local err = error_of(token.new, { aud = h.AUD, scopes = { [entity] = {} } })
        assert.is_true(#err < 200, #err .. " bytes")
        assert.are.equal("token.new: scopes.'" .. ("e"):rep(64) .. "...' must be a non-empty "
            .. "list of actions", err)
    end)

    it("keep plain names as they are", function()
        assert.are.equal("token.new: claims.plan: cannot encode a function",
            error_of(token.new, { aud = h.AUD, scopes = {}, claims = { plan = print } }))
    end)
end)

describe("integers beyond 2^53 (issue 15, item 12)", function()
    it("are refused by token.new instead of being signed rounded", function()
        local big = integer("123456789012345678")
        if not big then pending("this Lua has no integer subtype") return end
        assert.are.equal("token.new: claims.id: integer 123456789012345678 is beyond 2^53 and "
            .. "would be rounded (send it as a string)",
            error_of(token.new, { aud = h.AUD, scopes = {}, claims = { id = big } }))
        assert.are.equal("token.new: claims.ids[2]: integer -9007199254740993 is beyond 2^53 and "
            .. "would be rounded (send it as a string)",
            error_of(token.new, { aud = h.AUD, scopes = {},
                claims = { ids = { 1, integer("-9007199254740993") } } }))
    end)

    it("are refused by json.encode when a double would round them; exact ones and doubles encode", function()
        local big = integer("9007199254740993")
        if not big then pending("this Lua has no integer subtype") return end
        assert.are.same({ nil, "value: integer 9007199254740993 is beyond 2^53 and would be "
            .. "rounded (send it as a string)" }, { json.encode(big) })
        assert.is_nil(json.encode(math.maxinteger))
        -- Integers a double holds exactly are not rounded: they encode.
        assert.are.equal("10000000000000000", json.encode(integer("10000000000000000")))
        assert.are.equal("1152921504606847000", json.encode(integer("1152921504606846976")))
        assert.are.equal("9007199254740992", json.encode(integer("9007199254740992")))
        assert.are.equal("-9007199254740992", json.encode(integer("-9007199254740992")))
        assert.are.equal("123456789012345680", json.encode(123456789012345678.0))
    end)

    it("stay exact as text: the claim signed is the claim given", function()
        local jwt = token.new{ aud = h.AUD, scopes = {}, iat = h.NOW,
            claims = { id = "123456789012345678" } }:sign(h.SECRET)
        assert.are.equal("123456789012345678", token.decode(jwt) and select(2, token.decode(jwt)).id)
    end)
end)
