-- One spec per security rule of STYLE.md section 5, with tokens forged to break one rule each.
local token = require "auth0.apiv2.token"
local core = require "auth0.apiv2.core"
local h = require "spec.helpers"

local KEY_BYTES = h.unhex(h.SECRET_HEX)
local KEY = token.key(h.SECRET)
local PAYLOAD = '{"aud":"' .. h.AUD .. '","iat":' .. h.NOW .. ',"jti":"x"}'
local OPTS = { now = h.NOW, audience = h.AUD }

local function reason(jwt, opts)
    local claims, err = token.verify(jwt, KEY, opts or OPTS)
    assert.is_nil(claims, "accepted: " .. tostring(jwt):sub(1, 80))
    return err
end

local function with_header(header_json)
    return h.forge(header_json, PAYLOAD, KEY_BYTES)
end

describe("security: HS256 only", function()
    it("accepts the forged baseline, so each case below breaks exactly one rule", function()
        assert.is_table(token.verify(with_header('{"alg":"HS256"}'), KEY, OPTS))
        assert.is_table(token.verify(with_header('{"alg":"HS\\u0032\\u0035\\u0036"}'), KEY, OPTS))
    end)

    it("rejects alg none in any letter case, with or without a signature", function()
        for _, alg in ipairs({ "none", "None", "NONE", "nOnE" }) do
            assert.are.equal("alg not allowed", reason(with_header('{"alg":"' .. alg .. '"}')))
            local unsigned = with_header('{"alg":"' .. alg .. '"}'):gsub("[^.]+$", "")
            assert.are.equal("malformed token", reason(unsigned))
        end
    end)

    it("rejects every other algorithm even when the HMAC is right", function()
        for _, alg in ipairs({ "HS384", "HS512", "RS256", "ES256", "PS256", "hs256", "HS256 ",
            " HS256", "HS256\\u0000", "\\uff28S256" }) do
            assert.are.equal("alg not allowed", reason(with_header('{"alg":"' .. alg .. '"}')), alg)
        end
        for _, alg in ipairs({ "null", "256", "true", '["HS256"]', '{"v":"HS256"}' }) do
            local r = reason(with_header('{"alg":' .. alg .. '}'))
            assert.is_true(r == "alg not allowed" or r == "alg missing", alg)
        end
        assert.are.equal("alg missing", reason(with_header('{"typ":"JWT"}')))
    end)

    it("rejects crit, enc and b64 other than true", function()
        assert.are.equal("unsupported crit", reason(with_header('{"alg":"HS256","crit":[]}')))
        assert.are.equal("unsupported crit", reason(with_header('{"alg":"HS256","crit":["exp"],"exp":1}')))
        assert.are.equal("unsupported enc", reason(with_header('{"alg":"HS256","enc":"A128GCM"}')))
        assert.are.equal("unsupported b64", reason(with_header('{"alg":"HS256","b64":false}')))
        assert.are.equal("unsupported b64", reason(with_header('{"alg":"HS256","b64":"false"}')))
    end)

    it("rejects duplicate names, the alg none/HS256 trick included, at any depth", function()
        assert.are.equal("duplicate member", reason(with_header('{"alg":"none","alg":"HS256"}')))
        assert.are.equal("duplicate member", reason(with_header('{"alg":"HS256","\\u0061lg":"HS256"}')))
        local nested = '{"aud":"' .. h.AUD .. '","x":{"y":{"z":1,"z":2}}}'
        assert.are.equal("duplicate member", reason(h.forge('{"alg":"HS256"}', nested, KEY_BYTES)))
    end)
end)

describe("security: decode_unverified is the only way to read without a key", function()
    it("token.decode reads a token whose signature is wrong, token.verify does not", function()
        local jwt = with_header('{"alg":"HS256"}')
        local forged = jwt:gsub("[^.]+$", core.b64url_encode(string.rep("\0", 32)))
        assert.is_table(select(2, token.decode(forged)))
        assert.are.equal("signature mismatch", reason(forged))
    end)
end)

describe("security: signatures", function()
    local jwt = with_header('{"alg":"HS256"}')
    local input, sig = jwt:match("^(.*)%.([^.]*)$")
    local mac = core.b64url_decode(sig)

    it("must be exactly 32 bytes: no truncated or prefix comparison", function()
        assert.are.equal("signature length", reason(input .. "." .. core.b64url_encode(mac:sub(1, 16))))
        assert.are.equal("signature length", reason(input .. "." .. core.b64url_encode(mac .. "\0")))
        assert.are.equal("signature length", reason(input .. "." .. core.b64url_encode(mac:sub(1, 31))))
    end)

    it("must match in every bit", function()
        for i = 1, 32 do
            local flipped = mac:sub(1, i - 1) .. string.char((mac:byte(i) + 1) % 256) .. mac:sub(i + 1)
            assert.are.equal("signature mismatch", reason(input .. "." .. core.b64url_encode(flipped)))
        end
    end)

    it("are compared with core.equals semantics (constant time after a length check)", function()
        local key = assert(core.key(KEY_BYTES, "raw"))
        assert.is_true(key:verify(input, mac))
        assert.is_false(key:verify(input, mac:sub(1, 31)))
        assert.is_false(key:verify(input, mac .. "x"))
        assert.is_false(key:verify(input, ""))
    end)

    it("must be canonical base64url: the unused final bits of the last character are zero", function()
        local last = sig:sub(-1)
        local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        local index = alphabet:find(last, 1, true)
        local twin = alphabet:sub(index + 1, index + 1)   -- same top 4 bits, one low bit set
        assert.are.equal("invalid base64url", reason(input .. "." .. sig:sub(1, -2) .. twin))
    end)
end)

