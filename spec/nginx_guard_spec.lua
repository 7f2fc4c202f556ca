-- auth0.apiv2.nginx's guard outside nginx, with a minimal fake ngx: what it hands out when its
-- verifier has a cache, and the same decisions when it has none and checks tokens without
-- their claims (the real nginx specs are spec/openresty/guard and run).
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

        assert.is_nil(guard:protect(rule))             -- a miss: the claims built, and kept
        assert.is_nil(rawget(ngx.ctx, "claims"), "a miss's copy too is made when first read")
        local first = ngx.ctx.claims
        assert.are.same(fresh, first)
        assert.are.equal(first, rawget(ngx.ctx, "claims"))
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

        assert.are.equal(200, (request(victim)))      -- a miss: looked up, remembered
        assert.are.equal(1, lookups.entries)
        for _ = 1, 3 do assert.are.equal(200, (request(victim))) end
        assert.are.equal(1, lookups.entries, "a remembered answer is not looked up again")

        assert(store:revoke(AUD, "bystander"))         -- any write: memos are looked up again
        assert.are.equal(200, (request(victim)))
        assert.are.equal(2, lookups.entries)
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

describe("nginx guard: a token the verifier has not cached is checked without its claims",
    function()
    local saved_ngx, nginx
    setup(function()
        saved_ngx = rawget(_G, "ngx")
        nginx = require "auth0.apiv2.nginx"
    end)
    teardown(function() _G.ngx = saved_ngx end)

    local NOW = 1800000000
    -- A guard's token reader holds the ngx.var of the ngx it was made under: one for all.
    local var = {}
    local function made_under_fake(make)
        _G.ngx = fake_ngx("x")
        ngx.var = var
        return make()
    end
    -- A request through guard:protect: what it answered, and the claims it left in ngx.ctx.
    local function protect(guard, jwt, rule, method, unread)
        local fake = fake_ngx(jwt)
        var.http_authorization = fake.var.http_authorization
        fake.var = var
        fake.req.get_method = function() return method or "GET" end
        fake.shared, fake.time = _G.ngx and _G.ngx.shared, function() return NOW end
        fake.exit = function(code) fake.exited = code end
        fake.print = function(body) fake.body = body end
        _G.ngx = fake
        local returned = guard:protect(rule)
        assert.is_nil(returned)
        local status = fake.exited and fake.status or 200
        return { status = status, challenge = fake.header["WWW-Authenticate"], body = fake.body,
                 allow = fake.header.Allow, claims = status == 200 and not unread and fake.ctx.claims or nil }
    end

    local dict_data = {}
    local function dict()
        local d = {}
        function d.get(_, k) return dict_data[k] end
        function d.safe_set(_, k, v) dict_data[k] = v return true end
        function d.safe_add(_, k, v)
            if dict_data[k] ~= nil then return false, "exists" end
            dict_data[k] = v
            return true
        end
        function d.incr(_, k, n, init)
            local v = dict_data[k] or init
            dict_data[k] = v + n
            return dict_data[k]
        end
        function d.delete(_, k) dict_data[k] = nil end
        return d
    end

    local function matrix(cache)
        _G.ngx = fake_ngx("x")
        ngx.var = var
        ngx.shared, ngx.time = { revoked = dict() }, function() return NOW end
        local store = nginx.revocations{ dict = "revoked" }
        assert(store:revoke(AUD, "revoked-by-store"))
        local function verifier()
            return token.verifier{ key = KEY, audience = AUD, now = function() return NOW end,
                is_revoked = function(_, jti) return jti == "revoked-by-verifier" end,
                cache = cache }
        end
        local lazy = nginx.guard{ verifier = verifier(), revocations = store }
        local eager = nginx.guard{ verifier = verifier(), revocations = store }
        assert.is_true(lazy.without_claims)
        eager.without_claims = false                   -- the path with the claims built

        local function signed(fields)
            local t = { aud = AUD, iat = NOW - 10000, exp = NOW + 3600, jti = "j" }
            for k, v in pairs(fields) do t[k] = v end
            return token.new(t):sign(KEY)
        end
        local other = token.key(string.rep("o", 48), { encoding = "raw" })
        local tokens = {
            signed{ scopes = { "read:users" } },
            signed{ scopes = { "read:users", "update:users", "read:clients" } },
            signed{ scopes = { "update:users_app_metadata" } },
            signed{ scopes = {} },
            signed{ scopes = { "read:users" }, claims = { sub = "u", extra = { 1, 2 } } },
            signed{ scopes = { "read:users" }, jti = "revoked-by-store" },
            signed{ scopes = { "read:users" }, jti = "revoked-by-verifier" },
            signed{ scopes = { "read:users" }, exp = NOW - 1000 },
            signed{ scopes = { "read:users" }, aud = "someone else's" },
            token.new{ aud = AUD, scopes = { "read:users" } }:sign(other),
            "not.a.token",
        }
        local rules = {
            {}, { scopes = { "read:users" } }, { scopes = { "read:users", "update:users" } },
            { scopes = {} }, { any = { "update:users", "update:users_app_metadata" } },
            { any = {} }, { endpoint = "PATCH /users/{id}" }, { endpoint = "GET /clients" },
            { methods = { GET = { scopes = { "read:clients" } }, PATCH = true } },
        }
        local seen = {}
        for ti, jwt in ipairs(tokens) do
            for ri, rule in ipairs(rules) do
                for _, method in ipairs{ "GET", "PATCH", "POST" } do
                    local a = protect(lazy, jwt, rule, method)
                    local b = protect(eager, jwt, rule, method)
                    assert.are.same(b, a, ("token %d, rule %d, %s"):format(ti, ri, method))
                    seen[a.status] = true
                end
            end
        end
        assert.are.same({ [200] = true, [401] = true, [403] = true, [405] = true }, seen)
        return lazy.verifier, eager.verifier
    end

    it("decide and answer as with the claims, for every rule and token: no cache",
        function() matrix(nil) end)

    it("decide and answer as with the claims, for every rule and token: misses, then hits",
        function()
        local lazy, eager = matrix(4)
        assert.are.same(eager:stats(), lazy:stats())
        assert.is_true(lazy:stats().hits > 100)
    end)

    it("raise on a malformed rule whatever the token, with the claims or without", function()
        local v = token.verifier{ key = KEY, audience = AUD, cache = 4 }
        local lazy = made_under_fake(function() return nginx.guard{ verifier = v } end)
        local eager = made_under_fake(function() return nginx.guard{ verifier = v } end)
        eager.without_claims = false
        local good = token.new{ aud = AUD, scopes = { "read:users" } }:sign(KEY)
        local expired = token.new{ aud = AUD, exp = NOW - 1000, scopes = { "read:users" } }
            :sign(KEY)
        -- A read-only proxy: `#` and indexes say one scope, its raw contents none (the
        -- verifier's pass reads lists raw). Were it read both ways, one path would let a
        -- token without the scope through.
        local proxy = setmetatable({}, { __index = { "delete:users" },
                                         __len = function() return 1 end })
        local bad = {
            { { scopes = { 1 } }, "scopes must be a list of scope strings" },
            { { scopes = "read:users" }, "scopes must be a list of scopes" },
            { { any = false }, "any must be a list of scopes" },
            { { endpoint = "BOGUS /x" }, "BOGUS" },
            { { scopes = proxy }, "scopes must be a plain table (no metatable)" },
            { { any = proxy }, "any must be a plain table (no metatable)" },
            { { methods = { GET = { scopes = proxy } } }, "no metatable" },
        }
        for _, guard in ipairs{ lazy, eager } do
            for _, case in ipairs(bad) do
                for _, jwt in ipairs{ good, expired, "not.a.token" } do
                    local ok, err = pcall(protect, guard, jwt, case[1])
                    assert.is_false(ok, case[2])
                    assert.truthy(tostring(err):find(case[2], 1, true), tostring(err))
                    ok, err = pcall(function() return guard:check(case[1]) end)
                    assert.is_false(ok, case[2])
                    assert.truthy(tostring(err):find(case[2], 1, true), tostring(err))
                end
                var.http_authorization = nil       -- no token at all
                assert.has_error(function() guard:check(case[1]) end)
            end
        end
    end)

    it("a new token's cache entry gets its claims on its first hit", function()
        local v = token.verifier{ key = KEY, audience = AUD, cache = 4 }
        local guard = made_under_fake(function() return nginx.guard{ verifier = v } end)
        local jwt = token.new{ aud = AUD, scopes = { "read:users" } }:sign(KEY)
        local fresh = token.verify(jwt, KEY, { audience = AUD })
        assert.are.equal(200, protect(guard, jwt, {}, "GET", "unread").status)
        local entry = v.cache:get(jwt)
        assert.is_nil(entry.claims, "a miss is cached without claims")
        local first = protect(guard, jwt, { scopes = { "read:users" } })
        assert.are.same(fresh, first.claims)
        assert.are.same(fresh, entry.claims, "made on the first hit, and kept")
        assert.are_not.equal(entry.claims, first.claims)
        assert.are.same(fresh, v:verify(jwt))
        assert.are.same({ hits = 2, misses = 1, entries = 1, size = 4 }, v:stats())
    end)

    it("build the claims on their first read, at the time the token was checked", function()
        local now = NOW
        local v = token.verifier{ key = KEY, audience = AUD, now = function() return now end }
        local guard = made_under_fake(function() return nginx.guard{ verifier = v } end)
        local jwt = token.new{ aud = AUD, exp = NOW + 60, scopes = { "read:users" },
                               claims = { sub = "u2" } }:sign(KEY)
        local fresh = token.verify(jwt, KEY, { audience = AUD, now = NOW })

        local r = protect(guard, jwt, { scopes = { "read:users" } }, "GET", "unread")
        assert.are.equal(200, r.status, r.body)
        local ctx = ngx.ctx
        assert.is_nil(rawget(ctx, "claims"), "nothing built yet")
        assert.is_nil(next(ctx))
        now = NOW + 3600                               -- the token expires before the read
        local claims = ctx.claims
        assert.are.same(fresh, claims)
        assert.are.equal(claims, rawget(ctx, "claims"))
        assert.are.equal(claims, ctx.claims, "built once")
        assert.is_nil(debug.getmetatable(ctx))

        now = NOW
        protect(guard, jwt, { scopes = { "read:users" } }, "GET", "unread")
        ngx.ctx.claims = "assigned"                    -- assigned first: never built
        assert.are.equal("assigned", ngx.ctx.claims)
        assert.is_nil(debug.getmetatable(ngx.ctx))
    end)

    it("need no key on the read: the token passed already", function()
        local key = token.key(string.rep("w", 48), { encoding = "raw" })
        local guard = made_under_fake(function()
            return nginx.guard{ verifier = token.verifier{ key = key, audience = AUD } }
        end)
        local jwt = token.new{ aud = AUD, scopes = { "read:users" } }:sign(key)
        assert.are.equal(200, protect(guard, jwt, {}, "GET", "unread").status)
        local ctx = ngx.ctx
        key:wipe()
        assert.are.same(select(2, token.decode(jwt)), ctx.claims)
    end)

    it("not with a key function, a scope rule of the verifier's or upstream headers", function()
        local function without(opts, guard_opts)
            guard_opts = guard_opts or {}
            opts.key = opts.key or KEY
            opts.audience = AUD
            guard_opts.verifier = token.verifier(opts)
            return nginx.guard(guard_opts).without_claims
        end
        assert.is_true(without{})
        assert.is_true(without{ cache = 10 })
        assert.is_false(without{ key = function() return KEY end })
        assert.is_false(without{ scopes = { "read:users" } })
        assert.is_false(without{ any = { "read:users" } })
        assert.is_false(without({}, { headers = { sub = "X-Sub" } }))
        assert.is_false(nginx.guard{ verifier = { verify = function() end } }.without_claims)
    end)
end)
