-- The public `transport` hook of management.new: the request and response shapes that
-- docs/management.md ("Bringing your own HTTP client") promises.
local management = require "auth0.apiv2.management"
local cjson = require "cjson"
local h = require "spec.helpers"

describe("management.new{ transport = ... }", function()
    it("gets method, absolute url, headers, body, timeout and advice; returns status, headers, body",
        function()
        local seen = {}
        local mgmt = management.new{ domain = "tenant.example.com", token = "abc.def.ghi",
            timeout = 1234, transport = function(req)
                seen[#seen + 1] = req
                return { status = 200, headers = { ["Content-Type"] = "application/json",
                    ["X-RateLimit-Remaining"] = "9" }, body = '{"total":115,"users":[]}' }
            end }
        local answer = assert(mgmt:request("PATCH", "/users/{id}", { id = "auth0|1" },
            { name = "x" }, { fields = "email" }, { idempotent = true }))
        assert.are.equal("115", tostring(answer.total))
        local req = seen[1]
        assert.are.equal("PATCH", req.method)
        assert.are.equal("https://tenant.example.com/api/v2/users/auth0%7C1?fields=email", req.url)
        assert.are.equal("Bearer abc.def.ghi", req.headers.Authorization)
        assert.are.equal("application/json", req.headers["Content-Type"])
        assert.are.same({ name = "x" }, cjson.decode(req.body))
        assert.are.equal(1234, req.timeout)
        assert.is_true(req.keepalive)
        assert.is_true(req.idempotent)
        assert.is_nil(req.transport)
    end)

    it("reports a transport failure with its code", function()
        local mgmt = management.new{ domain = "tenant.example.com", token = "abc.def.ghi",
            retries = 0, transport = function() return nil, "no route", "network" end }
        local value, err = mgmt:request("GET", "/users")
        assert.is_nil(value)
        assert.are.equal("network", err.error_code)
        assert.are.equal("management.request: network: no route", tostring(err))
    end)

    it("retries a 503 of a PATCH only when the call is idempotent", function()
        local calls = 0
        local mgmt = management.new{ domain = "tenant.example.com", token = "abc.def.ghi",
            sleep = function() end, transport = function()
                calls = calls + 1
                if calls <= 2 then return h.reply(503, "{}") end
                return h.reply(200, "{}")
            end }
        local _, err = mgmt:request("PATCH", "/users/{id}", { id = "a" }, {})
        assert.are.equal(503, err.status)
        assert.are.equal(1, calls)
        assert(mgmt:request("PATCH", "/users/{id}", { id = "a" }, {}, nil, { idempotent = true }))
        assert.are.equal(3, calls)
        assert.has_error(function() mgmt:request("GET", "/users", nil, nil, nil, { x = 1 }) end,
            "management.request: unknown option 'x'")
    end)
end)
