-- Automation at tenant scale against the local Auth0-like server (spec/server/auth0_mock.py)
-- over real HTTP and HTTPS: pagers, the 1,000 cap, jobs, rate-limit waiting, keep-alive,
-- per-call idempotent, forget_token and integral numbers.
local management = require "auth0.apiv2.management"
local socket = require "socket"
local cjson = require "cjson"
local h = require "spec.helpers"
local sh, control = h.must_run, h.mock_control

local PYTHON = "/usr/bin/python3"
local MOCK = "spec/server/auth0_mock.py"
local DOMAIN = "tenant.example.com"
local ADMIN_ID, ADMIN_SECRET = "adminClient", "adm1n-s3cret-0123456789"
local SCOPES = "read:users,update:users,create:users,read:organizations,blacklist:tokens"
local FAST = { interval = 0.01, max_interval = 0.05, timeout = 20 }

local function start_mock(dir)
    sh("mkdir -p " .. h.quote(dir))
    os.execute(("%s %s --port 0 --https-port 0 --tls-dir %s --tenant %s --client %s "
        .. "--ready-file %s >/dev/null 2>%s &"):format(PYTHON, MOCK, h.quote(dir .. "/tls"),
        h.quote(h.AUD .. "=" .. h.SECRET), h.quote(ADMIN_ID .. "=" .. ADMIN_SECRET .. ":" .. SCOPES),
        h.quote(dir .. "/ready"), h.quote(dir .. "/stderr")))
    return dir .. "/ready"
end

