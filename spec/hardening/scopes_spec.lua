-- Regressions of issue 15 in the scope catalog (item 13): trailing slashes in linear time, and
-- a bound on the endpoint's size that refuses instead of working on.
local scopes = require "auth0.apiv2.scopes"
local token = require "auth0.apiv2.token"
local h = require "spec.helpers"

describe("scopes.for_endpoint with many trailing slashes (issue 15, item 13)", function()
    it("strips thousands of them", function()
        local list = scopes.for_endpoint("GET /users" .. ("/"):rep(8000))
        assert.are.same(scopes.for_endpoint("GET /users"), list)
        assert.are.same(scopes.for_endpoint("GET /"), scopes.for_endpoint("GET //"))
    end)

    it("refuses an endpoint longer than MAX_ENDPOINT with a bounded reason", function()
        assert.are.equal(8192, scopes.MAX_ENDPOINT)
        local endpoint = "GET /users" .. ("/"):rep(40000)
        assert.are.same({ nil, "endpoint too long" }, { scopes.for_endpoint(endpoint) })
        local limit = "GET /users" .. ("/"):rep(scopes.MAX_ENDPOINT - 10)
        assert.is_table(scopes.for_endpoint(limit))
        assert.are.same({ nil, "endpoint too long" }, { scopes.for_endpoint(limit .. "/") })
    end)

    it("refuses it through token.new's endpoints too", function()
        local err = h.error_of(token.new, { aud = h.AUD, endpoints = { "GET /users"
            .. ("/"):rep(40000) } })
        assert.is_true(#err < 200, #err .. " bytes")
        assert.truthy(err:find(": endpoint too long$"))
    end)
end)
