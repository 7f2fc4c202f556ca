-- The handlers of spec/openresty/automation: the management client's automation features
-- inside nginx (cosockets), each answering JSON. One client per worker and kind, made at the
-- first request of the worker (as the docs say: once, not per request).
-- luacheck: globals ngx
local management = require "auth0.apiv2.management"
local cjson = require "cjson.safe"

local M = {}

local clients = {}

local function client(kind)
    if clients[kind] then return clients[kind] end
    local opts = {
        domain = "tenant.example.com", base_url = os.getenv("AUTO_BASE_URL"),
        client_id = os.getenv("AUTO_CLIENT_ID"), client_secret = os.getenv("AUTO_CLIENT_SECRET"),
        shared_dict = "auth0_tokens",
    }
    if kind == "bulk" then
        opts.retries, opts.wait_for_reset, opts.pace = 0, 60, true
    elseif kind == "closing" then
        opts.keepalive = false
    end
    clients[kind] = management.new(opts)
    return clients[kind]
end

local function reply(value)
    ngx.header["Content-Type"] = "application/json"
    ngx.header["X-Worker-Id"] = tostring(ngx.worker.id())
    ngx.say(cjson.encode(value))
end

local function err_of(err)
    return err and { code = err.error_code, status = err.status, text = tostring(err) } or nil
end

function M.user()
    local user, err = client("main"):request("GET", "/users/{id}", { id = "auth0|123" })
    reply{ email = user and user.email, err = err_of(err), worker = ngx.worker.id() }
end

function M.patch_all()
    local mgmt = client("main")
    local ids, patched = {}, 0
    local users = mgmt:each("/users", nil, { q = "app_metadata.tier:gold", per_page = 100,
        fields = "user_id" })
    for user in users do ids[#ids + 1] = user.user_id end
    if users.err then return reply{ err = err_of(users.err) } end
    for _, id in ipairs(ids) do
        local ok, err = mgmt:request("PATCH", "/users/{id}", { id = id },
            { app_metadata = { plan = "pro" } }, nil, { idempotent = true })
        if not ok then return reply{ err = err_of(err), patched = patched } end
        patched = patched + 1
    end
    reply{ listed = #ids, total = users.total, patched = patched }
end

function M.checkpoint()
    local p = client("main"):pages("/organizations", nil, { take = 100 })
    local pages, ids = 0, {}
    for items in p do
        pages = pages + 1
        for _, org in ipairs(items) do ids[#ids + 1] = org.id end
    end
    reply{ pages = pages, count = #ids, err = err_of(p.err) }
end

function M.cap()
    local users = client("main"):each("/users", nil, { per_page = 100 })
    local n = 0
    for _ in users do n = n + 1 end
    reply{ count = n, err = err_of(users.err) }
end

function M.export()
    local out, err = client("main"):export_users{ connection_id = "con_0000000000000001",
        fields = { "user_id", "email" }, interval = 0.02, max_interval = 0.1, timeout = 30 }
    reply{ count = out and #out.records, first = out and out.records[1], err = err_of(err) }
end

function M.import()
    local out, err = client("main"):import_users{ connection_id = "con_0000000000000001",
        users = { { email = "n1@example.com" }, { email = "broken" },
            { email = "user00003@scale.example.com" } },
        interval = 0.02, max_interval = 0.1 }
    local codes = {}
    for i, e in ipairs(out and out.errors or {}) do codes[i] = e.errors[1].code end
    reply{ summary = out and out.job.summary, codes = codes, err = err_of(err) }
end

function M.bulk()
    local mgmt, ok = client("bulk"), 0
    local n = tonumber(ngx.var.arg_n) or 500
    for i = 1, n do
        local user, err = mgmt:request("GET", "/users/{id}", { id = "auth0|123" })
        if not user then return reply{ ok = ok, failed_at = i, err = err_of(err) } end
        ok = ok + 1
    end
    reply{ ok = ok }
end

function M.many()
    local mgmt = client(ngx.var.arg_kind == "closing" and "closing" or "main")
    local n = tonumber(ngx.var.arg_n) or 30
    for i = 1, n do
        local user, err = mgmt:request("GET", "/users/{id}", { id = "auth0|123" })
        if not user then return reply{ failed_at = i, err = err_of(err) } end
    end
    reply{ ok = n, worker = ngx.worker.id() }
end

return M
