-- Regressions of issue 15 in the HTTP client against a hostile or broken server (items 1-5, 7):
-- over real sockets to spec/server/hostile_http.py, and a cosocket under a fake clock.
local http = require "auth0.apiv2.internal.http"
local blacklist = require "auth0.apiv2.blacklist"
local management = require "auth0.apiv2.management"
local socket = require "socket"
local hostile = require "spec.hardening.hostile_server"

local MiB = 1024 * 1024
-- A bearer token and a client secret that must never come back in a message. The secret has
-- characters that the form body percent-encodes.
local TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LWJlYXJlci10b2tlbi1ieXRlcw"
local CLIENT_SECRET = "s3cr3t|with spaces&plus+slash/=end"

local function get(url, timeout)
    return http.request{ url = url, timeout = timeout or 5000 }
end

describe("http.request against a hostile server", function()
    local server
    setup(function() server = hostile.start() end)
    teardown(function() hostile.stop(server) end)

    describe("header lines (issue 15, items 1 and 3)", function()
        it("parses a header of 20,000 spaces before its value", function()
            local response = assert(get(server.url .. "/spaces/20000"))
            assert.are.equal(200, response.status)
            assert.are.equal("x", response.headers["x-pad"])
        end)

        it("refuses a header line over MAX_LINE bytes with a bounded error", function()
            assert.are.equal(32768, require("auth0.apiv2.internal.http.wire").MAX_LINE)
            local response, err, code = get(server.url .. "/spaces/40000")
            assert.is_nil(response)
            assert.are.equal("protocol", code)
            assert.is_truthy(err:find("header line longer than 32768 bytes", 1, true), err)
        end)

        it("refuses a 48 MiB header without buffering it", function()
            local before = collectgarbage("count")
            local response, err, code = get(server.url .. "/bigline/header/" .. 48 * MiB)
            assert.is_nil(response)
            assert.are.equal("protocol", code, err)
            assert.is_truthy(err:find("header line longer than", 1, true), err)
            assert.is_true(#err < 200)
            -- What was read stays near the bound (a few chunks), far from 48 MiB.
            assert.is_true(collectgarbage("count") - before < 8 * 1024)
        end)

        it("refuses an endless status line, chunk-size line and trailer line", function()
            for _, kind in ipairs({ "status", "chunk", "trailer" }) do
                local response, err, code = get(server.url .. "/bigline/" .. kind .. "/" .. 4 * MiB)
                assert.is_nil(response, kind)
                assert.are.equal("protocol", code, kind .. ": " .. tostring(err))
                assert.is_truthy(err:find("longer than 32768 bytes", 1, true), err)
            end
        end)

        it("refuses a header block over MAX_HEADER_BYTES made of lines under the line bound", function()
            local response, err, code = get(server.url .. "/wideheaders/4/30000")
            assert.is_nil(response)
            assert.are.equal("protocol", code)
            assert.is_truthy(err:find("headers longer than 65536 bytes", 1, true), err)
            assert.is_table(get(server.url .. "/wideheaders/2/30000"))
        end)
    end)

    describe("a dripping server (issue 15, item 2)", function()
        it("cannot hold a LuaSocket request past its one timeout", function()
            -- 20 bytes, one every 0.3 s: 6 s of dripping against a 1 s timeout.
            local started = socket.gettime()
            local response, err, code = get(server.url .. "/drip/300/20", 1000)
            local took = socket.gettime() - started
            assert.is_nil(response)
            assert.are.equal("timeout", code, err)
            assert.is_true(took < 4, took .. " s")
        end)
    end)

    describe("excerpts of bodies (issue 15, items 4 and 5)", function()
        it("scrub the bearer token from a 2xx answer that is not the JSON expected", function()
            local bl = blacklist.new{ base_url = server.url .. "/echo/200/api/v2", token = TOKEN }
            local list, err = bl:list()
            assert.is_nil(list)
            assert.are.equal("invalid_response", err.error_code)
            local text = tostring(err)
            assert.is_nil(text:find(TOKEN, 1, true), text)
            assert.is_truthy(text:find("[token]", 1, true), text)
        end)

        it("scrub it in the management client too", function()
            local mgmt = management.new{ base_url = server.url .. "/echo/200/api/v2", token = TOKEN }
            local value, err = mgmt:request("GET", "/users")
            assert.is_nil(value)
            assert.are.equal("invalid_response", err.error_code)
            assert.is_nil(tostring(err):find(TOKEN, 1, true), tostring(err))
        end)

        it("scrub the client secret in every encoding the form body sends", function()
            local mgmt = management.new{ domain = "tenant.auth0.com", retries = 0,
                base_url = server.url .. "/echo/400/api/v2", client_id = "cid",
                client_secret = CLIENT_SECRET }
            local value, err = mgmt:request("GET", "/users")
            assert.is_nil(value)
            local text = tostring(err)
            local encoded = require("auth0.apiv2.internal.http.url").escape(CLIENT_SECRET)
            assert.is_truthy(text:find("client_secret=", 1, true), text)   -- the echo is there
            assert.is_nil(text:find(encoded, 1, true), text)
            assert.is_nil(text:find(encoded:lower(), 1, true), text)
            assert.is_nil(text:find(CLIENT_SECRET, 1, true), text)
            assert.is_truthy(text:find("client_secret=[secret]", 1, true), text)
        end)
    end)
end)

describe("http.request when LuaSocket cannot be loaded (issue 15, item 7)", function()
    it("keeps the loader's real reason instead of saying it is not installed", function()
        local saved, saved_preload = package.loaded.socket, package.preload.socket
        package.loaded.socket = nil
        package.preload.socket = function()
            error("error loading module 'socket.core': undefined symbol: lua_gettop")
        end
        local ok, response, err, code = pcall(get, "http://127.0.0.1:9/")
        package.loaded.socket, package.preload.socket = saved, saved_preload
        assert(ok, response)
        assert.is_nil(response)
        assert.are.equal("network", code)
        assert.is_truthy(err:find("cannot be loaded: ", 1, true), err)
        assert.is_truthy(err:find("undefined symbol: lua_gettop", 1, true), err)
        assert.is_nil(err:find("not installed", 1, true))
    end)

    it("still says not installed when there is no module", function()
        local saved, saved_preload = package.loaded.socket, package.preload.socket
        local saved_path, saved_cpath = package.path, package.cpath
        package.loaded.socket, package.preload.socket = nil, nil
        package.path, package.cpath = "", ""
        local ok, response, err = pcall(get, "http://127.0.0.1:9/")
        package.loaded.socket, package.preload.socket = saved, saved_preload
        package.path, package.cpath = saved_path, saved_cpath
        assert(ok, response)
        assert.is_nil(response)
        assert.are.equal("http: LuaSocket (module 'socket') is not installed", err)
    end)
end)

-- A cosocket as lua-nginx-module makes it, under a fake clock: the server sends one byte every
-- 0.7 s. receive("*l") and receive(n) restart their timer after each partial read (so they only
-- time out when one gap exceeds the timeout); receiveany returns what has arrived.
local function dripping_ngx(response, gap_ms)
    local clock_ms, pos = 0, 1
    local log = { calls = 0 }
    local timeout = 1000
    local sock = {}
    function sock.settimeouts(_, _, _, read) timeout = read return 1 end
    function sock.settimeout(_, ms) timeout = ms return 1 end
    function sock.connect() return 1 end
    function sock.send(_, data) return #data end
    function sock.close() return 1 end
    local function next_byte()
        if pos > #response then return nil end
        if gap_ms > timeout then clock_ms = clock_ms + timeout return false end
        clock_ms = clock_ms + gap_ms
        pos = pos + 1
        return response:sub(pos - 1, pos - 1)
    end
    function sock.receiveany(_, _)
        log.calls = log.calls + 1
        local b = next_byte()
        if b == nil then return nil, "closed" end
        if b == false then return nil, "timeout" end
        return b
    end
    function sock.receive(_, pattern)
        log.calls = log.calls + 1
        local got = {}
        while true do
            local b = next_byte()
            if b == nil then return nil, "closed", table.concat(got) end
            if b == false then return nil, "timeout", table.concat(got) end
            if pattern == "*l" then
                if b == "\n" then return (table.concat(got):gsub("\r$", "")) end
                got[#got + 1] = b
            else
                got[#got + 1] = b
                if #got == pattern then return table.concat(got) end
            end
        end
    end
    local ngx = {
        get_phase = function() return "timer" end,
        socket = { tcp = function() return sock end },
        now = function() return clock_ms / 1000 end,
        update_time = function() end,
        sleep = function() end,
    }
    return ngx, log, function() return clock_ms end
end

describe("http.request inside nginx under a fake clock (issue 15, item 2)", function()
    it("ends a dripping answer at its one timeout, not when the server stops", function()
        local answer = "HTTP/1.1 200 OK\r\nX-Drip: " .. ("x"):rep(200) .. "\r\n"
            .. "Content-Length: 2\r\n\r\n{}"
        local ngx, log, elapsed_ms = dripping_ngx(answer, 700)
        rawset(_G, "ngx", ngx)
        local ok, response, err, code = pcall(http.request, { url = "http://h:8080/",
            timeout = 1000 })
        rawset(_G, "ngx", nil)
        assert(ok, response)
        assert.is_nil(response)
        assert.are.equal("timeout", code, tostring(err))
        -- One timeout from the request; 0.7 s per byte, so at most two bytes were waited for.
        assert.is_true(elapsed_ms() <= 1000 + 700, elapsed_ms() .. " ms")
        assert.is_true(log.calls <= 3, log.calls .. " reads")
    end)

    it("still reads an answer that arrives in time, byte by byte", function()
        local answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"
        local ngx = dripping_ngx(answer, 1)
        rawset(_G, "ngx", ngx)
        local ok, response = pcall(http.request, { url = "http://h:8080/", timeout = 1000 })
        rawset(_G, "ngx", nil)
        assert(ok, response)
        assert.are.equal(200, response.status)
        assert.are.equal("[]", response.body)
    end)
end)
