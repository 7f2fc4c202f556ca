-- The deterministic JSON encoder: bytes as ECMAScript's JSON.stringify writes them.
local json = require "auth0.apiv2.internal.json"
local h = require "spec.helpers"

describe("json.encode", function()
    it("writes numbers exactly as JSON.stringify does", function()
        local numbers = h.fixture("js-numbers/numbers.json")
        for _, c in ipairs(numbers.cases) do
            assert.are.equal(c.json, json.encode(tonumber(c.input)), c.input)
        end
    end)

    it("writes doubles beyond 2^53 like JSON.stringify, and refuses integers a double would round", function()
        assert.are.equal("9007199254740992", json.encode(9007199254740992.0))
        assert.are.equal("9223372036854776000", json.encode(2.0^63))
        if math.tointeger then   -- Lua 5.3+: integers that a double cannot hold are refused
            assert.is_nil(json.encode(math.tointeger(9007199254740993)))
            assert.is_nil(json.encode(math.maxinteger))
            assert.are.equal("1152921504606847000", json.encode(math.tointeger(2^60)))   -- JS digits
        end
    end)

    it("escapes strings as JSON.stringify does: '/' and non-ASCII pass through", function()
        assert.are.equal('"a/b \\"q\\" \\\\ \\n\\t\\b\\f\\r \\u0001\\u001f \127 caf\195\169"',
            json.encode('a/b "q" \\ \n\t\b\f\r \1\31 \127 caf\195\169'))
        assert.are.equal('"nul \\u0000 inside"', json.encode("nul \0 inside"))
    end)

    it("sorts object keys by bytes at every depth", function()
        assert.are.equal('{"B":1,"a":{"Z":true,"y":[1,"x",{"k":false}]},"b":null}',
            json.encode({ b = json.null, a = { y = { 1, "x", { k = false } }, Z = true }, B = 1 }))
    end)

    it("writes {} for an empty table and [] for json.empty_array", function()
        assert.are.equal('{"a":{},"b":[]}', json.encode({ a = {}, b = json.empty_array }))
    end)

    it("returns nil and a reason naming the place of what it cannot encode", function()
        local text, err = json.encode({ a = { 1, 2, print } }, "claims")
        assert.is_nil(text)
        assert.are.equal("claims.a[3]: cannot encode a function", err)
        assert.are.equal("value: cannot encode NaN or infinity", select(2, json.encode(math.huge)))
        assert.are.equal("value: table is neither an array nor an object with string keys",
            select(2, json.encode({ [1] = 1, [3] = 3 })))
    end)
end)

describe("json.decode", function()
    local core = require "auth0.apiv2.core"

    it("refuses what the strict checker refuses, even with lua-cjson installed", function()
        for _, text in ipairs({ '{"a":1,"a":2}', '{"n":NaN}', '[1,]', '{"a":1} x', '"\255"' }) do
            local value, err = json.decode(text)
            assert.is_nil(value, text)
            assert.is_truthy(err:find("^invalid json: "), text)
        end
    end)

    it("builds the same values without lua-cjson as with it, for every shared vector", function()
        local texts = { '{"s":"nul \\u0000 inside","e":"\\ud83d\\ude00","n":-0.75,"big":9007199254740991,'
            .. '"a":[1,[2,{}],[]],"z":null,"t":true,"f":false,"esc":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"}',
            ' [ 1 , 2 ] ', '"just a string"', "12.5e-3", "null" }
        for _, file in ipairs({ "vectors/jwt_valid_interop.json", "vectors/jwt_valid_policy.json" }) do
            for _, case in ipairs(h.fixture(file).tests) do
                texts[#texts + 1] = case.payload_json
                texts[#texts + 1] = case.header_json
            end
        end
        for _, text in ipairs(texts) do
            assert.are.same(json.decode(text), json.decode_without_cjson(text), text)
        end
        local value = json.decode_without_cjson('{"e":"\\ud83d\\ude00","z":null,"nul":"a\\u0000b"}')
        assert.are.equal("\240\159\152\128", value.e)
        assert.are.equal(json.null, value.z)
        assert.are.equal("a\0b", value.nul)
        assert.is_true(core.json_check("{}"))
    end)
end)