describe("automation at tenant scale against a local Auth0", function()
    local tmp, server, ready

    setup(function()
        tmp = sh("mktemp -d"):gsub("%s+$", "")
        ready = start_mock(tmp .. "/main")
        server = h.wait_mock_ready(ready, 15)
    end)

    teardown(function()
        h.stop_mock(server, ready)
        if tmp and tmp:match("^/tmp/") then os.execute("rm -rf " .. h.quote(tmp)) end
    end)

    before_each(function()
        control(server, "POST", "/__control/reset")
    end)

    local function client(scheme, opts)
        opts = opts or {}
        opts.domain = DOMAIN
        opts.client_id, opts.client_secret = ADMIN_ID, ADMIN_SECRET
        if scheme == "https" then
            opts.base_url = ("https://localhost:%s/api/v2"):format(server.https_port)
            opts.ca_file = server.ca_file
        else
            opts.base_url = server.http .. "/api/v2"
        end
        return management.new(opts)
    end

    local function recorded()
        return control(server, "GET", "/__control/requests")
    end

    local function count_paths(method, prefix)
        local n, per = 0, {}
        for _, r in ipairs(recorded()) do
            if r.method == method and r.path:sub(1, #prefix) == prefix then
                n = n + 1
                per[r.path] = (per[r.path] or 0) + 1
            end
        end
        return n, per
    end

    for _, scheme in ipairs({ "http", "https" }) do
        it("patches each of 450 matching users exactly once, collecting the ids first ("
            .. scheme .. ")", function()
            local mgmt = client(scheme)
            -- Collect first: a PATCH moves a user to the end of the default order, so patching
            -- while paging by offset would skip some users and meet others twice.
            local ids = {}
            local users = mgmt:each("/users", nil, { q = 'app_metadata.tier:"gold"',
                per_page = 100, fields = "user_id" })
            for user in users do ids[#ids + 1] = user.user_id end
            assert.is_nil(users.err)
            assert.are.equal(450, users.total)
            assert.are.equal(450, #ids)
            for _, id in ipairs(ids) do
                assert(mgmt:request("PATCH", "/users/{id}", { id = id },
                    { app_metadata = { plan = "pro" } }, nil, { idempotent = true }))
            end
            local n, per = count_paths("PATCH", "/api/v2/users/")
            assert.are.equal(450, n)
            local distinct = 0
            for _, c in pairs(per) do
                distinct = distinct + 1
                assert.are.equal(1, c)
            end
            assert.are.equal(450, distinct)
            local pro = assert(mgmt:request("GET", "/users", nil, nil,
                { q = "app_metadata.plan:pro AND app_metadata.tier:gold", include_totals = true,
                  per_page = 0 }))
            assert.are.equal(450, pro.total)
        end)
    end

    it("shows why: patching while paging by the default order misses users", function()
        local mgmt = client("http")
        local seen, distinct, twice = {}, 0, 0
        local users = mgmt:each("/users", nil, { q = "app_metadata.tier:gold", per_page = 100 })
        for user in users do
            if seen[user.user_id] then twice = twice + 1 else distinct = distinct + 1 end
            seen[user.user_id] = true
            assert(mgmt:request("PATCH", "/users/{id}", { id = user.user_id },
                { app_metadata = { plan = "pro" } }))
        end
        assert.is_nil(users.err)
        assert.is_true(distinct < 450 and twice > 0, distinct .. " users, " .. twice .. " twice")
    end)

    it("can also page lazily by a sort that patching does not change (created_at)", function()
        local mgmt = client("http")
        local seen = {}
        local users = mgmt:each("/users", nil, { q = "app_metadata.tier:gold",
            sort = "created_at:1", per_page = 50 })
        for user in users do
            assert.is_nil(seen[user.user_id])
            seen[user.user_id] = true
            assert(mgmt:request("PATCH", "/users/{id}", { id = user.user_id },
                { app_metadata = { plan = "pro" } }))
        end
        assert.is_nil(users.err)
        assert.are.equal(450, users.pager.count)
        assert.are.equal(450, (count_paths("PATCH", "/api/v2/users/")))
    end)

    it("pages a checkpoint endpoint (from/take/next) and offset pages of /organizations",
        function()
        local mgmt = client("https")
        local pages, ids = 0, {}
        local p = mgmt:pages("/organizations", nil, { take = 100 })
        for items, answer in p do
            pages = pages + 1
            assert.are.equal("table", type(answer))
            for _, org in ipairs(items) do ids[org.id] = true end
        end
        assert.is_nil(p.err)
        assert.are.equal(3, pages)
        local n = 0
        for _ in pairs(ids) do n = n + 1 end
        assert.are.equal(250, n)
        local froms = {}
        for _, r in ipairs(recorded()) do
            if r.path == "/api/v2/organizations" then froms[#froms + 1] = r.query end
        end
        assert.are.equal("take=100", froms[1])
        assert.truthy(froms[2]:match("^from=[%w_-]+&take=100$"))
        local all = assert(mgmt:each("/organizations", nil, { per_page = 40 }):all())
        assert.are.equal(250, #all)
    end)

    it("stops at the 1,000-result cap with an error naming the export job", function()
        control(server, "POST", "/__control/seed", { users = 1200 })
        local mgmt = client("http")
        local users = mgmt:each("/users", nil, { per_page = 100 })
        local n = 0
        for _ in users do n = n + 1 end
        assert.are.equal(1000, n)
        assert.are.equal("result_cap", users.err.error_code)
        assert.are.equal(1201, users.total)
        assert.truthy(tostring(users.err):find("mgmt:export_users", 1, true))
        assert.truthy(tostring(users.err):find("users-exports", 1, true))
        assert.are.equal(10, (count_paths("GET", "/api/v2/users")))
        -- Starting beyond the cap: Auth0's own 400 becomes the same error.
        local late = mgmt:pages("/users", nil, { page = 20, per_page = 50 })
        assert.is_nil(late())
        assert.are.equal("result_cap", late.err.error_code)
        assert.are.equal(400, late.err.status)
    end)

    it("exports 2,000 users as gzipped NDJSON and as CSV into a file, waiting for the job",
        function()
        control(server, "POST", "/__control/seed", { users = 2000 })
        local mgmt = client("https")
        local out = assert(mgmt:export_users{ connection_id = "con_0000000000000001",
            fields = { "user_id", "email", { name = "app_metadata.n", export_as = "n" } },
            interval = FAST.interval, max_interval = FAST.max_interval, timeout = FAST.timeout })
        assert.are.equal("completed", out.job.status)
        assert.are.equal(2000, #out.records)
        assert.are.same({ user_id = "auth0|scale-00001", email = "user00001@scale.example.com",
            n = 1 }, out.records[1])
        assert.are.equal("2000", tostring(out.records[2000].n))
        local file = tmp .. "/export.csv"
        local csv = assert(mgmt:export_users{ format = "csv", file = file, limit = 2000,
            fields = { "user_id", "email" }, interval = 0.01, max_interval = 0.05 })
        assert.are.equal(2000, csv.count)
        local text = h.read(file)
        assert.are.equal("user_id,email\r\nauth0|123,test@example.com\r\n",
            text:sub(1, #"user_id,email\r\nauth0|123,test@example.com\r\n"))
        -- The download went without the bearer token.
        for _, r in ipairs(recorded()) do
            if r.path:match("^/__downloads/") then assert.is_nil(r.headers.authorization) end
        end
        local polls = 0
        for _, r in ipairs(recorded()) do
            if r.path:match("^/api/v2/jobs/job_") then polls = polls + 1 end
        end
        assert.are.equal(6, polls)      -- pending, processing, completed, twice
    end)

    it("imports users and collects the errors of the job", function()
        local mgmt = client("http")
        local out = assert(mgmt:import_users{ connection_id = "con_0000000000000001",
            users = { { email = "new1@example.com" }, { email = "bad-address" },
                { name = "no email" }, { email = "user00002@scale.example.com" },
                { email = "new2@example.com", user_metadata = { lang = "fr" } } },
            upsert = false, interval = 0.01, max_interval = 0.05 })
        assert.are.same({ failed = 3, inserted = 2, updated = 0, total = 5 }, out.job.summary)
        local codes = {}
        for i, e in ipairs(out.errors) do codes[i] = e.errors[1].code end
        assert.are.same({ "INVALID_FORMAT", "OBJECT_REQUIRED", "DUPLICATED_USER" }, codes)
        local found = assert(mgmt:request("GET", "/users", nil, nil, { q = "email:new*" }))
        assert.are.equal(2, #found)
        local upload
        for _, r in ipairs(recorded()) do
            if r.path == "/api/v2/jobs/users-imports" then upload = r end
        end
        assert.truthy(upload.headers["content-type"]:match("^multipart/form%-data; boundary="))
    end)

    it("wait_job reports a job still pending when its time is up", function()
        control(server, "POST", "/__control/jobs", { polls_per_phase = 1000 })
        local mgmt = client("http")
        local job = assert(mgmt:request("POST", "/jobs/users-exports", nil, { format = "json" }))
        local started = socket.gettime()
        local done, err = mgmt:wait_job(job.id, { interval = 0.02, timeout = 0.2 })
        assert.is_nil(done)
        assert.are.equal("job_timeout", err.error_code)
        assert.are.equal("pending", err.job.status)
        assert.is_true(socket.gettime() - started < 1)
    end)

    it("finishes 500 calls under a rate limit in waiting mode, and fails without it",
        function()
        control(server, "POST", "/__control/bucket", { limit = 5, window = 5 })
        local strict = client("http", { retries = 0 })
        local failed
        local started = socket.gettime()
        for _ = 1, 6 do
            local ok, err = strict:request("GET", "/users/{id}", { id = "auth0|123" })
            if not ok then failed = err break end
        end
        assert.are.equal(429, failed and failed.status)
        -- A limit this client's own speed is sure to reach (under valgrind, or on a busy
        -- machine, 50 calls per 0.25 s was not always reached): half the calls it made per
        -- 0.25 s just now, at most 50.
        local per_call = (socket.gettime() - started) / 6
        local limit = math.max(2, math.min(50, math.floor(0.25 / per_call / 2)))
        control(server, "POST", "/__control/bucket", { limit = limit, window = 0.25 })
        local mgmt = client("http", { retries = 0, wait_for_reset = 30 })
        for i = 1, 500 do
            local user, err = mgmt:request("GET", "/users/{id}", { id = "auth0|123" })
            assert(user, "call " .. i .. ": " .. tostring(err))
        end
        local bucket = control(server, "GET", "/__control/bucket")
        assert.is_true(bucket.refused >= 1)
        -- Pacing by x-ratelimit-remaining avoids most of the 429s.
        control(server, "POST", "/__control/bucket", { limit = 50, window = 0.25 })
        local paced = client("http", { retries = 0, wait_for_reset = 30, pace = true })
        for i = 1, 200 do
            assert(paced:request("GET", "/users/{id}", { id = "auth0|123" }), "paced " .. i)
        end
        bucket = control(server, "GET", "/__control/bucket")
        assert.is_true(bucket.refused <= 5, "refused " .. bucket.refused)
    end)

    it("keeps HTTPS connections alive: 50 calls on one connection, or 51 without", function()
        management.close_idle()     -- connections kept from earlier cases
        local before = control(server, "GET", "/__control/connections")
        local mgmt = client("https")
        for _ = 1, 50 do assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" })) end
        local after = control(server, "GET", "/__control/connections")
        assert.are.equal(1, after.https - before.https)
        local closing = client("https", { keepalive = false })
        for _ = 1, 50 do assert(closing:request("GET", "/users/{id}", { id = "auth0|123" })) end
        local last = control(server, "GET", "/__control/connections")
        assert.are.equal(51, last.https - after.https)
    end)


    it("opens a new connection when the server closed the kept one while idle", function()
        control(server, "POST", "/__control/idle-timeout", { seconds = 0.2 })
        local mgmt = client("https")
        assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        local before = control(server, "GET", "/__control/connections")
        socket.sleep(0.5)
        assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        local after = control(server, "GET", "/__control/connections")
        assert.are.equal(1, after.https - before.https)
        control(server, "POST", "/__control/idle-timeout", { seconds = 0 })
    end)

    it("retries a PATCH after a 503 only when the call says it is idempotent", function()
        local mgmt = client("http", { max_wait = 50 })
        assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        control(server, "POST", "/__control/ratelimit", { count = 1, status = 503,
            retry_after = 0.01 })
        local _, err = mgmt:request("PATCH", "/users/{id}", { id = "auth0|123" }, { name = "a" })
        assert.are.equal(503, err.status)
        control(server, "POST", "/__control/ratelimit", { count = 1, status = 503,
            retry_after = 0.01 })
        local user = assert(mgmt:request("PATCH", "/users/{id}", { id = "auth0|123" },
            { name = "b" }, nil, { idempotent = true }))
        assert.are.equal("b", user.name)
    end)

    it("forgets its token on request and fetches a new one", function()
        local mgmt = client("http")
        assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        mgmt:forget_token()
        assert(mgmt:request("GET", "/users/{id}", { id = "auth0|123" }))
        assert.are.equal(2, (count_paths("POST", "/oauth/token")))
    end)

    it("gives integral numbers as integers on every Lua", function()
        local mgmt = client("http")
        local page = assert(mgmt:request("GET", "/users", nil, nil,
            { include_totals = true, per_page = 1, q = "_exists_:created_at" }))
        assert.are.equal("600", tostring(page.total))
        assert.are.equal("1", tostring(page.limit))
        if math.type then assert.are.equal("integer", math.type(page.total)) end
        local n = page.users[1].app_metadata.n
        assert.are.equal(tostring(math.floor(n)), tostring(n))
        assert.are.equal("number", type(cjson.decode("1.5")))
    end)
end)
