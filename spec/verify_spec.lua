-- token.verify, token.decode and token.has_scope against the shared vectors and other libraries.
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"
local h = require "spec.helpers"

-- The vectors' reason vocabulary -> this library's reason strings.
local REASONS = {
    malformed_token = "malformed token", invalid_base64url = "invalid base64url",
    token_too_long = "token too long", invalid_utf8 = "invalid utf8",
    invalid_json = "invalid json", duplicate_member = "duplicate member",
    header_not_object = "header not an object", payload_not_object = "payload not an object",
    alg_missing = "alg missing", alg_not_allowed = "alg not allowed",
    unsupported_crit = "unsupported crit", unsupported_enc = "unsupported enc",
    unsupported_b64 = "unsupported b64", signature_length = "signature length",
    signature_mismatch = "signature mismatch", invalid_claim_type = "invalid claim type",
    exp_missing = "exp missing", expired = "expired", not_yet_valid = "not yet valid",
    iat_in_future = "issued in the future", audience_mismatch = "audience mismatch",
}

local function check_accepted(file)
    local cases = h.fixture(file)
    local list = cases.tests or cases.valid
    local count = 0
    for _, case in ipairs(list) do
        if case.expected == "accept" then
            local claims, err = token.verify(h.vector_token(case), h.vector_key(case), h.vector_options(case))
            assert.is_table(claims, case.id .. ": " .. tostring(err))
            assert.are.same(case.claims, claims, case.id)
            local header = assert(token.decode(h.vector_token(case)))
            assert.are.same(case.header, header, case.id)
            -- The secret in Auth0's text form verifies the same token.
            assert.is_table(token.verify(h.vector_token(case), case.key_b64url, h.vector_options(case)),
                case.id)
            count = count + 1
        end
    end
    assert.is_true(count > 0)
end

describe("token.verify accepts", function()
    it("every token made by PyJWT, node jsonwebtoken and node jose in the shared vectors", function()
        check_accepted("vectors/jwt_valid_interop.json")
    end)

    it("every token at the edges of the policy", function()
        check_accepted("vectors/jwt_valid_policy.json")
    end)

    it("the RFC 7515 A.1 example", function()
        check_accepted("vectors/jwt_rfc_examples.json")
    end)

    it("tokens made by PyJWT in this run", function()
        local script = "import base64,jwt,sys\n"
            .. "key = base64.urlsafe_b64decode(sys.argv[1] + '==')\n"
            .. "t = jwt.encode({'aud': sys.argv[2], 'iat': 1767225000, 'jti': 'py-1', "
            .. "'scopes': {'users': {'actions': ['read']}}}, key, algorithm='HS256')\n"
            .. "print(t.decode() if isinstance(t, bytes) else t)\n"   -- bytes before PyJWT 2
        local out, ok = h.run("/usr/bin/python3 -c " .. h.quote(script) .. " " .. h.SECRET .. " " .. h.AUD)
        assert.is_true(ok, out)
        local claims = assert(token.verify(out:match("%S+"), h.SECRET,
            { audience = h.AUD, now = h.NOW, scopes = { "read:users" } }))
        assert.are.equal("py-1", claims.jti)
    end)

    -- #node: scripts/test-openssl11 leaves it out (no npm on Debian 11 there).
    it("tokens made by node jsonwebtoken in this run #node", function()
        local node = "spec/interop/node_modules/jsonwebtoken"
        local js = "const jwt = require(process.argv[1]);"
            .. "const key = Buffer.from(process.argv[2], 'base64');"
            .. "console.log(jwt.sign({ scopes: { users: { actions: ['read'] } }, jti: 'js-1' }, key,"
            .. " { algorithm: 'HS256', audience: process.argv[3], noTimestamp: true }));"
        local js_out, js_ok = h.run("cd " .. h.quote(os.getenv("PWD") or ".") .. " && node -e "
            .. h.quote(js) .. " " .. h.quote("./" .. node) .. " " .. h.SECRET .. " " .. h.AUD .. " 2>&1")
        if not js_ok and js_out:find("Cannot find module", 1, true) then
            pending("node jsonwebtoken is not installed (npm ci in spec/interop)")
            return
        end
        assert.is_true(js_ok, js_out)
        local js_claims = assert(token.verify(js_out:match("%S+"), h.SECRET, { audience = h.AUD }))
        assert.are.equal("js-1", js_claims.jti)
    end)

    it("its own tokens, with every option at once", function()
        local key = token.key(h.SECRET)
        local jwt = token.new{ aud = h.AUD, scopes = { "read:users", "update:users" },
            iat = h.NOW - 10, lifetime = 60, jti = "abc" }:sign(key)
        local seen
        local claims = assert(token.verify(jwt, key, {
            audience = h.AUD, leeway = 5, now = h.NOW, require_exp = true,
            scopes = { "read:users", "update:users" },
            is_revoked = function(aud, jti) seen = aud .. "/" .. jti; return false end,
        }))
        assert.are.equal(h.NOW + 50, claims.exp)
        assert.are.equal(h.AUD .. "/abc", seen)
        if math.type then assert.are.equal("integer", math.type(claims.exp)) end
    end)
end)

