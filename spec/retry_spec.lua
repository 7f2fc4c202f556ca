-- The retries of Management API calls (auth0.apiv2.internal.retry), driven through a blacklist
-- client on a fake transport that records its sleeps instead of sleeping.
local retry = require "auth0.apiv2.internal.retry"
local h = require "spec.helpers"
local auth0 = require "spec.util.fake_auth0"
local reply = h.reply

local LIMITED = '{"statusCode":429,"error":"Too Many Requests","message":"Global limit has '
    .. 'been reached","errorCode":"too_many_requests"}'
local fake_auth0, client = auth0.answers, auth0.blacklist_client

describe("retries", function()
    it("waits for Retry-After on a 429, then succeeds", function()
        local limited = reply(429, LIMITED, { ["retry-after"] = "2", ["x-ratelimit-reset"] = "9" })
        local transport, requests = fake_auth0(limited, limited, reply(204))
        local bl, slept = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(3, #requests)
        assert.are.same({ 2, 2 }, slept)
    end)

    it("retries a 5xx only where sending twice is harmless", function()
        local retry_mod = require "auth0.apiv2.internal.retry"
        assert.is_true(retry_mod.retryable(503, "GET"))
        assert.is_true(retry_mod.retryable(503, "POST", true))   -- revoking twice is harmless
        assert.is_false(retry_mod.retryable(500, "POST"))
        assert.is_false(retry_mod.retryable(502, "PATCH"))
        assert.is_false(retry_mod.retryable(501, "GET"))
        assert.is_true(retry_mod.retryable(429, "POST"))
        local transport, requests = fake_auth0(reply(503), reply(204))
        local bl = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(2, #requests)
    end)

    it("waits until x-ratelimit-reset when there is no Retry-After", function()
        local transport = fake_auth0(reply(429, LIMITED, { ["x-ratelimit-reset"] = "1003" }),
            reply(204))
        local bl, slept = client(transport, { now = function() return 1000.5 end })
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.same({ 2.5 }, slept)
    end)

    it("backs off exponentially with jitter when the server gives no time", function()
        local transport = fake_auth0(reply(429, LIMITED), reply(429, LIMITED),
            reply(429, LIMITED), reply(204))
        local bl, slept = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(3, #slept)
        for i, wait in ipairs(slept) do
            local full = retry.BASE_DELAY_S * 2 ^ (i - 1)
            assert.is_true(wait >= full / 2 and wait <= full, "wait " .. i .. ": " .. wait)
        end
    end)

    it("ignores an HTTP-date Retry-After and a reset time already past", function()
        local transport = fake_auth0(reply(429, LIMITED, {
            ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT", ["x-ratelimit-reset"] = "900" }),
            reply(204))
        local bl, slept = client(transport, { now = function() return 1000 end })
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.is_true(slept[1] >= retry.BASE_DELAY_S / 2 and slept[1] <= retry.BASE_DELAY_S)
    end)

    it("caps every wait at max_wait", function()
        local transport = fake_auth0(reply(429, LIMITED, { ["retry-after"] = "3600" }), reply(204))
        local bl, slept = client(transport, { max_wait = 1500 })
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.same({ 1.5 }, slept)
    end)

    it("gives up after the allowed retries and reports when the limit resets", function()
        local transport, requests = fake_auth0(reply(429, LIMITED, { ["retry-after"] = "30",
            ["x-ratelimit-reset"] = tostring(h.NOW + 10), ["x-ratelimit-limit"] = "2",
            ["x-ratelimit-remaining"] = "0" }))
        local bl, slept = client(transport, { retries = 2 })
        local ok, err = bl:list()
        assert.is_nil(ok)
        assert.are.equal(3, #requests)
        assert.are.same({ 10, 10 }, slept)
        assert.are.equal(429, err.status)
        assert.are.equal("too_many_requests", err.error_code)
        assert.are.equal(3, err.attempts)
        assert.are.equal(30, err.retry_after)
        assert.are.equal(h.NOW + 10, err.reset)
        assert.are.equal(2, err.limit)
        assert.are.equal(0, err.remaining)
        assert.are.equal("blacklist.list: 429 too_many_requests: Global limit has been reached "
            .. "(3 attempts; retry after 30 s; rate limit resets at 2026-01-01T00:00:10Z)",
            tostring(err))
    end)

    it("retries 5xx answers too", function()
        local transport, requests = fake_auth0(reply(503), reply(500), reply(204))
        local bl, slept = client(transport)
        assert.is_true(bl:revoke({ jti = "j" }))
        assert.are.equal(3, #requests)
        assert.are.equal(2, #slept)
    end)

    it("never retries a 4xx other than 429", function()
        for _, status in ipairs({ 400, 401, 403, 404, 409, 422 }) do
            local transport, requests = fake_auth0(reply(status), reply(204))
            local _, err = client(transport):revoke({ jti = "j" })
            assert.are.equal(status, err.status)
            assert.are.equal(1, #requests)
        end
    end)

    it("makes a single attempt with retries = 0", function()
        local transport, requests = fake_auth0(reply(429, LIMITED), reply(204))
        local _, err = client(transport, { retries = 0 }):revoke({ jti = "j" })
        assert.are.equal(429, err.status)
        assert.are.equal(1, #requests)
    end)
end)

describe("retry.delay", function()
    it("draws its default jitter from the core's pool, not the unseeded math.random", function()
        local no_jitter = { max_wait = 10, now = function() return 100 end }
        local seen = {}
        for _ = 1, 20 do
            math.randomseed(1)   -- what every nginx worker starts with
            seen[retry.delay(reply(503), 3, no_jitter)] = true
        end
        local distinct = 0
        for _ in pairs(seen) do distinct = distinct + 1 end
        assert.is_true(distinct > 1)
    end)

    local policy = { max_wait = 10, now = function() return 100 end, random = function() return 0 end }

    it("prefers Retry-After, then x-ratelimit-reset, then backoff", function()
        assert.are.equal(0.5, retry.delay(reply(429, "", { ["retry-after"] = "0.5",
            ["x-ratelimit-reset"] = "105" }), 1, policy))
        assert.are.equal(5, retry.delay(reply(429, "", { ["x-ratelimit-reset"] = "105" }), 1, policy))
        assert.are.equal(retry.BASE_DELAY_S * 4 / 2, retry.delay(reply(503), 3, policy))
    end)
end)