describe("security: token form", function()
    it("rejects tokens over 8192 bytes before decoding and accepts exactly 8192", function()
        local pad = string.rep("p", 8192)
        local claims = '{"aud":"' .. h.AUD .. '","pad":"'
        local function sized(n)
            local base = h.forge('{"alg":"HS256"}', claims .. '"}', KEY_BYTES)
            local extra = n - #base
            local padded = claims .. pad:sub(1, math.floor(extra * 3 / 4)) .. '"}'
            local t = h.forge('{"alg":"HS256"}', padded, KEY_BYTES)
            while #t < n do
                padded = padded:sub(1, -3) .. 'p"}'
                t = h.forge('{"alg":"HS256"}', padded, KEY_BYTES)
            end
            return t
        end
        local exact = sized(8190)
        assert.is_true(#exact <= 8192)
        assert.is_table(token.verify(exact, KEY, OPTS))
        assert.are.equal("token too long", reason(sized(8193)))
        assert.are.equal("token too long", reason(string.rep("A", 100 * 1024 * 1024)))
    end)

    it("rejects whitespace, a Bearer prefix and NUL anywhere", function()
        local jwt = with_header('{"alg":"HS256"}')
        for _, bad in ipairs({ " " .. jwt, jwt .. " ", jwt .. "\n", "Bearer " .. jwt, jwt .. "\0",
            jwt:sub(1, 10) .. "\0" .. jwt:sub(11) }) do
            assert.are.equal("malformed token", reason(bad))
        end
    end)

    it("rejects empty segments and other segment counts", function()
        local a, b, c = with_header('{"alg":"HS256"}'):match("^([^.]+)%.([^.]+)%.([^.]+)$")
        for _, bad in ipairs({ a, a .. "." .. b, a .. "." .. b .. "." .. c .. ".x",
            "." .. b .. "." .. c, a .. ".." .. c, a .. "." .. b .. ".", a .. "." .. b .. "." .. c .. "." }) do
            assert.are.equal("malformed token", reason(bad))
        end
    end)

    it("rejects JSON that lua-cjson alone would accept", function()
        for _, payload in ipairs({ '{"aud":"' .. h.AUD .. '","n":NaN}', '{"aud":"' .. h.AUD .. '","n":0x10}',
            '{"aud":"' .. h.AUD .. '",}', '{"aud":"' .. h.AUD .. '"} x', "\239\187\191{}" }) do
            assert.are.equal("invalid json", reason(h.forge('{"alg":"HS256"}', payload, KEY_BYTES)), payload)
        end
        assert.are.equal("invalid utf8", reason(h.forge('{"alg":"HS256"}', '{"a":"\192\128"}', KEY_BYTES)))
        assert.are.equal("payload not an object", reason(h.forge('{"alg":"HS256"}', '[1]', KEY_BYTES)))
        assert.are.equal("header not an object", reason(h.forge('"HS256"', PAYLOAD, KEY_BYTES)))
    end)
end)

describe("security: time and audience", function()
    it("checks exp when present and requires it only when asked", function()
        local jwt = h.forge('{"alg":"HS256"}', '{"exp":' .. h.NOW .. '}', KEY_BYTES)
        assert.are.equal("expired", reason(jwt, { now = h.NOW }))
        assert.are.equal("exp missing", reason(h.forge('{"alg":"HS256"}', '{}', KEY_BYTES),
            { now = h.NOW, require_exp = true }))
    end)

    it("rejects typed time claims of the wrong type without coercion", function()
        for _, v in ipairs({ '"' .. (h.NOW + 60) .. '"', "true", "null", "[1]", "{}" }) do
            assert.are.equal("invalid claim type",
                reason(h.forge('{"alg":"HS256"}', '{"exp":' .. v .. '}', KEY_BYTES), { now = h.NOW }))
        end
    end)

    it("requires a configured audience to be present and equal byte for byte", function()
        for _, aud in ipairs({ nil, '""', "null", "5", "{}", "[]", '"' .. h.AUD .. ' "',
            '"' .. h.AUD .. '\\u0000"' }) do
            local payload = aud and ('{"aud":' .. aud .. '}') or "{}"
            assert.are.equal("audience mismatch", reason(h.forge('{"alg":"HS256"}', payload, KEY_BYTES),
                { now = h.NOW, audience = h.AUD }))
        end
    end)
end)

describe("security: secrets", function()
    it("never puts a secret or key bytes in an error message", function()
        local secrets = { h.SECRET .. "!", "short", string.rep("z", 20) }
        for _, secret in ipairs(secrets) do
            local ok, err = pcall(token.key, secret)
            assert.is_false(ok)
            assert.is_nil(tostring(err):find(secret, 1, true))
            ok, err = pcall(token.verify, with_header('{"alg":"HS256"}'), secret)
            assert.is_false(ok)
            assert.is_nil(tostring(err):find(secret, 1, true))
        end
    end)
end)