describe("token.verify rejects", function()
    local invalid = h.fixture("vectors/jwt_invalid.json")

    it("every case of the shared negative vectors, for its reason", function()
        local count = 0
        for _, case in ipairs(invalid.tests) do
            local jwt = h.vector_token(case)
            if case.reason == "key_too_short" then
                assert.has_error(function() token.verify(jwt, h.vector_key(case), h.vector_options(case)) end)
            else
                local claims, err = token.verify(jwt, h.vector_key(case), h.vector_options(case))
                assert.is_nil(claims, case.id)
                local allowed = { [REASONS[case.reason]] = true }
                for _, r in ipairs(case.also_acceptable_reasons or {}) do allowed[REASONS[r]] = true end
                if case.reason == "invalid_json" then allowed["too deep"] = true end
                -- A byte outside the token alphabet ('=', '+', space) fails the character rule
                -- before any segment is decoded.
                if jwt:find("[^A-Za-z0-9_%-.]") then allowed["malformed token"] = true end
                assert.is_true(allowed[err] == true, case.id .. " gave '" .. tostring(err)
                    .. "', expected " .. case.reason)
            end
            count = count + 1
        end
        assert.are.equal(invalid.numberOfTests, count)
    end)
end)

describe("token.verify keys", function()
    local key = token.key(h.SECRET)
    local other = token.key(string.rep("k", 40), { encoding = "raw" })
    local jwt = token.new{ aud = h.AUD, iat = h.NOW, jti = "j" }:sign(key)

    it("accepts any key of a list (secret rotation) and refuses when none matches", function()
        assert.is_table(token.verify(jwt, { other, key }, { now = h.NOW }))
        assert.is_table(token.verify(jwt, { h.SECRET }, { now = h.NOW }))
        assert.are.same({ nil, "signature mismatch" }, { token.verify(jwt, { other }, { now = h.NOW }) })
    end)

    it("asks a function for the tenant's key by aud", function()
        local asked
        local function by_aud(aud, header)
            asked = aud .. " " .. header.alg
            if aud == h.AUD then return key end
        end
        assert.is_table(token.verify(jwt, by_aud, { now = h.NOW }))
        assert.are.equal(h.AUD .. " HS256", asked)
        local stranger = token.new{ aud = "someone-else", iat = h.NOW, jti = "j" }:sign(key)
        assert.are.same({ nil, "no key" }, { token.verify(stranger, by_aud, { now = h.NOW }) })
    end)

    it("never verifies with the secret's text as the key", function()
        local text_key = token.key(h.SECRET, { encoding = "raw" })
        local wrong = token.new{ aud = h.AUD, iat = h.NOW, jti = "j" }:sign(text_key)
        assert.are.same({ nil, "signature mismatch" }, { token.verify(wrong, key, { now = h.NOW }) })
    end)

    it("raises on a wrong key type, an empty list or a malformed secret", function()
        assert.has_error(function() token.verify(jwt, nil) end,
            "token.verify: key must be a key object, a secret string, a list of them or a function")
        assert.has_error(function() token.verify(jwt, 42) end)
        assert.has_error(function() token.verify(jwt, {}) end, "token.verify: the list of keys is empty")
        assert.has_error(function() token.verify(jwt, { 42 }) end)
        assert.has_error(function() token.verify(jwt, "not base64!") end)
        assert.has_error(function() token.verify(jwt, "c2hvcnQ") end)   -- 5 bytes
    end)
end)

