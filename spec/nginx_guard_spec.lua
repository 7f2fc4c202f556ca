-- auth0.apiv2.nginx's guard outside nginx, with a minimal fake ngx: what it hands out when its
-- verifier has a cache (the real nginx specs are spec/openresty/guard and run).
-- luacheck: globals ngx
local token = require "auth0.apiv2.token"

local KEY = token.key(string.rep("k", 48), { encoding = "raw" })
local AUD = "GUARDspecAUDIENCE0123456789abcde"

-- An ngx for one request at a time: the Authorization header, ngx.ctx, the request headers set.
local function fake_ngx(jwt)
    local fake = {
        var = { http_authorization = "Bearer " .. jwt }, ctx = {}, header = {}, set = {},
        WARN = 4, ERR = 3, HTTP_OK = 200,
        get_phase = function() return "init" end,
        log = function() end,
    }
    fake.req = {
        get_method = function() return "GET" end,
        set_header = function(name, value) fake.set[name] = value end,
    }
    return fake
end

describe("nginx guard: claims from a cached verifier", function()
    local saved_ngx, nginx
    setup(function()
        saved_ngx = rawget(_G, "ngx")
        nginx = require "auth0.apiv2.nginx"
    end)
    teardown(function() _G.ngx = saved_ngx end)

    it("are the caller's own: changing them changes nothing for the next request", function()
        local jwt = token.new{ aud = AUD, scopes = { "read:users" }, claims = { sub = "u1" } }
            :sign(KEY)
        local fresh = token.verify(jwt, KEY, { audience = AUD })
        _G.ngx = fake_ngx(jwt)
        local verifier = token.verifier{ key = KEY, audience = AUD, cache = 10 }
        local guard = nginx.guard{ verifier = verifier, headers = { sub = "X-Sub" } }
        local rule = { scopes = { "read:users" } }

        assert.is_nil(guard:protect(rule))             -- a miss: the claims built for it
        local first = ngx.ctx.claims
        assert.are.same(fresh, first)
        assert.are.equal(first, rawget(ngx.ctx, "claims"), "a miss's claims are a plain field")
        first.sub, first.scopes.users.actions[1] = "someone else", "delete"

        for round = 1, 2 do                           -- hits: from the cache, never its table
            _G.ngx = fake_ngx(jwt)
            assert.is_nil(guard:protect(rule))
            assert.are.equal("u1", ngx.set["X-Sub"])
            assert.is_nil(rawget(ngx.ctx, "claims"), "a hit's copy is made when first read")
            local claims = ngx.ctx.claims
            assert.are.same(fresh, claims)
            assert.are.equal(claims, rawget(ngx.ctx, "claims"))
            assert.are.equal(claims, ngx.ctx.claims, "one copy per request")
            claims.sub, claims.scopes.users.actions[1] = "round " .. round, "delete"
            assert.are.equal("delete", ngx.ctx.claims.scopes.users.actions[1])
            local checked, status = guard:check(rule)
            assert.are.equal(200, status)
            assert.are.same(fresh, checked)
            assert.are_not.equal(claims, checked)
            checked.jti = "changed"
        end
        _G.ngx = fake_ngx(jwt)                        -- a hit whose claims are never read
        guard:protect(rule)
        assert.are.same(fresh, verifier:verify(jwt))
        assert.are.same({ hits = 6, misses = 1, entries = 1, size = 10 }, verifier:stats())
    end)

    -- A lua_shared_dict as the store uses it, counting the lookups of revocation entries.
    local function fake_dict()
        local data, lookups = {}, { entries = 0 }
        local d = {}
        function d.get(_, k)
            if not k:find("^meta:") then lookups.entries = lookups.entries + 1 end
            return data[k]
        end
        function d.safe_set(_, k, v) data[k] = v return true end
        function d.safe_add(_, k, v)
            if data[k] ~= nil then return false, "exists" end
            data[k] = v
            return true
        end
        function d.incr(_, k, n, init)
            local v = data[k] or init
            if v == nil then return nil, "not found" end
            data[k] = v + n
            return data[k]
        end
        function d.delete(_, k) data[k] = nil end
        return d, lookups, data
    end

    it("remember a token found not revoked only until the next revocation", function()
        local function signed(jti)
            return token.new{ aud = AUD, scopes = { "read:users" }, jti = jti }:sign(KEY)
        end
        local victim, bystander, third = signed("victim"), signed("bystander"), signed("third")
        local dict, lookups, data = fake_dict()
        _G.ngx = fake_ngx(victim)
        ngx.shared, ngx.time = { revoked = dict }, os.time
        local store = nginx.revocations{ dict = "revoked" }
        local guard = nginx.guard{ revocations = store,
            verifier = token.verifier{ key = KEY, audience = AUD, cache = 10 } }
        local function request(jwt)                    -- (the guard reads this ngx.var)
            ngx.var.http_authorization, ngx.ctx = "Bearer " .. jwt, {}
            local _, status, reason = guard:check{ scopes = { "read:users" } }
            return status, reason
        end

        assert.are.equal(200, (request(victim)))      -- a miss: looked up
        assert.are.equal(1, lookups.entries)
        assert.are.equal(200, (request(victim)))      -- a hit: looked up, remembered
        assert.are.equal(2, lookups.entries)
        for _ = 1, 3 do assert.are.equal(200, (request(victim))) end
        assert.are.equal(2, lookups.entries, "a remembered answer is not looked up again")

        assert(store:revoke(AUD, "bystander"))         -- any write: memos are looked up again
        assert.are.equal(200, (request(victim)))
        assert.are.equal(3, lookups.entries)
        assert.are.same({ 401, "revoked" }, { request(bystander) })

        assert(store:record(AUD, "victim"))            -- as another worker or a backend writes
        assert.are.same({ 401, "revoked" }, { request(victim) })

        assert.are.equal(200, (request(third)))
        assert.are.equal(200, (request(third)))        -- remembered now
        store:set_unavailable("redis down")            -- unavailable beats a memo
        assert.are.same({ 503, "revocation check failed" }, { request(third) })
        store:set_unavailable(nil)

        data["meta:recorded"] = nil                    -- a count that cannot be read: no memo
        local before = lookups.entries
        assert.are.equal(200, (request(third)))
        assert.are.equal(200, (request(third)))
        assert.are.equal(before + 2, lookups.entries)
    end)
end)
