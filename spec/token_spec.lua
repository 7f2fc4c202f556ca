-- token.new, token.key and Token:sign: formats, byte equality with Auth0's generator, misuse.
local token = require "auth0.apiv2.token"
local core = require "auth0.apiv2.core"
local h = require "spec.helpers"
local error_of = h.error_of

local HEADER_JSON = '{"typ":"JWT","alg":"HS256"}'

local function payload_of(jwt)
    return h.payload_text(jwt)
end

describe("token.new + sign against Auth0's own generator (auth0-api-tokens 1.1.2)", function()
    local vectors = h.fixture("auth0-api-tokens/vectors.json")

    it("produces byte-identical tokens for every fixture case", function()
        assert.is_true(#vectors.cases >= 10)
        for _, case in ipairs(vectors.cases) do
            local t = token.new{
                aud = case.client_id,
                scopes = case.scope_strings,
                lifetime = case.lifetime,
                iat = case.iat,
                jti = case.jti,
                claims = type(case.extra_claims) == "table" and case.extra_claims or nil,
            }
            assert.are.equal(case.payload_json, payload_of(t:sign(case.secret)), case.name)
            assert.are.equal(case.token, t:sign(case.secret), case.name)
            assert.are.equal(case.token, t:sign(token.key(case.secret)), case.name)
        end
    end)

    it("produces the same bytes with scopes given as entity -> actions", function()
        for _, case in ipairs(vectors.cases) do
            if #case.scopes == 1 then
                local entity, actions = case.scopes[1][1], case.scopes[1][2]
                for _, form in ipairs({ { [entity] = actions }, { [entity] = { actions = actions } } }) do
                    local t = token.new{ aud = case.client_id, scopes = form,
                        lifetime = case.lifetime, iat = case.iat, jti = case.jti,
                        claims = type(case.extra_claims) == "table" and case.extra_claims or nil }
                    assert.are.equal(case.token, t:sign(case.secret), case.name)
                end
            end
        end
    end)
end)

local LIFETIME_ERROR = "token.new: lifetime must be a positive whole number of seconds (at most a century)"

describe("token.new", function()
    it("writes the reference header and claim order: extra claims, iat, scopes, jti, exp, aud", function()
        local jwt = token.new{ aud = "A", scopes = { "read:users" }, iat = 10, jti = "j",
            lifetime = 5, claims = { zeta = 1, alpha = { b = 2, a = 1 } } }:sign(h.SECRET)
        assert.are.equal(HEADER_JSON, core.b64url_decode(jwt:match("^[^.]+")))
        assert.are.equal('{"alpha":{"a":1,"b":2},"zeta":1,"iat":10,'
            .. '"scopes":{"users":{"actions":["read"]}},"jti":"j","exp":15,"aud":"A"}',
            payload_of(jwt))
    end)

    it("writes no exp when neither lifetime nor exp is given", function()
        local text = payload_of(token.new{ aud = "A", iat = 1, jti = "j" }:sign(h.SECRET))
        assert.are.equal('{"iat":1,"scopes":{},"jti":"j","aud":"A"}', text)
    end)

    it("takes a fixed exp", function()
        local text = payload_of(token.new{ aud = "A", iat = 1, exp = 99, jti = "j" }:sign(h.SECRET))
        assert.are.equal('{"iat":1,"scopes":{},"jti":"j","exp":99,"aud":"A"}', text)
    end)

    it("keeps string scopes in order of first appearance without duplicates", function()
        local t = token.new{ aud = "A", iat = 1, jti = "j", scopes = { "read:users",
            "read:clients", "update:users", "read:users", "blacklist:tokens", "update:users" } }
        assert.is_truthy(payload_of(t:sign(h.SECRET)):find('"scopes":{"users":{"actions":["read",'
            .. '"update"]},"clients":{"actions":["read"]},"tokens":{"actions":["blacklist"]}}', 1, true))
        assert.are.same({ "read:users", "update:users", "read:clients", "blacklist:tokens" },
            t:scope_strings())
    end)

    it("sorts the entities of the map form and keeps each action list's order", function()
        local t = token.new{ aud = "A", iat = 1, jti = "j",
            scopes = { users = { "update", "read", "update" }, clients = { actions = { "read" } } } }
        assert.is_truthy(payload_of(t:sign(h.SECRET)):find('"scopes":{"clients":{"actions":'
            .. '["read"]},"users":{"actions":["update","read"]}}', 1, true))
    end)

    it("splits a scope at its first colon and keeps underscores in entities", function()
        local t = token.new{ aud = "A", iat = 1, jti = "j",
            scopes = { "update:users_app_metadata", "read:a:b" } }
        assert.are.same({ "update:users_app_metadata", "read:a:b" }, t:scope_strings())
    end)

    it("names every malformed scope in its error", function()
        local bad = { "readusers", ":users", "read:", "Read:users", "read:Users", "read :users",
            "read: users", "read:users ", " read:users", "read:us ers", "read:users\n", "read::x",
            "read:x:", "re-ad:users", "1read:users", "" }
        for _, scope in ipairs(bad) do
            local err = error_of(token.new, { aud = "A", scopes = { scope } })
            local shown = "'" .. scope:gsub("\n", "\\10") .. "'"
            assert.are.equal("token.new: malformed scope " .. shown .. " at scopes[1]: expected "
                .. "action:entity in lower case, e.g. read:users", err)
        end
        assert.are.equal("token.new: malformed scope (number) at scopes[2]: expected action:entity "
            .. "in lower case, e.g. read:users",
            error_of(token.new, { aud = "A", scopes = { "read:users", 42 } }))
    end)

    it("refuses malformed entities and actions in the map form", function()
        assert.are.equal("token.new: malformed scope entity 'Users': expected lower case, e.g. users",
            error_of(token.new, { aud = "A", scopes = { Users = { "read" } } }))
        assert.are.equal("token.new: malformed action 'READ' in scopes.users: expected lower case, "
            .. "e.g. read", error_of(token.new, { aud = "A", scopes = { users = { "READ" } } }))
        assert.are.equal("token.new: scopes.users must be a non-empty list of actions",
            error_of(token.new, { aud = "A", scopes = { users = {} } }))
        assert.are.equal("token.new: scopes.users must be a non-empty list of actions",
            error_of(token.new, { aud = "A", scopes = { users = "read" } }))
        assert.are.equal("token.new: scopes.users must be a list of actions or { actions = {...} }",
            error_of(token.new, { aud = "A", scopes = { users = { actions = { "read" }, x = 1 } } }))
        assert.are.equal("token.new: scopes must be either a list of scope strings or a table of "
            .. "entities", error_of(token.new, { aud = "A", scopes = { "read:users", x = { "read" } } }))
    end)

    it("refuses current_user scopes unless allowed, saying why", function()
        for _, scope in ipairs({ "read:current_user", "update:current_user_metadata",
            "delete:current_user_device_credentials" }) do
            local action, entity = scope:match("^(.-):(.*)$")
            assert.are.equal("token.new: scope '" .. scope .. "' is a current_user scope: Auth0 "
                .. "grants it only to a logged-in user's own token, never to one built by server "
                .. "code (pass allow_current_user = true to override)",
                error_of(token.new, { aud = "A", scopes = { scope } }))
            assert.has_error(function() token.new{ aud = "A", scopes = { [entity] = { action } } } end)
            local t = token.new{ aud = "A", scopes = { scope }, allow_current_user = true }
            assert.are.same({ scope }, t:scope_strings())
        end
    end)

    it("raises on misuse with a clear message", function()
        local cases = {
            { nil, "token.new: options must be a table" },
            { {}, "token.new: aud must be a non-empty string (the tenant's API key)" },
            { { aud = "" }, "token.new: aud must be a non-empty string (the tenant's API key)" },
            { { aud = 5 }, "token.new: aud must be a non-empty string (the tenant's API key)" },
            { { aud = "A", scope = { "read:users" } }, "token.new: unknown option 'scope'" },
            { { aud = "A", scopes = "read:users" }, "token.new: scopes must be a table" },
            { { aud = "A", lifetime = 0 }, LIFETIME_ERROR },
            { { aud = "A", lifetime = 1.5 }, LIFETIME_ERROR },
            { { aud = "A", lifetime = "60" }, LIFETIME_ERROR },
            { { aud = "A", lifetime = 60, exp = 100 }, "token.new: give either exp or lifetime, not both" },
            { { aud = "A", iat = -1 }, "token.new: iat must be a whole number of seconds since the epoch" },
            { { aud = "A", iat = "1" }, "token.new: iat must be a whole number of seconds since the epoch" },
            { { aud = "A", exp = 1.25 }, "token.new: exp must be a whole number of seconds since the epoch" },
            { { aud = "A", iat = 10, exp = 10 }, "token.new: exp must be after iat" },
            { { aud = "A", jti = "" }, "token.new: jti must be a non-empty string" },
            { { aud = "A", jti = 7 }, "token.new: jti must be a non-empty string" },
            { { aud = "A", allow_current_user = "yes" }, "token.new: allow_current_user must be a boolean" },
            { { aud = "A", claims = "x" }, "token.new: claims must be a table" },
            { { aud = "A", claims = { "x" } }, "token.new: claims must have string names" },
            { { aud = "A", claims = { iat = 1 } }, "token.new: claims.iat is reserved; use the iat option" },
            { { aud = "A", claims = { aud = "B" } }, "token.new: claims.aud is reserved; use the aud option" },
            { { aud = "A", claims = { f = print } }, "token.new: claims.f: cannot encode a function" },
            { { aud = "A", claims = { n = 0 / 0 } }, "token.new: claims.n: cannot encode NaN or infinity" },
            { { aud = "A", claims = { s = "\255" } }, "token.new: claims.s: string is not UTF-8 text (invalid utf8)" },
            { { aud = "\192\128" }, "token.new: aud: string is not UTF-8 text (invalid utf8)" },
            { { aud = "A", claims = { t = { 1, x = 2 } } },
              "token.new: claims.t: table is neither an array nor an object with string keys" },
        }
        for _, c in ipairs(cases) do
            assert.are.equal(c[2], error_of(token.new, c[1]))
        end
    end)

    it("refuses claims nested deeper than 32 levels and cyclic claims", function()
        local deep = {}
        local cur = deep
        for _ = 1, 40 do cur.x = {}; cur = cur.x end
        assert.is_truthy(error_of(token.new, { aud = "A", claims = { d = deep } })
            :find("nested deeper than 32 levels", 1, true))
        local cyclic = {}
        cyclic.self = cyclic
        assert.is_truthy(error_of(token.new, { aud = "A", claims = { c = cyclic } })
            :find("nested deeper than 32 levels", 1, true))
    end)
end)

describe("token objects", function()
    it("keep their scopes out of reach: a cached scope list cannot be changed through one", function()
        local a = token.new{ aud = "A", scopes = { "read:users" } }
        assert.is_nil(rawget(a, "entities"))
        a:scope_strings()[1] = "delete:users"
        local b = token.new{ aud = "A", scopes = { "read:users" }, iat = 1, jti = "j" }
        assert.are.same({ "read:users" }, b:scope_strings())
        assert.is_truthy(payload_of(b:sign(h.SECRET)):find('"users":{"actions":["read"]}', 1, true))
    end)

    it("refuse a lifetime over a century, so that iat + lifetime stays exact", function()
        assert.has_error(function() token.new{ aud = "A", lifetime = 2 ^ 40 } end)
        assert.is_table(token.new{ aud = "A", lifetime = 10 * 365 * 86400 })
    end)
end)

describe("token.new endpoints and strict_scopes", function()
    it("grants the least privileged scope of each endpoint, after the scopes option", function()
        local t = token.new{ aud = "A", scopes = { "read:clients" }, endpoints = { "GET /users",
            "PATCH /users/{id}", "PATCH /api/v2/users/auth0%7C123", "POST /blacklists/tokens" } }
        assert.are.same({ "read:clients", "read:users", "update:users_app_metadata",
            "blacklist:tokens" }, t:scope_strings())
    end)

    it("refuses unknown endpoints and those only current_user scopes serve", function()
        assert.are.equal("token.new: endpoint 'GET /nothing': unknown endpoint",
            error_of(token.new, { aud = "A", endpoints = { "GET /nothing" } }))
        assert.are.equal("token.new: endpoint 'POST /device-credentials': only current_user scopes",
            error_of(token.new, { aud = "A", endpoints = { "POST /device-credentials" } }))
        assert.are.equal('token.new: endpoints[1] must be a string like "GET /users"',
            error_of(token.new, { aud = "A", endpoints = { 1 } }))
        assert.are.equal("token.new: endpoints must be a list",
            error_of(token.new, { aud = "A", endpoints = "GET /users" }))
    end)

    it("allows scopes unknown to the catalog unless strict_scopes is on", function()
        local t = token.new{ aud = "A", scopes = { "read:things_of_tomorrow" } }
        assert.are.same({ "read:things_of_tomorrow" }, t:scope_strings())
        assert.are.equal("token.new: unknown scope 'read:things_of_tomorrow' (strict_scopes is on)",
            error_of(token.new, { aud = "A", scopes = { "read:things_of_tomorrow" }, strict_scopes = true }))
        assert.is_table(token.new{ aud = "A", scopes = { "read:users" }, strict_scopes = true })
        assert.are.equal("token.new: strict_scopes must be a boolean",
            error_of(token.new, { aud = "A", strict_scopes = "yes" }))
    end)
end)

describe("Token:sign", function()
    it("makes a fresh jti and takes iat from the clock on every call", function()
        local t = token.new{ aud = "A", scopes = { "read:users" }, lifetime = 60 }
        local key = token.key(h.SECRET)
        local before = os.time()
        local a, b = t:sign(key), t:sign(key)
        assert.are_not.equal(a, b)
        local ha, ca = token.decode(a)
        local _, cb = token.decode(b)
        assert.are.equal("HS256", ha.alg)
        assert.are_not.equal(ca.jti, cb.jti)
        assert.is_truthy(ca.jti:match("^%x+$") and #ca.jti == 32 and not ca.jti:match("%u"))
        assert.is_true(ca.iat >= before and ca.iat <= os.time())
        assert.are.equal(ca.iat + 60, ca.exp)
    end)

    it("gives the same bytes for the same inputs", function()
        local opts = { aud = "A", scopes = { "read:users" }, iat = 5, jti = "x", lifetime = 9,
            claims = { k = { z = true, a = 0.5 } } }
        assert.are.equal(token.new(opts):sign(h.SECRET), token.new(opts):sign(token.key(h.SECRET)))
    end)

    it("signs with the decoded secret, never its text", function()
        local t = token.new{ aud = "A", iat = 1, jti = "j" }
        local jwt = t:sign(h.SECRET)
        local signing_input, sig = jwt:match("^(.*)%.(.*)$")
        local raw = core.key(h.unhex(h.SECRET_HEX), "raw")
        assert.are.equal(core.b64url_encode(raw:mac(signing_input)), sig)
        assert.are_not.equal(jwt, t:sign(token.key(h.SECRET, { encoding = "raw" })))
    end)

    it("verifies with PyJWT (an independent implementation)", function()
        local jwt = token.new{ aud = h.AUD, scopes = { "read:users", "blacklist:tokens" },
            lifetime = 3600, claims = { note = "caf\195\169 \240\159\152\128" } }:sign(h.SECRET)
        local script = "import base64,jwt,json,sys\n"
            .. "key = base64.urlsafe_b64decode(sys.argv[2] + '==')\n"
            .. "c = jwt.decode(sys.argv[1], key, algorithms=['HS256'], audience=sys.argv[3])\n"
            .. "print(json.dumps(c['scopes'], sort_keys=True), c['note'] == 'caf\\u00e9 \\U0001F600')\n"
        local out, ok = h.run("/usr/bin/python3 -c " .. h.quote(script) .. " " .. jwt .. " "
            .. h.SECRET .. " " .. h.AUD)
        assert.is_true(ok, out)
        assert.are.equal('{"tokens": {"actions": ["blacklist"]}, "users": {"actions": ["read"]}} True\n', out)
    end)

    it("refuses to make a token over 8192 bytes", function()
        local t = token.new{ aud = "A", claims = { big = string.rep("x", 6200) } }
        assert.are.equal("token.sign: the token would be longer than 8192 bytes", error_of(t.sign, t, h.SECRET))
        local fits = token.new{ aud = "A", claims = { big = string.rep("x", 5800) } }
        assert.is_truthy(#fits:sign(h.SECRET) <= 8192)
    end)

    it("raises on a wrong key type", function()
        local t = token.new{ aud = "A" }
        assert.are.equal("token.sign: expected a key object or a secret string, got table",
            error_of(t.sign, t, {}))
        assert.are.equal("token.sign: expected a key object or a secret string, got nil",
            error_of(t.sign, t))
        local wiped = token.key(h.SECRET)
        wiped:wipe()
        assert.has_error(function() t:sign(wiped) end)
    end)
end)

describe("token.key", function()
    it("accepts base64url and standard base64, padded or not", function()
        local t = token.new{ aud = "A", iat = 1, jti = "j" }
        local expected = t:sign(token.key(h.SECRET))
        local std = h.SECRET:gsub("-", "+"):gsub("_", "/")
        assert.are.equal(expected, t:sign(token.key(std)))
        local b32 = core.b64url_encode(string.rep("k", 32))   -- 43 characters: padding possible
        assert.are.equal(t:sign(token.key(b32)), t:sign(token.key(b32 .. "=")))
    end)

    it("refuses text that is not base64, suggesting the raw encoding, without echoing it", function()
        local secret = "this is my plain secret value with spaces!!"
        local err = error_of(token.key, secret)
        assert.are.equal('token.key: secret is not base64 or base64url text; for a plain-text '
            .. 'secret use token.key(secret, { encoding = "raw" })', err)
        assert.is_falsy(err:find(secret, 1, true))
        assert.are.equal(43, token.key(secret, { encoding = "raw" }):length())
    end)

    it("refuses keys under 32 bytes", function()
        assert.are.equal("token.key: key is 31 bytes, at least 32 are required",
            error_of(token.key, core.b64url_encode(string.rep("k", 31))))
        assert.are.equal("token.key: key is 5 bytes, at least 32 are required",
            error_of(token.key, "short", { encoding = "raw" }))
        assert.are.equal("token.sign: key is 0 bytes, at least 32 are required",
            error_of(token.new{ aud = "A" }.sign, token.new{ aud = "A" }, ""))
    end)

    it("raises on misuse", function()
        assert.are.equal("token.key: secret must be a string, got number", error_of(token.key, 1234))
        assert.are.equal("token.key: unknown option 'format'",
            error_of(token.key, h.SECRET, { format = "raw" }))
        assert.are.equal('token.key: encoding must be "base64" or "raw"',
            error_of(token.key, h.SECRET, { encoding = "hex" }))
    end)

    it("never shows the secret in tostring", function()
        local key = token.key(h.SECRET)
        assert.are.equal("auth0.apiv2.key (48 bytes)", tostring(key))
        local t = token.new{ aud = "A", scopes = { "read:users" } }
        assert.are.equal("auth0.apiv2.token (aud A, 1 scopes)", tostring(t))
    end)
end)

describe("token.decode_text", function()
    it("gives the header and claims as the token's own JSON text, without a signature check",
        function()
        local jwt = token.new{ aud = "A", scopes = { "read:users" }, iat = 1, jti = "j" }
            :sign(h.SECRET)
        local header_json, claims_json = token.decode_text(jwt)
        assert.are.equal('{"typ":"JWT","alg":"HS256"}', header_json)
        assert.are.equal('{"iat":1,"scopes":{"users":{"actions":["read"]}},"jti":"j","aud":"A"}',
            claims_json)
    end)

    it("refuses what token.decode refuses, with the same reason", function()
        for _, bad in ipairs({ "a.b", "e30.e30.", "eyJ9.e30.c2ln", string.rep("a", 9000) }) do
            local _, reason = token.decode(bad)
            local text, text_reason = token.decode_text(bad)
            assert.is_nil(text)
            assert.are.equal(reason, text_reason)
        end
        assert.are.equal("token.decode_text: token must be a string, got nil",
            h.error_of(token.decode_text, nil))
    end)
end)

describe("token.scopes_of", function()
    it("reads the scopes object and the flat scope string, without duplicates", function()
        assert.are.same({ "read:clients", "read:users", "update:users", "read:logs" },
            token.scopes_of{
                scopes = { users = { actions = { "read", "update" } },
                           clients = { actions = { "read" } } },
                scope = "read:users read:logs",
            })
        assert.are.same({}, token.scopes_of{ scopes = { users = "read" }, scope = 42 })
        assert.are.equal("token.scopes_of: claims must be a table",
            h.error_of(token.scopes_of, "x"))
    end)

    it("agrees with token.has_scope on every scope it lists, and on a tab-separated word",
        function()
        local claims = { scopes = { users = { actions = { "read" } } },
            scope = "read:logs\tread:clients" }
        for _, s in ipairs(token.scopes_of(claims)) do
            assert.is_true(token.has_scope(claims, s), s)
        end
        assert.is_false(token.has_scope(claims, "read:clients"))
        assert.are.same({ "read:users", "read:logs\tread:clients" }, token.scopes_of(claims))
    end)
end)

describe("token.bearer", function()
    it("takes the token out of an Authorization header, the scheme in any letter case", function()
        assert.are.equal("abc.def.ghi", token.bearer("Bearer abc.def.ghi"))
        assert.are.equal("abc.def.ghi", token.bearer("bEaReR   abc.def.ghi  "))
        assert.are.equal("dG9rZW4=", token.bearer("Bearer dG9rZW4="))
    end)

    it("says no bearer token for none or another scheme, malformed for a bad token", function()
        for _, v in ipairs({ false, "Basic dXNlcjpwYXNz", "Bearer", "Bearerabc" }) do
            local jwt, reason = token.bearer(v or nil)
            assert.is_nil(jwt)
            assert.are.equal("no bearer token", reason)
        end
        for _, v in ipairs({ "Bearer ", "Bearer a b", "Bearer a\"b", "Bearer a=b" }) do
            local jwt, reason = token.bearer(v)
            assert.is_nil(jwt)
            assert.are.equal("malformed bearer token", reason)
        end
    end)
end)
