-- The guard's token reader (auth0.apiv2.internal.nginx.bearer) outside nginx: the Authorization
-- header's "Bearer <token>" as RFC 6750 §2.1 has it, the scheme in any case.
-- luacheck: globals ngx
local bearer = require "auth0.apiv2.internal.nginx.bearer"

describe("nginx bearer: the Authorization header", function()
    local saved_ngx, var, read
    setup(function()
        saved_ngx = rawget(_G, "ngx")
        var = {}
        _G.ngx = { var = var, unescape_uri = function(s) return s end }
        read = bearer.reader("t")
    end)
    teardown(function() _G.ngx = saved_ngx end)

    local function reads(value)
        var.http_authorization = value
        return { read() }
    end

    it("reads through ngx.var where nginx's FFI call is not there", function()
        assert.is_nil(bearer.direct_reader("http_authorization"))
        -- An http subsystem without lua-resty-core loaded: not loaded here either (loading it
        -- would replace ngx.var under the caller's code).
        ngx.config = { subsystem = "http" }
        local ok, direct = pcall(bearer.direct_reader, "http_authorization")
        ngx.config = nil
        assert.is_true(ok)
        assert.is_nil(direct)
        assert.is_nil(package.loaded["resty.core.var"])
        assert.is_false(bearer.is_direct(read))
    end)

    it("takes the token after the scheme, in any case, spaces around it", function()
        assert.are.same({ "a.b.c" }, reads("Bearer a.b.c"))
        assert.are.same({ "a.b.c" }, reads("bearer a.b.c"))
        assert.are.same({ "a.b.c" }, reads("BEARER a.b.c"))
        assert.are.same({ "a.b.c" }, reads("bEaReR    a.b.c   "))
    end)

    it("says malformed for the scheme alone, an empty token or two words", function()
        for _, value in ipairs{ "Bearer", "bearer", "Bearer ", "Bearer    ", "Bearer a b",
                                "BEARER  a  b " } do
            assert.are.same({ nil, "malformed" }, reads(value), value)
        end
    end)

    it("says no token for none, another scheme or a near miss", function()
        for _, value in ipairs{ "", "Basic dXNlcjpwYXNz", "Bearerx.y.z", "Bearer\ta.b.c",
                                "Bearex a.b.c", "earer a.b.c", " Bearer a.b.c", "Bear",
                                "Bearer\0a.b.c", "Béarer a.b.c" } do
            assert.are.same({}, reads(value), value)
        end
        assert.are.same({}, reads(nil))
    end)

    it("tells the scheme in every casing, and no other: every byte in each of its places",
        function()
        local function plain(value)
            local scheme = value:sub(1, 7)
            return scheme == "Bearer " or scheme:lower() == "bearer "
        end
        local word = "bearer"
        for mask = 0, 63 do
            local cased = word:gsub("()(.)", function(i, c)
                if math.floor(mask / 2 ^ (i - 1)) % 2 == 1 then return c:upper() end
                return c
            end)
            local value = cased .. " x.y.z"
            assert.are.same({ "x.y.z" }, reads(value), value)
            for place = 1, (mask % 21 == 0) and 7 or 0 do   -- every byte, in 4 casings
                for b = 0, 255 do
                    local v = value:sub(1, place - 1) .. string.char(b) .. value:sub(place + 1)
                    local got = reads(v)
                    local want = plain(v) and { "x.y.z" } or {}
                    assert.are.same(want, got, ("%q"):format(v))
                end
            end
        end
    end)
end)
