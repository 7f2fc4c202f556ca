-- Regressions of issue 15 in token.verify (items 14, 15, 16), through the public API only, so
-- they keep guarding whatever implementation of verification lands (the prepared verifier).
local token = require "auth0.apiv2.token"
local h = require "spec.helpers"

local HEADER = '{"alg":"HS256","typ":"JWT"}'
-- The raw bytes of h.SECRET, built here only to forge tokens.
local function key_bytes() return h.unhex(h.SECRET_HEX) end

local function forged(payload_json)
    return h.forge(HEADER, payload_json, key_bytes())
end

-- How many times the 32 bytes first..second appear in this process's writable memory
-- (Linux: /proc/self/maps and /proc/self/mem). The needle is held as two halves, never as one
-- string, so the scan cannot find the test's own copy; a scan that finds it leaves copies in
-- the chunks it read, so the one positive control comes last. The map is read whole first
-- (the chunks read must not add regions to scan); regions over 256 MiB (sanitizer shadow
-- memory) are skipped.
local function memory_holds(first, second)
    local maps = io.open("/proc/self/maps", "r")
    local mem = io.open("/proc/self/mem", "rb")
    if not maps or not mem then return nil end
    local regions = {}
    for line in maps:lines() do
        local lo, hi, perms = line:match("^(%x+)%-(%x+) (%S+)")
        lo, hi = tonumber(lo, 16), tonumber(hi, 16)
        if perms:sub(1, 2) == "rw" and hi - lo <= 256 * 1024 * 1024 then
            regions[#regions + 1] = { lo, hi }
        end
    end
    maps:close()
    local hits, CHUNK = 0, 64 * 1024
    for _, region in ipairs(regions) do
        local pos, hi = region[1], region[2]
        while pos < hi do
            local data = mem:seek("set", pos) and mem:read(math.min(CHUNK + 32, hi - pos))
            if not data then break end
            local i = 1
            while true do
                local s = data:find(first, i, true)
                if not s then break end
                if data:sub(s + #first, s + #first + #second - 1) == second then
                    hits = hits + 1
                end
                i = s + 1
            end
            pos = pos + CHUNK
        end
    end
    mem:close()
    return hits
end

-- Runs f with the garbage collector stopped (so nothing is wiped by a __gc meanwhile), then
-- scans memory for each needle ({ first, second } halves) and returns the hits of all.
local function holds_after(needles, f)
    collectgarbage()
    collectgarbage("stop")
    local ok, hits = pcall(function()
        f()
        local sum = 0
        for _, n in ipairs(needles) do sum = sum + memory_holds(n[1], n[2]) end
        return sum
    end)
    collectgarbage("restart")
    collectgarbage()
    assert(ok, hits)
    return hits
end

-- Instrumented runs (valgrind, ASan) map memory the scan cannot read sensibly.
local function instrumented()
    return os.getenv("VALGRIND") or (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true)
end

describe("token.verify with a secret string (issue 15, item 14)", function()
    it("wipes the key it decoded before returning, as sign does, without waiting for the GC",
        function()
        if instrumented() or not io.open("/proc/self/mem", "rb") then
            pending("needs /proc/self/mem and an uninstrumented run")
            return
        end
        -- A secret of this spec alone, whose raw bytes no code ever holds as a Lua string (a
        -- freed string is not wiped: another spec's raw key would stay visible). A key object
        -- keeps no raw key, only HMAC's inner and outer SHA-256 states (csrc/hmac.c), which are
        -- as good as the key: the needles are the raw key and the inner state, each as two
        -- halves from hex text (the raw key's first 32 bytes) (spec/util/hmac_inner_state.py computes the state).
        local SECRET = "5DnJASD89AiKyYcottfECKbPHBje5V9Julv4Nr3x7vy30K5ttNPC84ajQcBwN6R0"
        local HEX = "e439c90120fcf4088ac98728b6d7c408a6cf1c18dee55f49ba5bf836bdf1eefc"
        local KEY_HEX = HEX .. "b7d0ae6db4d3c2f386a341c07037a474"   -- all 48 bytes of SECRET
        local pipe = assert(io.popen("/usr/bin/python3 spec/util/hmac_inner_state.py " .. KEY_HEX))
        local STATE = pipe:read("*l")
        pipe:close()
        assert.are.equal(64, #STATE)
        local needles = {
            { h.unhex(HEX:sub(1, 32)), h.unhex(HEX:sub(33, 64)) },
            { h.unhex(STATE:sub(1, 32)), h.unhex(STATE:sub(33, 64)) },
        }
        local function holds(f) return holds_after(needles, f) end
        local jwt = token.new{ aud = h.AUD, scopes = { "read:users" } }:sign(SECRET)
        local bad = jwt:sub(1, -2) .. (jwt:sub(-1) == "A" and "Q" or "A")
        local function none() end
        assert.are.equal(0, holds(none), "before")
        assert.are.equal(0, holds(function()
            assert.is_table(token.verify(jwt, SECRET))
        end), "after a secret string")
        assert.are.equal(0, holds(function()
            assert.is_table(token.verify(jwt, { "x" .. SECRET:sub(2), SECRET }))
        end), "after a list of secrets")
        assert.are.equal(0, holds(function()
            assert.is_table(token.verify(jwt, function() return SECRET end))
        end), "after a key function")
        assert.are.equal(0, holds(function()
            assert.is_nil(token.verify(bad, SECRET))
        end), "after a mismatch")
        -- The control, last: a key object the caller keeps is seen by the scan (its state).
        local key
        assert.is_true(holds_after({ needles[2] }, function() key = token.key(SECRET) end) > 0)
        key:wipe()
    end)
end)

describe("token.verify time claims (issue 15, item 15)", function()
    local opts = { now = h.NOW }

    it("refuses an exp that parses as infinity instead of never expiring", function()
        local jwt = forged('{"aud":"' .. h.AUD .. '","exp":1e400}')
        assert.are.same({ nil, "invalid claim type" }, { token.verify(jwt, h.SECRET, opts) })
    end)

    it("refuses nbf and iat of minus infinity", function()
        assert.are.same({ nil, "invalid claim type" },
            { token.verify(forged('{"nbf":-1e400}'), h.SECRET, opts) })
        assert.are.same({ nil, "invalid claim type" },
            { token.verify(forged('{"iat":-1E+999}'), h.SECRET, opts) })
    end)

    it("still accepts large finite times", function()
        assert.is_table(token.verify(forged('{"exp":1e300,"nbf":-1e300}'), h.SECRET, opts))
    end)
end)

describe("token.verify with a key function (issue 15, item 16)", function()
    local jwt = forged('{"aud":"tenant-a"}')

    it("reads a key function returning false as no key, not as misuse", function()
        assert.are.same({ nil, "no key" }, { token.verify(jwt, function() return false end) })
        assert.are.same({ nil, "no key" }, { token.verify(jwt, function() return nil end) })
    end)

    it("reads an empty list from a key function as no key", function()
        assert.are.same({ nil, "no key" }, { token.verify(jwt, function() return {} end) })
    end)

    it("still raises for an empty list given directly", function()
        assert.has_error(function() token.verify(jwt, {}) end)
    end)

    it("reports an unknown aud as signature mismatch with mask_no_key", function()
        local known = { ["tenant-b"] = h.SECRET }
        local function by_aud(aud) return known[aud] end
        assert.are.same({ nil, "no key" }, { token.verify(jwt, by_aud) })
        assert.are.same({ nil, "signature mismatch" },
            { token.verify(jwt, by_aud, { mask_no_key = true }) })
        assert.are.same({ nil, "signature mismatch" },
            { token.verify(jwt, function() return false end, { mask_no_key = true }) })
        -- A known aud with a wrong key reads the same: the reason cannot tell them apart.
        local other = forged('{"aud":"tenant-b"}'):gsub("[^.]+$", ("A"):rep(43))
        assert.are.same({ nil, "signature mismatch" },
            { token.verify(other, by_aud, { mask_no_key = true }) })
        -- And a good token of a known aud passes.
        assert.is_table(token.verify(forged('{"aud":"tenant-b"}'), by_aud, { mask_no_key = true }))
    end)

    it("checks mask_no_key is a boolean", function()
        assert.are.equal("token.verify: mask_no_key must be a boolean",
            h.error_of(token.verify, jwt, h.SECRET, { mask_no_key = "yes" }))
    end)
end)
