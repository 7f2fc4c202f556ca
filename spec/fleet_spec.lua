-- auth0.apiv2.fleet (revoking fleet-wide from plain Lua over lua-redis) and the Redis layout
-- it shares with the nginx backend (auth0.apiv2.internal.fleet_wire), against a real
-- redis-server started here on a free loopback port. spec/fleet/run covers the nginx side.
local wire = require "auth0.apiv2.internal.fleet_wire"
local fleet = require "auth0.apiv2.fleet"

local AUD = "DEMOapiKEY0123456789abcdefghijkl"

describe("fleet_wire", function()
    it("encodes and decodes a message whatever bytes aud and jti hold", function()
        for _, case in ipairs{ { AUD, "jti-1", 1800000000 }, { "", "x", nil },
                               { "a 1:b", "2:c d\n", 5 }, { ("z"):rep(1024), "j", nil } } do
            local m = wire.encode(case[1], case[2], case[3], 1234567)
            local aud, jti, exp, ms = wire.decode(m)
            assert.are.same({ case[1], case[2], case[3], 1234567 }, { aud, jti, exp, ms })
        end
    end)

    it("refuses messages that are not its own", function()
        for _, m in ipairs{ "", "- 1 5:abc", "x 1 1:ab", "- 1 1:a", "- 1 99999:ab", 42 } do
            assert.is_nil(wire.decode(m))
        end
    end)

    it("keeps an entry 600 s after exp, forever without exp, not at all when long past", function()
        assert.are.equal(700, wire.ttl(1100, 1000))
        assert.are.equal(0, wire.ttl(nil, 1000))
        assert.is_nil(wire.ttl(100, 1000))
    end)

    it("compares stream ids by time, then sequence", function()
        assert.are.equal(-1, wire.compare_ids("1-5", "2-0"))
        assert.are.equal(1, wire.compare_ids("10-0", "9-99"))
        assert.are.equal(1, wire.compare_ids("5-10", "5-9"))
        assert.are.equal(0, wire.compare_ids("5-1", "5-1"))
    end)

    it("parses HOST:PORT", function()
        assert.are.same({ "127.0.0.1", 6380 }, { wire.parse_address("127.0.0.1:6380") })
        assert.are.same({ "::1", 7000 }, { wire.parse_address("[::1]:7000") })
        assert.are.same({ "redis.internal", 6379 }, { wire.parse_address("redis.internal") })
        assert.is_nil(wire.parse_address("a:b:c"))
        assert.is_nil(wire.parse_address("host:70000"))
        assert.is_nil(wire.parse_address(""))
    end)
end)

describe("fleet.new", function()
    it("raises on unknown or ill-typed options", function()
        assert.has_error(function() fleet.new{ hots = "x" } end, "fleet.new: unknown option 'hots'")
        assert.has_error(function() fleet.new{ port = "6379" } end, "fleet.new: port must be a number")
        assert.has_error(function() fleet.new{ timeout = 0 } end,
            "fleet.new: timeout must be positive (ms)")
    end)

    it("never shows the password", function()
        local f = fleet.new{ password = "hunter2-secret" }
        assert.is_nil(tostring(f):find("hunter2", 1, true))
        for _, v in pairs(f) do assert.are_not.equal("hunter2-secret", v) end
    end)
end)

local function free_port()
    local socket = require "socket"
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    return tonumber(port)
end

local function sh(cmd)
    local p = assert(io.popen(cmd .. " 2>/dev/null"))
    local out = p:read("*a")
    p:close()
    return (out:gsub("%s+$", ""))
end

local have_redis = sh("command -v redis-server") ~= ""

describe("fleet:revoke against a real redis-server", function()
    local port, dir
    setup(function()
        if not have_redis then return end
        port = free_port()
        dir = sh("mktemp -d /tmp/auth0-apiv2-fleet-spec-XXXXXX")
        os.execute(("redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no "
            .. "--daemonize yes --dir %s --pidfile %s/redis.pid >/dev/null"):format(port, dir, dir))
        for _ = 1, 100 do
            if sh(("redis-cli -p %d PING"):format(port)) == "PONG" then break end
            os.execute("sleep 0.05")
        end
    end)
    teardown(function()
        if not dir then return end
        local pid = sh("cat " .. dir .. "/redis.pid")
        if pid:match("^%d+$") then os.execute("kill " .. pid) end
        os.execute("sleep 0.1; rm -rf " .. dir)
    end)

    local function cli(...)
        return sh(("redis-cli -p %d --raw %s"):format(port, table.concat({ ... }, " ")))
    end

    it("writes the entry with its TTL, appends the log and publishes, in one step", function()
        if not have_redis then pending("redis-server is not installed") return end
        local f = fleet.new{ port = port, now = function() return 1000 end }
        local exp = os.time() + 3600
        f.now = os.time
        local id, err = f:revoke(AUD, "spec-jti-1", exp)
        assert.is_nil(err)
        assert.is_truthy(id:match("^%d+%-%d+$"))
        local key = "auth0:rev:" .. #AUD .. ":" .. AUD .. "spec-jti-1"
        local ttl = tonumber(cli("TTL", key))
        assert.is_true(ttl > 4100 and ttl <= 4200, tostring(ttl))
        assert.is_truthy(cli("XRANGE", "auth0:log", "-", "+"):find("spec-jti-1", 1, true))
        assert.is_true(f:is_revoked(AUD, "spec-jti-1"))
        assert.is_false(f:is_revoked(AUD, "spec-jti-2"))
        assert.are.equal("1", cli("XLEN", "auth0:log"))
        f:close()
    end)

    it("keeps an entry without exp forever, and writes nothing for a long-expired token", function()
        if not have_redis then pending("redis-server is not installed") return end
        local f = fleet.new{ port = port, prefix = "other:" }
        assert.is_truthy(f:revoke(AUD, "forever"))
        assert.are.equal("-1", cli("TTL", "other:rev:" .. #AUD .. ":" .. AUD .. "forever"))
        assert.are.equal("expired", f:revoke(AUD, "old", os.time() - 3600))
        assert.are.equal("0", cli("EXISTS", "other:rev:" .. #AUD .. ":" .. AUD .. "old"))
    end)

    it("returns nil and a message when Redis cannot be reached", function()
        local f = fleet.new{ port = free_port(), timeout = 500 }
        local id, err = f:revoke(AUD, "x")
        assert.is_nil(id)
        assert.is_truthy(err:find("^fleet%.revoke: redis: "), err)
    end)

    it("raises on ill-typed arguments", function()
        local f = fleet.new{}
        assert.has_error(function() f:revoke(AUD, "") end,
            "fleet.revoke: jti must be a non-empty string")
        assert.has_error(function() f:revoke(AUD, "j", "soon") end,
            "fleet.revoke: exp must be a finite number")
        assert.has_error(function() f:revoke(AUD, ("j"):rep(2000)) end,
            "fleet.revoke: aud and jti must be at most 1024 bytes")
    end)
end)