describe("token.verify claims", function()
    local key = token.key(h.SECRET)
    local function make(opts)
        opts.aud = opts.aud or h.AUD
        opts.jti = opts.jti or "j"
        opts.iat = opts.iat or h.NOW
        return token.new(opts):sign(key)
    end
    local function reason(jwt, opts)
        local claims, err = token.verify(jwt, key, opts)
        assert.is_nil(claims)
        return err
    end

    it("applies exp with leeway at the exact boundaries", function()
        local jwt = make{ exp = h.NOW + 1 }
        assert.is_table(token.verify(jwt, key, { now = h.NOW }))
        assert.are.equal("expired", reason(jwt, { now = h.NOW + 1 }))
        assert.is_table(token.verify(jwt, key, { now = h.NOW + 30, leeway = 30 }))
        assert.are.equal("expired", reason(jwt, { now = h.NOW + 31, leeway = 30 }))
    end)

    it("requires exp only when asked", function()
        local jwt = make{}
        assert.is_table(token.verify(jwt, key, { now = h.NOW }))
        assert.are.equal("exp missing", reason(jwt, { now = h.NOW, require_exp = true }))
    end)

    it("refuses a token issued in the future beyond the leeway", function()
        local jwt = make{ iat = h.NOW + 10 }
        assert.are.equal("issued in the future", reason(jwt, { now = h.NOW }))
        assert.is_table(token.verify(jwt, key, { now = h.NOW, leeway = 10 }))
    end)

    it("refuses nbf in the future and time claims that are not numbers", function()
        assert.are.equal("not yet valid", reason(make{ claims = { nbf = h.NOW + 1 } }, { now = h.NOW }))
        assert.is_table(token.verify(make{ claims = { nbf = h.NOW } }, key, { now = h.NOW }))
        assert.are.equal("invalid claim type", reason(make{ claims = { nbf = "1" } }, { now = h.NOW }))
    end)

    it("matches the audience exactly, as a string or inside an array", function()
        local jwt = make{}
        assert.is_table(token.verify(jwt, key, { audience = h.AUD, now = h.NOW }))
        assert.are.equal("audience mismatch", reason(jwt, { audience = h.AUD:upper(), now = h.NOW }))
        assert.are.equal("audience mismatch", reason(jwt, { audience = h.AUD:sub(1, -2), now = h.NOW }))
        assert.are.equal("audience mismatch", reason(make{ aud = "x.y" }, { audience = "x%.y", now = h.NOW }))
    end)

    it("checks { audience = ... } alone as any other options, though it remembers them", function()
        local jwt = make{}                            -- (iat: now; no exp)
        for round = 1, 2 do                           -- the second round meets remembered ones
            assert.is_table(token.verify(jwt, key, { audience = h.AUD }), round)
            assert.are.equal("audience mismatch", reason(jwt, { audience = h.AUD:upper() }))
            assert.is_table(token.verify(jwt, key), round)
            assert.is_table(token.verify(jwt, key, {}), round)
        end
        local opts = { audience = h.AUD }
        assert.is_table(token.verify(jwt, key, opts))
        opts.require_exp = true                        -- the same table, changed: honoured
        assert.are.equal("exp missing", reason(jwt, opts))
        opts.require_exp, opts.bogus = nil, 1
        assert.has_error(function() token.verify(jwt, key, opts) end,
            "token.verify: unknown option 'bogus'")
        assert.has_error(function() token.verify(jwt, key, { audience = 42 }) end,
            "token.verify: audience must be a string")
        for i = 1, 100 do                              -- past the remembered ones: still checked
            assert.are.equal("audience mismatch", reason(jwt, { audience = "other" .. i }))
        end
        assert.is_table(token.verify(jwt, key, { audience = h.AUD }))
    end)

    it("requires every listed scope", function()
        local jwt = make{ scopes = { "read:users" } }
        assert.is_table(token.verify(jwt, key, { scopes = { "read:users" }, now = h.NOW }))
        assert.are.equal("insufficient scope",
            reason(jwt, { scopes = { "read:users", "update:users" }, now = h.NOW }))
    end)

    it("consults is_revoked last and fails closed when it cannot tell", function()
        local jwt = make{}
        assert.are.equal("revoked", reason(jwt, { now = h.NOW, is_revoked = function() return true end }))
        assert.are.equal("revocation check failed",
            reason(jwt, { now = h.NOW, is_revoked = function() return nil, "timeout" end }))
        assert.is_table(token.verify(jwt, key, { now = h.NOW, is_revoked = function() return nil end }))
        local called = false
        local bad_sig = jwt:sub(1, -2) .. (jwt:sub(-1) == "A" and "Q" or "A")
        token.verify(bad_sig, key, { now = h.NOW, is_revoked = function() called = true end })
        assert.is_false(called)
    end)

    it("raises on misuse of the options", function()
        local jwt = make{}
        assert.has_error(function() token.verify(jwt, key, { leeway = 301 }) end,
            "token.verify: leeway must be a number of seconds from 0 to 300")
        assert.has_error(function() token.verify(jwt, key, { leeway = -1 }) end)
        assert.has_error(function() token.verify(jwt, key, { leeway = "5" }) end)
        -- NaN compares false with everything: it would switch every time check off.
        assert.has_error(function() token.verify(jwt, key, { leeway = 0 / 0 }) end)
        assert.has_error(function() token.verify(jwt, key, { now = 0 / 0 }) end,
            "token.verify: now must be a finite number")
        assert.has_error(function() token.verify(jwt, key, { now = math.huge }) end)
        assert.has_error(function() token.verify(jwt, key, { audiance = "x" }) end,
            "token.verify: unknown option 'audiance'")
        assert.has_error(function() token.verify(jwt, key, { scopes = "read:users" }) end)
        assert.has_error(function() token.verify(jwt, key, { is_revoked = true }) end)
        assert.has_error(function() token.verify(jwt, key, "opts") end)
        assert.has_error(function() token.verify(42, key) end, "token.verify: token must be a string, got number")
    end)
end)

