-- The deterministic JSON encoder: bytes as ECMAScript's JSON.stringify writes them.
local json = require "auth0.apiv2.json"
local h = require "spec.helpers"

describe("json.encode", function()
    it("writes numbers exactly as JSON.stringify does", function()
        local numbers = h.fixture("js-numbers/numbers.json")
        for _, c in ipairs(numbers.cases) do
            assert.are.equal(c.json, json.encode(tonumber(c.input)), c.input)
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
