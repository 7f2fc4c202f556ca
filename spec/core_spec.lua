-- The C core: base64url, secret decoding, HMAC-SHA256, constant-time compare, random ids.
local core = require "auth0.apiv2.core"
local h = require "spec.helpers"

local b64 = h.fixture("vectors/base64url.json")

describe("core.b64url_encode", function()
    it("encodes every RFC 4648 and constructed vector without padding", function()
        for _, v in ipairs(b64.valid) do
            assert.are.equal(v.base64url, core.b64url_encode(h.unhex(v.bytes_hex)), v.id)
        end
    end)

    it("encodes inputs longer than its internal chunk", function()
        local data = string.rep("\255\0\127", 1000)
        local text = core.b64url_encode(data)
        assert.are.equal(4000, #text)
        assert.are.equal(data, core.b64url_decode(text))
    end)

    it("raises on a non-string instead of coercing", function()
        assert.has_error(function() core.b64url_encode(12) end)
    end)
end)

describe("core.b64url_decode", function()
    it("decodes every valid vector", function()
        for _, v in ipairs(b64.valid) do
            assert.are.equal(v.bytes_hex, h.hex(assert(core.b64url_decode(v.base64url))), v.id)
        end
    end)

    it("rejects every invalid vector with nil and a stable reason", function()
        for _, v in ipairs(b64.invalid) do
            local input = v.input_hex and h.unhex(v.input_hex) or v.input
            local bytes, err = core.b64url_decode(input)
            assert.is_nil(bytes, v.id)
            assert.are.equal("invalid base64url", err, v.id)
        end
    end)

    it("rejects the standard alphabet, padding and non-canonical final bits", function()
        for _, bad in ipairs({ "+/8", "-_8=", "QR", "QUJ", "A", "Zm9v\0", " Zg" }) do
            assert.is_nil(core.b64url_decode(bad), bad)
        end
        assert.are.equal("A", core.b64url_decode("QQ"))
        assert.are.equal("", core.b64url_decode(""))
    end)
end)

describe("core.secret_decode", function()
    it("accepts both alphabets with optional padding", function()
        for _, v in ipairs(b64.secret_decoding.accept) do
            assert.are.equal(v.bytes_hex, h.hex(assert(core.secret_decode(v.input))), v.comment)
        end
    end)

    it("rejects whitespace, junk, misplaced padding and mixed alphabets", function()
        for _, v in ipairs(b64.secret_decoding.reject) do
            assert.is_nil(core.secret_decode(h.unhex(v.input_hex)), v.comment)
        end
        assert.is_nil(core.secret_decode("-_8+"), "mixed alphabets")
    end)
end)

describe("core.hmac_sha256 and key:mac", function()
    local rfc = h.fixture("vectors/hmac_sha256_rfc4231.json")
    local wycheproof = h.fixture("vectors/wycheproof/hmac_sha256_test.json")

    local function mac_both_ways(key_hex, msg_hex)
        local key_bytes, msg = h.unhex(key_hex), h.unhex(msg_hex)
        local oneshot = core.hmac_sha256(key_bytes, msg)
        local key = assert(core.key(key_bytes, "raw"))
        local prepared = key:mac(msg)
        local again = key:mac(msg)   -- the prepared state is reusable
        assert.are.equal(oneshot, prepared)
        assert.are.equal(prepared, again)
        return prepared, key
    end

    it("matches RFC 4231 test cases 1-7, truncated where the RFC truncates", function()
        for _, v in ipairs(rfc.tests) do
            local mac = mac_both_ways(v.key_hex, v.data_hex)
            local bytes = type(v.truncate_bits) == "number" and v.truncate_bits / 8 or 32
            assert.are.equal(v.mac_hex, h.hex(mac:sub(1, bytes)), "case " .. v.tcId)
        end
    end)

    it("agrees with every Wycheproof HMAC-SHA256 vector, valid and invalid", function()
        local count = 0
        for _, group in ipairs(wycheproof.testGroups) do
            local bytes = group.tagSize / 8
            for _, v in ipairs(group.tests) do
                local mac, key = mac_both_ways(v.key, v.msg)
                local matches = h.hex(mac:sub(1, bytes)) == v.tag
                assert.are.equal(v.result == "valid", matches, "tcId " .. v.tcId)
                if bytes == 32 then
                    assert.are.equal(v.result == "valid",
                        key:verify(h.unhex(v.msg), h.unhex(v.tag)), "verify tcId " .. v.tcId)
                end
                count = count + 1
            end
        end
        assert.are.equal(wycheproof.numberOfTests, count)
    end)
end)

describe("core.equals", function()
    it("compares contents and lengths", function()
        assert.is_true(core.equals("abc", "abc"))
        assert.is_false(core.equals("abc", "abd"))
        assert.is_false(core.equals("abc", "ab"))
        assert.is_false(core.equals("a\0b", "a\0c"))
        assert.is_true(core.equals("", ""))
    end)

    it("raises on non-strings", function()
        assert.has_error(function() core.equals("1", 1) end)
    end)
end)

describe("key objects", function()
    it("print only their length", function()
        local key = assert(core.key(h.SECRET))
        assert.are.equal("auth0.apiv2.key (48 bytes)", tostring(key))
        assert.are.equal(48, key:length())
    end)

    it("are unusable after wipe, and wipe twice is harmless", function()
        local key = assert(core.key(h.SECRET))
        key:wipe()
        key:wipe()
        assert.are.equal("auth0.apiv2.key (wiped)", tostring(key))
        local ok, err = pcall(key.mac, key, "x")
        assert.is_false(ok)
        assert.is_truthy(err:find("key has been wiped", 1, true))
        assert.has_error(function() core.sign_parts(key, "{", 1, ",", nil, nil, "}") end)
    end)

    it("hide their methods from getmetatable", function()
        assert.is_false(getmetatable(assert(core.key(h.SECRET))))
    end)

    it("decode the secret as base64 by default and take raw bytes on request", function()
        local from_text = assert(core.key(h.SECRET))
        local raw = assert(core.key(h.unhex(h.SECRET_HEX), "raw"))
        assert.are.equal(raw:mac("data"), from_text:mac("data"))
        assert.are_not.equal(assert(core.key(h.SECRET, "raw")):mac("data"), raw:mac("data"))
    end)

    it("refuse a secret that is not base64 text", function()
        local key, err = core.key("not base64!")
        assert.is_nil(key)
        assert.are.equal("secret is not base64 or base64url text", err)
    end)

    it("close with a to-be-closed variable on Lua 5.4", function()
        if _VERSION ~= "Lua 5.4" then return end
        local kept = assert(load([[
            local core, secret = ...
            local kept
            do
                local key <close> = assert(core.key(secret))
                kept = key
            end
            return kept
        ]]))(core, h.SECRET)
        assert.are.equal("auth0.apiv2.key (wiped)", tostring(kept))
    end)
end)

describe("core.random and core.jti", function()
    it("gives the requested number of bytes and refuses sizes outside 1..256", function()
        assert.are.equal(1, #core.random(1))
        assert.are.equal(256, #core.random(256))
        assert.has_error(function() core.random(0) end)
        assert.has_error(function() core.random(257) end)
    end)

    it("makes 32 lower-case hex characters per id, all distinct over many pool refills", function()
        local seen = {}
        for _ = 1, 20000 do
            local id = core.jti()
            assert.is_truthy(id:match("^[0-9a-f]+$") and #id == 32)
            assert.is_nil(seen[id])
            seen[id] = true
        end
    end)

    it("raises, never crashes, when used from a finalizer after its pool was collected", function()
        if _VERSION == "Lua 5.1" then return end   -- no __gc on tables in 5.1 and LuaJIT
        local script = [[
            local jti
            local guard = setmetatable({}, { __gc = function()
                print(pcall(jti))
            end })
            jti = require("auth0.apiv2.core").jti
        ]]
        local out, ok = h.run(h.lua_command() .. " -e " .. h.quote(script) .. " 2>&1")
        assert.is_true(ok, out)
        assert.is_truthy(out:find("false", 1, true) and out:find("random pool is closed", 1, true), out)
    end)

    it("gives different ids in different processes", function()
        local cmd = h.lua_command() .. [[ -e 'local c = require "auth0.apiv2.core"
            for _ = 1, 500 do print(c.jti()) end']]
        local seen, count = {}, 0
        for _ = 1, 3 do
            local out = assert(h.run(cmd))
            for id in out:gmatch("%x+") do
                assert.is_nil(seen[id])
                seen[id] = true
                count = count + 1
            end
        end
        assert.are.equal(1500, count)
    end)
end)
