-- The error values of the Management API clients (auth0.apiv2.internal.errors): fields from
-- Auth0's error bodies and rate-limit headers, a readable tostring, secrets scrubbed.
local cjson = require "cjson"
local h = require "spec.helpers"
local auth0 = require "spec.util.fake_auth0"
local reply = h.reply

local LIMITED = '{"statusCode":429,"error":"Too Many Requests","message":"Global limit has '
    .. 'been reached","errorCode":"too_many_requests"}'
local admin_token, fake_auth0, client = auth0.admin_token, auth0.answers, auth0.blacklist_client

describe("error values", function()
    it("reads an error body without errorCode, and a body that is not JSON", function()
        local _, err = client(fake_auth0(reply(401,
            '{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}')))
            :revoke({ jti = "j" })
        assert.is_nil(err.error_code)
        assert.are.equal("blacklist.revoke: 401: Missing authentication", tostring(err))
        _, err = client(fake_auth0(reply(502, "<html>\nBad gateway</html>"))):list()
        assert.are.equal("<html> Bad gateway</html>", err.message)
        _, err = client(fake_auth0(reply(404))):list()
        assert.are.equal("blacklist.list: 404: no message", tostring(err))
    end)

    it("describes an error without its op, as the command line shows it", function()
        local _, err = client(fake_auth0(reply(401,
            '{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}')))
            :revoke({ jti = "j" })
        assert.are.equal("401: Missing authentication", err:describe())
        local fail = function() return nil, "http: read from 10.0.0.1:443: timeout", "timeout" end
        _, err = client(fake_auth0(fail), { retries = 0 }):list()
        assert.are.equal("timeout: read from 10.0.0.1:443: timeout", err:describe())
        assert.are.equal("blacklist.list: " .. err:describe(), tostring(err))
    end)

    it("never shows the bearer token, even when the server echoes it", function()
        local admin = admin_token()
        local echo = function(req)
            return reply(400, cjson.encode({ statusCode = 400, error = "Bad Request",
                message = "bad header " .. req.headers.Authorization, errorCode = "invalid_body" }))
        end
        local _, err = client(fake_auth0(echo), { token = admin }):revoke({ jti = "j" })
        assert.are.equal("bad header Bearer [token]", err.message)
        assert.is_nil(tostring(err):find(admin, 1, true))
        local fail = function(req) return nil, "proxy refused " .. req.headers.Authorization end
        _, err = client(fake_auth0(fail), { token = admin }):revoke({ jti = "j" })
        assert.are.equal("blacklist.revoke: network: proxy refused Bearer [token]", tostring(err))
    end)

    it("keeps tostring working when the server sends an absurd x-ratelimit-reset", function()
        local absurd = reply(429, LIMITED, { ["x-ratelimit-reset"] = "100000000000000000000" })
        local transport = fake_auth0(absurd, absurd, absurd, absurd)
        local bl = client(transport)
        local ok, err = bl:list()
        assert.is_nil(ok)
        local shown, text = pcall(tostring, err)
        assert.is_true(shown, text)
        assert.is_truthy(text:find("rate limit resets at", 1, true))
    end)

    it("scrubs an echoed bearer token before cutting a long body, so no part of it is left", function()
        local bearer = admin_token()
        local echoed = string.rep("x", 280) .. bearer
        local transport = fake_auth0(reply(400, echoed, { ["content-type"] = "text/plain" }))
        local bl = client(transport, { token = bearer })
        local _, err = bl:list()
        assert.is_nil(tostring(err):find(bearer:sub(1, 12), 1, true))
    end)
end)
