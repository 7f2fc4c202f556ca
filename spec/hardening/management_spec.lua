-- Regressions of issue 15 in mgmt:request (items 6 and 10): query values that ipairs would
-- drop or cut raise, and messages stay bounded.
local management = require "auth0.apiv2.management"
local h = require "spec.helpers"
local error_of = h.error_of

local function client(log)
    return management.new{ domain = "tenant.auth0.com", token = "a.b.c",
        transport = function(req)
            log[#log + 1] = req
            return h.reply(200, "[]")
        end }
end

describe("mgmt:request query values (issue 15, item 6)", function()
    local log, mgmt
    before_each(function()
        log = {}
        mgmt = client(log)
    end)

    local function raised(query) return error_of(mgmt.request, mgmt, "GET", "/users", nil, nil, query) end
    local NOT_A_LIST = " is a table but not a list of values (keys 1..n, at least one, no holes): "
        .. "the request would go out without it"

    it("raises for a table that is not a list, instead of sending no filter", function()
        assert.are.equal("management.request: query.q" .. NOT_A_LIST,
            raised({ q = { email = "a@b.c" } }))
        assert.are.equal("management.request: query.fields" .. NOT_A_LIST,
            raised({ fields = { "email", extra = "x" } }))
        assert.are.equal(0, #log)
    end)

    it("raises for a list with a hole, instead of cutting it", function()
        assert.are.equal("management.request: query.fields" .. NOT_A_LIST,
            raised({ fields = { "user_id", nil, "email" } }))
        assert.are.equal("management.request: query.fields" .. NOT_A_LIST,
            raised({ fields = { [2] = "email", [3] = "name" } }))
        assert.are.equal("management.request: query.fields" .. NOT_A_LIST,
            raised({ fields = { [1.5] = "x" } }))
        assert.are.equal(0, #log)
    end)

    it("raises for an empty list, which would also drop the filter", function()
        assert.are.equal("management.request: query.fields" .. NOT_A_LIST, raised({ fields = {} }))
    end)

    it("still sends a whole list as repeated names", function()
        assert.is_table(mgmt:request("GET", "/users", nil, nil, { fields = { "a", "b", "c" } }))
        assert.are.equal("https://tenant.auth0.com/api/v2/users?fields=a&fields=b&fields=c",
            log[1].url)
    end)
end)

describe("mgmt:request messages (issue 15, item 10)", function()
    local mgmt = client({})

    it("stay short for a 1 MiB path placeholder", function()
        local name = ("p"):rep(1024 * 1024)
        local err = error_of(mgmt.request, mgmt, "GET", "/users/{" .. name .. "}", {})
        assert.is_true(#err < 200, #err .. " bytes")
        assert.are.equal("management.request: path parameter '" .. ("p"):rep(64) .. "...' must "
            .. "be a string or a finite number (it is missing)", err)
    end)

    it("stay short for a long unknown parameter or query name", function()
        local name = ("u"):rep(1024 * 1024)
        local err = error_of(mgmt.request, mgmt, "GET", "/users", { [name] = "x" })
        assert.is_true(#err < 200, #err .. " bytes")
        err = error_of(mgmt.request, mgmt, "GET", "/users", nil, nil, { [name] = 0 / 0 })
        assert.is_true(#err < 200, #err .. " bytes")
        err = error_of(mgmt.request, mgmt, "POST", "/users", nil, { [name] = print })
        assert.is_true(#err < 200, #err .. " bytes")
    end)

    it("stay short for a placeholder that would change the path", function()
        local name = ("q"):rep(1024 * 1024)
        local _, err = mgmt:request("GET", "/users/{" .. name .. "}", { [name] = ".." })
        assert.is_true(#tostring(err) < 200, #tostring(err) .. " bytes")
    end)
end)
