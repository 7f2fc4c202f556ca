-- The pieces behind the automation features, without a server: the pagers over a scripted
-- transport, the plain-Lua gunzip against Python's zlib, and the pacing of rate limits.
local management = require "auth0.apiv2.management"
local gunzip = require "auth0.apiv2.internal.gunzip"
local pacing = require "auth0.apiv2.internal.pacing"
local cjson = require "cjson"
local h = require "spec.helpers"

-- A client whose transport answers GETs with answer(query table) -> status, body.
local function scripted(answer, opts)
    local seen = {}
    opts = opts or {}
    opts.domain, opts.token, opts.sleep = "tenant.example.com", "abc.def.ghi", function() end
    opts.transport = function(req)
        local q = {}
        for k, v in (req.url:match("%?(.*)$") or ""):gmatch("([^&=]+)=([^&]*)") do
            q[k] = v:gsub("%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end)
        end
        seen[#seen + 1] = q
        local status, body = answer(q, req)
        return h.reply(status, body)
    end
    return management.new(opts), seen
end

local function users(from, to)
    local out = {}
    for i = from, to do out[#out + 1] = { user_id = "u" .. i } end
    return out
end

describe("mgmt:each and mgmt:pages", function()
    it("pages by offset until a short page, with include_totals", function()
        local mgmt, seen = scripted(function(q)
            local page, per = tonumber(q.page), tonumber(q.per_page)
            local last = math.min(page * per + per, 120)
            return 200, cjson.encode{ start = page * per, limit = per, total = 120,
                users = users(page * per + 1, last) }
        end)
        local all = assert(mgmt:each("/users", nil, { per_page = 50 }):all())
        assert.are.equal(120, #all)
        assert.are.equal("u120", all[120].user_id)
        assert.are.equal(3, #seen)
        assert.are.same({ include_totals = "true", page = "2", per_page = "50" }, seen[3])
    end)

    it("pages a plain array by offset, and stops at an empty page", function()
        local mgmt, seen = scripted(function(q)
            return 200, tonumber(q.page) < 2 and cjson.encode(users(1, 10)) or "[]"
        end)
        local n = 0
        for _ in mgmt:each("/roles", nil, { per_page = 10 }) do n = n + 1 end
        assert.are.equal(20, n)
        assert.are.equal(3, #seen)
    end)

    it("pages by checkpoint with next, and by the last id for plain arrays", function()
        local mgmt, seen = scripted(function(q)
            if not q.from then return 200, cjson.encode{ logs = users(1, 5), next = "c1" } end
            return 200, cjson.encode{ logs = users(6, 7) }
        end)
        local p = mgmt:pages("/organizations/{id}/members", { id = "org_1" }, { take = 5 })
        local sizes = {}
        for items in p do sizes[#sizes + 1] = #items end
        assert.are.same({ 5, 2 }, sizes)
        assert.are.same({ take = "5" }, seen[1])
        assert.are.same({ from = "c1", take = "5" }, seen[2])
        local logs = scripted(function(q)
            if not q.from then return 200, cjson.encode{ { log_id = "a" }, { log_id = "b" } } end
            return 200, cjson.encode{ { log_id = "c" } }
        end)
        assert.are.equal(3, #assert(logs:each("/logs", nil, { take = 2 }):all()))
    end)

    it("ends with the error in err, and never loops on a repeated checkpoint", function()
        local mgmt = scripted(function(q)
            if q.page == "1" then return 500, '{"statusCode":500,"message":"boom"}' end
            return 200, cjson.encode(users(1, 10))
        end, { retries = 0 })
        local it = mgmt:each("/users", nil, { per_page = 10 })
        local n = 0
        for _ in it do n = n + 1 end
        assert.are.equal(10, n)
        assert.are.equal(500, it.err.status)
        assert.are.equal("management.each", it.err.op)
        local list, err = mgmt:each("/users", nil, { per_page = 10 }):all()
        assert.is_nil(list)
        assert.are.equal(500, err.status)
        local loop = scripted(function() return 200, cjson.encode{ logs = users(1, 2), next = "same" } end)
        local p = loop:pages("/logs", nil, { take = 2, from = "same" })
        local pages = 0
        for _ in p do pages = pages + 1 end
        assert.are.equal(1, pages)
        assert.are.equal("invalid_response", p.err.error_code)
    end)

    it("stops before the 1,000 cap without asking, naming the export job", function()
        local mgmt, seen = scripted(function()
            return 200, cjson.encode{ total = 5000, users = users(1, 100) }
        end)
        local it = mgmt:each("/users", nil, { per_page = 100 })
        local n = 0
        for _ in it do n = n + 1 end
        assert.are.equal(1000, n)
        assert.are.equal(10, #seen)
        assert.are.equal("management.each: 400 result_cap: Auth0 pages through the first 1000 "
            .. "results only (read 1000 of 5000); narrow the query, or export them all with "
            .. "mgmt:export_users (the users-exports job, POST /jobs/users-exports)", tostring(it.err))
        local roles = scripted(function() return 200, cjson.encode(users(1, 100)) end)
        local r = roles:each("/roles", nil, { per_page = 100 })
        for _ in r do end
        assert.truthy(tostring(r.err):find("checkpoint paging", 1, true))
    end)

    it("raises on misuse at once", function()
        local mgmt = scripted(function() return 200, "[]" end)
        assert.has_error(function() mgmt:each("users") end)
        assert.has_error(function() mgmt:each("/users/{id}") end)
        assert.has_error(function() mgmt:pages("/users", nil, "q=x") end)
        assert.has_error(function() mgmt:each("/users", nil, { per_page = "ten" }) end,
            "management.each: query.per_page must be a whole number")
        assert.has_error(function() mgmt:wait_job(5) end)
        assert.has_error(function() mgmt:export_users{ format = "xml" } end,
            "management.export_users: format must be \"json\" or \"csv\"")
        assert.has_error(function() mgmt:import_users{ users = {} } end,
            "management.import_users: connection_id is required (a string)")
        assert.has_error(function() mgmt:export_users{ nope = 1 } end)
    end)
end)

describe("gunzip", function()
    local tmp

    setup(function() tmp = h.must_run("mktemp -d"):gsub("%s+$", "") end)
    teardown(function() os.execute("rm -rf " .. h.quote(tmp)) end)

    -- Python's zlib packs; the Lua side must give back the same bytes.
    local function packed(script)
        local path = tmp .. "/x.gz"
        h.must_run("/usr/bin/python3 -c " .. h.quote("import gzip,sys,random,zlib\n" .. script
            .. "\nopen(sys.argv[1],'wb').write(out)") .. " " .. h.quote(path))
        return h.read(path)
    end

    it("unpacks what zlib packs: fixed, dynamic and stored blocks, several members", function()
        local cases = {
            { "out=gzip.compress(b'hello hello hello hello', mtime=0)", ("hello "):rep(3) .. "hello" },
            { "out=gzip.compress(b'', mtime=0)", "" },
            { "out=gzip.compress(bytes(range(256))*50, compresslevel=0, mtime=0)", nil },
            { "out=gzip.compress(b'a', mtime=0)+gzip.compress(b'b', mtime=0)", "ab" },
        }
        for _, case in ipairs(cases) do
            local text = assert(gunzip.gunzip(packed(case[1])))
            if case[2] then assert.are.equal(case[2], text) else assert.are.equal(12800, #text) end
        end
        local big = packed("random.seed(7)\nout=gzip.compress(''.join('%d,%f\\n'%(i,random.random()) "
            .. "for i in range(20000)).encode(), mtime=0)")
        local text = assert(gunzip.gunzip(big))
        assert.are.equal(20000, select(2, text:gsub("\n", "")))
        assert.are.equal("19999,", text:match("\n(19999,)"))
    end)

    it("refuses what is not gzip, cut short, corrupt or too large", function()
        local good = packed("out=gzip.compress(b'x'*100000, mtime=0)")
        assert.are.same({ nil, "gunzip: not a gzip file" }, { gunzip.gunzip("hello") })
        assert.are.same({ nil, "gunzip: unexpected end of data" },
            { gunzip.gunzip(good:sub(1, #good - 30)) })
        local wrong_size = good:sub(1, #good - 4) .. "\1\0\0\0"
        assert.are.same({ nil, "gunzip: length mismatch (corrupt file)" },
            { gunzip.gunzip(wrong_size) })
        assert.are.same({ nil, "gunzip: the unpacked data exceeds 1000 bytes" },
            { gunzip.gunzip(good, 1000) })
        for i = 11, 30 do                       -- flipped bytes inside the deflate stream
            local bad = good:sub(1, i - 1) .. string.char((good:byte(i) + 1) % 256) .. good:sub(i + 1)
            local ok, out, err = pcall(gunzip.gunzip, bad)
            assert.is_true(ok, "raised: " .. tostring(out))      -- a value, never an error
            assert.is_true((out == nil and err:match("^gunzip: ") ~= nil)
                or type(out) == "string", "byte " .. i)
        end
    end)
end)

describe("pacing", function()
    local function pacer(opts)
        local t, slept = 1000, {}
        opts.now = function() return t end
        opts.sleep = function(s) slept[#slept + 1] = s; t = t + s end
        opts.max_wait = 10
        return pacing.new(opts), slept
    end

    local function answer(remaining, reset, limit)
        return { status = 200, headers = { ["x-ratelimit-remaining"] = tostring(remaining),
            ["x-ratelimit-reset"] = tostring(reset), ["x-ratelimit-limit"] = tostring(limit or 50) } }
    end

    it("spreads the last calls of a window and waits for the reset when none is left", function()
        local p, slept = pacer{ pace = true }
        p:after(answer(40, 1001))
        p:before()
        assert.are.same({}, slept)
        p:after(answer(4, 1001))
        p:before()
        assert.are.equal(1, #slept)
        assert.is_true(math.abs(slept[1] - 0.2) < 1e-9)
        p:after(answer(0, 1002))
        p:before()
        assert.is_true(slept[2] >= 1000 + 2 - 1000.2 - 1e-9)
    end)

    it("waits out a 429 within the budget, then gives up", function()
        local p = pacer{ wait_for_reset = 5 }
        local limited = { status = 429, headers = { ["x-ratelimit-reset"] = "1002" } }
        assert.is_true(math.abs(p:wait_for(limited, 0) - 2.01) < 1e-9)
        assert.is_nil(p:wait_for(limited, 4))
        assert.is_nil(p:wait_for({ status = 429, headers = {} }, 0))    -- max_wait 10 > 5
        assert.are.equal(10, pacer{ wait_for_reset = 60 }:wait_for({ status = 429, headers = {} }, 0))
        assert.is_nil(pacer{ wait_for_reset = 0 }:wait_for(limited, 0))
    end)

    it("is checked by management.new", function()
        assert.has_error(function() management.new{ domain = "t.example.com", token = "a.b.c",
            wait_for_reset = -1 } end,
            "management.new: wait_for_reset must be a non-negative number of seconds")
        assert.has_error(function() management.new{ domain = "t.example.com", token = "a.b.c",
            pace = "yes" } end, "management.new: pace must be a boolean")
        assert.has_error(function() management.new{ domain = "t.example.com", token = "a.b.c",
            shared_dict = "d" } end, "management.new: shared_dict goes with client_id and client_secret")
        assert.has_error(function() management.new{ domain = "t.example.com", client_id = "a",
            client_secret = "b", shared_dict = "d" } end,
            "management.new: shared_dict needs nginx (lua_shared_dict d)")
    end)
end)
