-- token.verifier (v:verify, v:check, the cache) and token.verify on the same machinery: every
-- shared vector through all of them with identical verdicts and reasons, and the policy rules.
local token = require "auth0.apiv2.token"
local h = require "spec.helpers"

local function all_cases()
    local list = {}
    for _, file in ipairs({ "jwt_valid_interop.json", "jwt_valid_policy.json", "jwt_invalid.json" }) do
        for _, case in ipairs(h.fixture("vectors/" .. file).tests) do list[#list + 1] = case end
    end
    local rfc = h.fixture("vectors/jwt_rfc_examples.json")
    for _, case in ipairs(rfc.valid) do list[#list + 1] = case end
    for _, case in ipairs(rfc.invalid) do list[#list + 1] = case end
    return list
end

describe("token.verifier on every shared vector", function()
    it("gives the verdicts and reasons of token.verify, with and without the cache", function()
        local count = 0
        for _, case in ipairs(all_cases()) do
            local jwt = h.vector_token(case)
            if case.reason == "key_too_short" then
                assert.has_error(function()
                    local p = h.vector_options(case)
                    p.key = h.vector_key(case)
                    token.verifier(p)
                end)
            else
                local key = h.vector_key(case)
                local want_claims, want_reason = token.verify(jwt, key, h.vector_options(case))
                for _, size in ipairs({ 0, 4 }) do
                    local p = h.vector_options(case)
                    p.key, p.cache = key, size
                    local v = token.verifier(p)
                    for round = 1, 2 do   -- the second round is answered from the cache
                        local label = case.id .. " cache " .. size .. " round " .. round
                        local claims, reason = v:verify(jwt)
                        assert.are.equal(want_reason, reason, label)
                        assert.are.same(want_claims, claims, label)
                        local ok, creason = v:check(jwt)
                        assert.are.equal(want_claims ~= nil, ok == true, label)
                        if not ok then assert.are.equal(want_reason, creason, label) end
                    end
                    if case.expected == "accept" then
                        assert.are.same(case.claims, (v:verify(jwt)), case.id)
                    end
                end
                assert.are.equal(case.expected == "accept", want_claims ~= nil, case.id)
            end
            count = count + 1
        end
        assert.is_true(count > 170)
    end)
end)

describe("the one-pass C check (core.verify_pass)", function()
    local core = require "auth0.apiv2.core"
    local reference = require "auth0.apiv2.internal.reference_pass"
    local function both(jwt, key, v, all, any, want)
        local now = v.now or h.NOW
        local c = { core.verify_pass(jwt, key, now, v.leeway or 0, v.require_exp, v.audience,
            all, any, want) }
        local r = { reference.pass(jwt, key, now, v.leeway or 0, v.require_exp, v.audience, all,
            any, want) }
        return c, r
    end

    it("answers every shared vector as the old checker and the JSON decoder do", function()
        local count = 0
        for _, case in ipairs(all_cases()) do
            local jwt = h.vector_token(case)
            local key = core.key(h.unhex(case.key_hex), "raw")
            local p = h.vector_options(case)
            for want = 0, 3 do
                local c, r = both(jwt, key, p, { "read:users" }, { "update:users", "x:y" }, want)
                assert.are.same(r, c, case.id .. " want " .. want)
                if math.type and c[1] then
                    for i = 4, 6 do   -- exp, nbf, iat: integers where integral
                        if r[i] ~= nil then
                            assert.are.equal(math.type(r[i]), math.type(c[i]), case.id)
                        end
                    end
                end
            end
            count = count + 1
        end
        assert.is_true(count > 170)
    end)

    it("want 3: the claims table of want 1 for a token that passes, whatever the rules",
        function()
        local passed = 0
        for _, case in ipairs(all_cases()) do
            local jwt = h.vector_token(case)
            local key = core.key(h.unhex(case.key_hex), "raw")
            local p = h.vector_options(case)
            local full = both(jwt, key, p, false, false, 1)
            local claims = core.verify_pass(jwt, false, 0, 0, false, false, false, false, 3)
            local ref = reference.pass(jwt, false, 0, 0, false, false, false, false, 3)
            if full[1] then
                assert.are.same(full[1], claims, case.id)
                assert.are.same(full[1], ref, case.id .. " (reference)")
                if math.type then   -- are.same holds 1 and 1.0 equal: 1767225600, not ...0.0
                    for name, value in pairs(full[1]) do
                        assert.are.equal(math.type(value), math.type(claims[name]), case.id)
                    end
                    for _, name in ipairs{ "exp", "nbf", "iat" } do   -- the reference's promise
                        assert.are.equal(math.type(full[1][name]), math.type(ref[name]), case.id)
                    end
                end
                passed = passed + 1
            end
        end
        assert.is_true(passed > 20)
    end)

    it("matches scopes, audiences and escapes as the Lua rules do", function()
        local key_bytes = h.unhex(h.SECRET_HEX)
        local key = core.key(key_bytes, "raw")
        local payloads = {
            '{"scopes":{"users":{"actions":["read","update"]},"clients":{"actions":["read"]}}}',
            '{"scopes":{"u\\u0073ers":{"act\\u0069ons":["re\\u0061d"]}},"aud":["a","b\\u0000"]}',
            '{"scope":"read:users  update:clients\\tx","aud":"b\\u0000"}',
            '{"scopes":{"users":{"actions":{"0":"read"}}},"scope":7}',
            '{"scopes":{"users":[{"actions":["read"]}]},"aud":{"a":1}}',
            '{"scopes":"read:users","aud":[1,"b",null,["a"]]}',
            '{"scopes":{"users":{"actions":["read",null,3,"update"],"x":{"actions":[]}}}}',
            '{ "scopes" : { "users" : { "actions" : [ "read" ] } } , "jti" : "\\ud83d\\ude00" }',
            '{"exp":1.5e9,"nbf":-0,"iat":1767225600.0,"n":123456789012345678,"f":-0.75}',
            -- 15 digits are read without strtod, 16 with it: both sides of the line
            '{"exp":999999999999999,"nbf":-999999999999999,"iat":1000000000000000,"n":-0}',
            '{"iat":9007199254740993,"n":-1000000000000000,"m":0,"k":-0.0,"j":012}',
            '{"exp":1e400}', '{"iat":-1e400}', '{"exp":"1"}', '{"nbf":null}',
            '{"x":{"exp":"not checked here"},"exp":1767225601}',
        }
        for _, payload in ipairs(payloads) do
            local jwt = h.forge('{"alg":"HS256"}', payload, key_bytes)
            for _, audience in ipairs({ false, "a", "b\0" }) do
                local p = { audience = audience or nil }
                for want = 0, 1 do
                    local c, r = both(jwt, key, p,
                        { "read:users", "update:users", "update:clients", "read:" },
                        { "x:users", "read:users", "tab\tx" }, want)
                    assert.are.same(r, c, payload)
                end
            end
        end
    end)
end)

describe("token.verifier", function()
    local key = token.key(h.SECRET)
    local other = token.key(string.rep("k", 40), { encoding = "raw" })
    local function make(opts, with)
        opts.aud = opts.aud or h.AUD
        opts.jti = opts.jti or "j"
        opts.iat = opts.iat or h.NOW
        return token.new(opts):sign(with or key)
    end

    it("returns claims from verify and true, aud, jti, exp from check", function()
        local jwt = make{ lifetime = 60, scopes = { "read:users" } }
        local v = token.verifier{ key = key, audience = h.AUD, now = h.NOW }
        local claims = assert(v:verify(jwt))
        assert.are.equal("j", claims.jti)
        assert.are.same({ true, h.AUD, "j", h.NOW + 60 }, { v:check(jwt) })
        local open = token.verifier{ key = key, now = h.NOW }
        assert.are.same({ true, h.AUD, "j", h.NOW + 60 }, { open:check(jwt) })
    end)

    it("checks in order: revocation before scopes", function()
        local jwt = make{ scopes = { "read:users" } }
        local v = token.verifier{ key = key, now = h.NOW, scopes = { "delete:users" },
                                  is_revoked = function() return true end }
        assert.are.same({ nil, "revoked" }, { v:check(jwt) })
        assert.are.same({ nil, "revoked" }, { v:verify(jwt) })
        assert.are.same({ nil, "revoked" }, { token.verify(jwt, key, { now = h.NOW,
            scopes = { "delete:users" }, is_revoked = function() return true end }) })
    end)

    it("names the missing scopes as a third return value", function()
        local jwt = make{ scopes = { "read:users" } }
        local v = token.verifier{ key = key, now = h.NOW,
                                  scopes = { "read:users", "update:users", "delete:users" } }
        assert.are.same({ nil, "insufficient scope", "update:users delete:users" }, { v:check(jwt) })
        assert.are.same({ nil, "insufficient scope", "update:users delete:users" }, { v:verify(jwt) })
        assert.are.same({ nil, "insufficient scope", "update:users delete:users" },
            { token.verify(jwt, key, { now = h.NOW, scopes = { "read:users", "update:users",
                "delete:users" } }) })
    end)

    it("accepts any one scope of `any`, and names them all when none is granted", function()
        local jwt = make{ scopes = { "update:users_app_metadata" } }
        local any = { "update:users", "update:users_app_metadata" }
        assert.is_true((token.verifier{ key = key, now = h.NOW, any = any }:check(jwt)))
        assert.is_table(token.verify(jwt, key, { now = h.NOW, any = any }))
        local v = token.verifier{ key = key, now = h.NOW, any = { "read:users", "read:clients" } }
        assert.are.same({ nil, "insufficient scope", "read:users read:clients" }, { v:check(jwt) })
        -- the flat `scope` string counts too
        local flat = make{ claims = { scope = "read:clients other" } }
        assert.is_true((v:check(flat)))
    end)

    it("passes a least-privilege token made with endpoints= through endpoint=", function()
        local endpoint = "PATCH /users/{id}"
        local jwt = make{ endpoints = { endpoint } }
        local v = token.verifier{ key = key, now = h.NOW, endpoint = endpoint }
        assert.is_true((v:check(jwt)))
        assert.is_table(token.verify(jwt, key, { now = h.NOW, endpoint = endpoint }))
        local reader = make{ scopes = { "read:users" } }
        local ok, reason, missing = v:check(reader)
        assert.is_nil(ok)
        assert.are.equal("insufficient scope", reason)
        assert.is_truthy(missing:find("update:users_app_metadata", 1, true))
        assert.has_error(function() token.verifier{ key = key, endpoint = "GET /nothing" } end)
        assert.has_error(function() token.verifier{ key = key, endpoint = endpoint, any = { "a:b" } } end)
    end)

    it("accepts every key of a list (rotation) and refuses when none matches", function()
        local old, new = make({}, other), make({})
        local v = token.verifier{ key = { other, h.SECRET }, now = h.NOW, cache = 10 }
        assert.is_true((v:check(old)))
        assert.is_true((v:check(new)))
        local after = token.verifier{ key = { key }, now = h.NOW }
        assert.are.same({ nil, "signature mismatch" }, { after:check(old) })
    end)

    it("asks a key function per aud, with the header", function()
        local tenant_b = token.key(string.rep("b", 48), { encoding = "raw" })
        local keys = { [h.AUD] = key, B = tenant_b }
        local seen = {}
        local v = token.verifier{ now = h.NOW, key = function(aud, header)
            seen[#seen + 1] = aud .. " " .. header.alg
            return keys[aud]
        end }
        assert.is_true((v:check(make{})))
        assert.is_true((v:check(make({ aud = "B" }, tenant_b))))
        assert.are.same({ nil, "signature mismatch" }, { v:check(make({ aud = "B" }, key)) })
        assert.are.same({ nil, "no key" }, { v:check(make{ aud = "C" }) })
        assert.are.same({ h.AUD .. " HS256", "B HS256", "B HS256", "C HS256" }, seen)
    end)

    it("raises on misuse", function()
        assert.has_error(function() token.verifier() end, "token.verifier: options must be a table")
        assert.has_error(function() token.verifier{} end)
        assert.has_error(function() token.verifier{ key = key, cache = -1 } end)
        assert.has_error(function() token.verifier{ key = key, cache = 1.5 } end)
        assert.has_error(function() token.verifier{ key = key, leeway = 301 } end,
            "token.verifier: leeway must be a number of seconds from 0 to 300")
        assert.has_error(function() token.verifier{ key = key, any = {} } end)
        assert.has_error(function() token.verifier{ key = key, audiance = "x" } end,
            "token.verifier: unknown option 'audiance'")
        assert.has_error(function() token.verifier{ key = {} } end,
            "token.verifier: the list of keys is empty")
        local v = token.verifier{ key = key }
        assert.has_error(function() v:check(42) end, "verifier:check: token must be a string, got number")
        assert.has_error(function() v:verify(nil) end, "verifier:verify: token must be a string, got nil")
    end)
end)

describe("token.verifier cache", function()
    local key = token.key(h.SECRET)
    local function make(opts)
        opts.aud = opts.aud or h.AUD
        opts.iat = opts.iat or h.NOW
        return token.new(opts):sign(key)
    end

    it("refuses a cached token at once when it is revoked", function()
        local revoked = {}
        local v = token.verifier{ key = key, now = h.NOW, cache = 10,
                                  is_revoked = function(aud, jti) return revoked[aud .. jti] end }
        local jwt = make{ jti = "r1" }
        assert.is_true((v:check(jwt)))
        assert.is_table(v:verify(jwt))
        assert.are.equal(1, v:stats().hits)
        revoked[h.AUD .. "r1"] = true
        assert.are.same({ nil, "revoked" }, { v:check(jwt) })
        assert.are.same({ nil, "revoked" }, { v:verify(jwt) })
    end)

    it("refuses a cached token at once when it expires, and when revocation cannot be told", function()
        local now = h.NOW
        local failing = false
        local v = token.verifier{ key = key, cache = 10, now = function() return now end,
            is_revoked = function() if failing then return nil, "down" end return false end }
        local jwt = make{ jti = "e1", lifetime = 10 }
        assert.is_true((v:check(jwt)))
        assert.is_true((v:check(jwt)))
        failing = true
        assert.are.same({ nil, "revocation check failed" }, { v:check(jwt) })
        failing = false
        assert.is_true((v:check(jwt)))
        now = h.NOW + 10
        assert.are.same({ nil, "expired" }, { v:check(jwt) })
        assert.are.same({ nil, "expired" }, { v:verify(jwt) })
    end)

    it("never caches a failure", function()
        local allowed = false
        local v = token.verifier{ key = key, now = h.NOW, cache = 10,
                                  is_revoked = function() return not allowed end }
        local jwt = make{ jti = "f1" }
        assert.are.same({ nil, "revoked" }, { v:check(jwt) })
        assert.are.equal(0, v:stats().entries)
        allowed = true
        assert.is_true((v:check(jwt)))
        assert.are.equal(1, v:stats().entries)
    end)

    it("hands out claims no caller can change under the next", function()
        local v = token.verifier{ key = key, now = h.NOW, cache = 10 }
        local jwt = make{ jti = "c1", scopes = { "read:users" } }
        local first = assert(v:verify(jwt))
        first.jti = "changed"
        first.scopes.users.actions[1] = "delete"
        local second = assert(v:verify(jwt))
        assert.are.equal("c1", second.jti)
        assert.are.equal("read", second.scopes.users.actions[1])
        second.aud = "x"
        assert.are.equal(h.AUD, assert(v:verify(jwt)).aud)
        assert.are_not.equal(second, v:verify(jwt))
    end)

    it("stays within its bound: 100,000 distinct valid tokens through cache = 1000", function()
        local v = token.verifier{ key = key, now = h.NOW, cache = 1000 }
        local t = token.new{ aud = h.AUD, iat = h.NOW, scopes = { "read:users" } }
        for _ = 1, 2000 do assert(v:check(t:sign(key))) end   -- fill it
        collectgarbage()
        collectgarbage()
        local before = collectgarbage("count")
        for _ = 1, 100000 do assert(v:check(t:sign(key))) end
        collectgarbage()
        collectgarbage()
        local after = collectgarbage("count")
        assert.is_true(v:stats().entries <= 1000, "entries " .. v:stats().entries)
        -- 100,000 entries would be tens of MB; 1000 entries of a ~300-byte token are ~0.5 MB.
        assert.is_true(after - before < 1024, ("grew by %.0f KiB"):format(after - before))
    end)

    it("keeps recently used tokens while others stream past", function()
        local v = token.verifier{ key = key, now = h.NOW, cache = 100 }
        local hot = make{ jti = "hot" }
        local t = token.new{ aud = h.AUD, iat = h.NOW }
        assert(v:check(hot))
        for i = 1, 1000 do
            assert(v:check(t:sign(key)))
            if i % 40 == 0 then assert(v:check(hot)) end
        end
        local hits = v:stats().hits
        assert(v:check(hot))
        assert.are.equal(hits + 1, v:stats().hits)
    end)
end)