describe("token.decode", function()
    it("returns header and claims without a key, and reasons for malformed input", function()
        local jwt = token.new{ aud = "A", iat = 1, jti = "j", scopes = { "read:users" } }:sign(h.SECRET)
        local header, claims = token.decode(jwt)
        assert.are.same({ typ = "JWT", alg = "HS256" }, header)
        assert.are.equal("A", claims.aud)
        assert.are.same({ nil, "malformed token" }, { token.decode("a.b") })
        assert.are.same({ nil, "malformed token" }, { token.decode("Bearer " .. jwt) })
        assert.are.same({ nil, "token too long" }, { token.decode(string.rep("a", 8193)) })
        assert.has_error(function() token.decode(nil) end, "token.decode: token must be a string, got nil")
    end)
end)

describe("token.has_scope", function()
    it("reads the scopes object and the flat scope string", function()
        local classic = { scopes = { users = { actions = { "read", "update" } },
                                     users_app_metadata = { actions = { "update" } } } }
        assert.is_true(token.has_scope(classic, "read:users"))
        assert.is_true(token.has_scope(classic, "update:users_app_metadata"))
        assert.is_false(token.has_scope(classic, "delete:users"))
        assert.is_false(token.has_scope(classic, "read:users_app_metadata"))
        local flat = { scope = "read:users update:clients" }
        assert.is_true(token.has_scope(flat, "update:clients"))
        assert.is_false(token.has_scope(flat, "read:user"))
        assert.is_false(token.has_scope({}, "read:users"))
        assert.is_false(token.has_scope({ scopes = { users = { actions = json.null } } }, "read:users"))
        assert.has_error(function() token.has_scope(nil, "read:users") end)
        assert.has_error(function() token.has_scope({}, 1) end)
    end)

    it("reads a list of actions as ipairs does on this Lua (to the first nil; raw on 5.1)",
        function()
        local function reference(actions, action)         -- what has_scope did before
            for _, a in ipairs(actions) do
                if a == action then return true end
            end
            return false
        end
        local lists = {
            {}, { "read" }, { "update", "read" }, { "a", "b", "c", "read" },
            { "a", nil, "read" }, { nil, "read" },
            setmetatable({}, { __index = { "read" } }),
            setmetatable({ "update" }, { __index = function(_, i) return i == 2 and "read" end }),
        }
        for i, actions in ipairs(lists) do
            local claims = { scopes = { users = { actions = actions } } }
            assert.are.equal(reference(actions, "read"), token.has_scope(claims, "read:users"),
                "list " .. i)
        end
    end)
end)
