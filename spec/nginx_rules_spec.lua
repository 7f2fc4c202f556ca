-- The scope rules of auth0.apiv2.nginx (guard:protect/check), outside nginx: they are plain Lua.
local rules = require "auth0.apiv2.internal.nginx.rules"

local claims = { scopes = { users = { actions = { "read" } },
                            users_app_metadata = { actions = { "update" } } },
                 scope = "read:clients" }

describe("nginx rules: select", function()
    it("returns a rule without methods as it is", function()
        local rule = { scopes = { "read:users" } }
        assert.are.equal(rule, rules.select("t", rule, "GET"))
    end)

    it("picks the method's rule, HEAD falling back to GET", function()
        local get = { scopes = { "read:users" } }
        local rule = { methods = { GET = get, PATCH = { any = { "update:users" } } } }
        assert.are.equal(get, rules.select("t", rule, "GET"))
        assert.are.equal(get, rules.select("t", rule, "HEAD"))
        assert.are.same({}, rules.select("t", { methods = { DELETE = true } }, "DELETE"))
    end)

    it("reads the method through a function only for a methods rule", function()
        local calls = 0
        local function method() calls = calls + 1 return "PATCH" end
        local rule = { scopes = { "read:users" } }
        assert.are.equal(rule, rules.select("t", rule, method))
        local any = { any = { "x" } }
        assert.are.equal(any, rules.select("t", any, method))
        assert.are.equal(0, calls)
        local patch = { any = { "update:users" } }
        assert.are.equal(patch, rules.select("t", { methods = { GET = {}, PATCH = patch } },
            method))
        assert.are.equal(1, calls)
    end)

    it("gives the Allow header for a method the rule does not list", function()
        local rule = { methods = { GET = {}, PATCH = {} } }
        local chosen, allow = rules.select("t", rule, "POST")
        assert.is_nil(chosen)
        assert.are.equal("GET, HEAD, PATCH", allow)
    end)

    it("raises on malformed rules", function()
        assert.has_error(function() rules.select("t", "read:users", "GET") end,
            "t: expected a rule table ({ scopes = {...} }, ...)")
        assert.has_error(function() rules.select("t", { scope = { "x" } }, "GET") end,
            "t: unknown rule 'scope'")
        assert.has_error(function() rules.select("t", { scopes = {}, any = {} }, "GET") end,
            "t: give one of scopes, any, endpoint, methods")
        assert.has_error(function()
            rules.select("t", { methods = { GET = { methods = {} } } }, "GET")
        end, "t: unknown rule 'methods'")
    end)
end)

describe("nginx rules: allows", function()
    it("wants every scope of `scopes`", function()
        assert.is_true(rules.allows("t", { scopes = { "read:users", "read:clients" } }, claims))
        local ok, needed, any = rules.allows("t", { scopes = { "read:users", "delete:users" } },
            claims)
        assert.is_false(ok)
        assert.are.equal("read:users delete:users", needed)
        assert.is_false(any)
    end)

    it("wants one scope of `any`", function()
        assert.is_true(rules.allows("t", { any = { "update:users", "update:users_app_metadata" } },
            claims))
        local ok, needed, any = rules.allows("t", { any = { "delete:users", "create:users" } },
            claims)
        assert.is_false(ok)
        assert.are.equal("delete:users create:users", needed)
        assert.is_true(any)
    end)

    it("takes an endpoint's scopes from the catalog", function()
        assert.is_true(rules.allows("t", { endpoint = "PATCH /users/{id}" }, claims))
        local ok, needed = rules.allows("t", { endpoint = "DELETE /users/{id}" }, claims)
        assert.is_false(ok)
        assert.are.equal("delete:users delete:current_user", needed)   -- what the catalog lists
        assert.has_error(function() rules.allows("t", { endpoint = "GET /nowhere" }, claims) end,
            "t: unknown endpoint 'GET /nowhere'")
    end)

    it("takes plain lists of strings only, one scope or many", function()
        assert.are.same({ { "read:users" }, false }, { rules.lists("t", { scopes = { "read:users" } }) })
        assert.are.same({ false, { "a", "b" } }, { rules.lists("t", { any = { "a", "b" } }) })
        assert.are.same({ false, false }, { rules.lists("t", {}) })
        local proxy = setmetatable({}, { __index = { "read:users" } })
        assert.has_error(function() rules.lists("t", { scopes = proxy }) end,
            "t: scopes must be a plain table (no metatable)")
        assert.has_error(function() rules.allows("t", { any = proxy }, claims) end,
            "t: any must be a plain table (no metatable)")
        assert.has_error(function() rules.lists("t", { scopes = { "a", 2 } }) end,
            "t: scopes must be a list of scope strings")
        assert.has_error(function() rules.lists("t", { scopes = { 1 } }) end,
            "t: scopes must be a list of scope strings")
    end)

    it("grants as it allows, from the lists", function()
        assert.is_true(rules.grants({ "read:users" }, false, claims))
        assert.are.same({ false, "delete:users", false },
            { rules.grants({ "delete:users" }, false, claims) })
        assert.is_true(rules.grants({}, false, claims))
        assert.are.same({ false, "", true }, { rules.grants(false, {}, claims) })
        assert.is_true(rules.grants(false, false, claims))
    end)

    it("lets any valid token through an empty rule", function()
        assert.is_true(rules.allows("t", {}, { aud = "x" }))
    end)

    it("names the granted scopes for the upstream header", function()
        assert.are.equal("read:users update:users_app_metadata read:clients",
            rules.granted(claims))
    end)
end)
