--- The handlers of one test node (spec/fleet/nginx.conf): a protected location, and the
-- endpoints the driver (spec/fleet/run) uses to revoke, read the status and the metrics.
-- luacheck: globals ngx
local token = require "auth0.apiv2.token"
local nginx = require "auth0.apiv2.nginx"
local blacklist = require "auth0.apiv2.blacklist"
local cjson = require "cjson.safe"

local M = {}

local settings, store, key, aud

function M.configure(s)
    settings = s
end

function M.init_worker()
    aud = nginx.env("AUTH0_API_KEY")
    key = token.key(nginx.env("AUTH0_API_SECRET"))
    store = nginx.revocations{
        dict = "auth0_revoked", aud = aud,
        blacklist = blacklist.new{ base_url = settings.auth0, key = key, aud = aud,
                                   timeout = 2000, retries = 0 },
        interval = settings.poll_interval,
        redis = { host = "127.0.0.1", port = settings.redis_port, timeout = 500,
                  password = settings.redis_password ~= "" and settings.redis_password or nil,
                  db = settings.redis_db ~= 0 and settings.redis_db or nil,
                  on_stale = settings.on_stale, max_stale = settings.max_stale,
                  sync_interval = settings.sync_interval, lease = settings.lease,
                  poll_interval = settings.poll_interval, backoff_max = 0.5 },
    }
    -- The guard gives the backend's series in serve_metrics and protects /guarded; /api
    -- checks with token.verify to see the verdict's reason.
    M.guard = nginx.guard{ verifier = token.verifier{ key = key, audience = aud },
                           revocations = store, metrics = "auth0_metrics" }
    local ok, err = M.guard:start()
    if not ok then ngx.log(ngx.ERR, "node: ", err) end
end

-- Which node and worker answered (the driver checks both workers of each node).
local function mark()
    ngx.header["X-Worker-Id"] = ngx.worker.id()
    ngx.header["X-Node"] = settings.node
end

local function reply(status, body)
    ngx.status = status
    mark()
    ngx.say(cjson.encode(body))
    return ngx.exit(status)
end

function M.protect()
    local header = ngx.var.http_authorization or ""
    local jwt = header:match("^Bearer (%S+)$")
    mark()
    if not jwt then return reply(401, { error = "unauthorized" }) end
    local claims, reason = token.verify(jwt, key, { audience = aud, is_revoked = store.is_revoked })
    if not claims then return reply(401, { error = "invalid_token", error_description = reason }) end
end

-- /guarded: the guard's own answer (a stale "closed" store is its 503).
function M.guarded()
    mark()
    M.guard:protect{}
end

function M.revoke()
    ngx.req.read_body()
    local body = cjson.decode(ngx.req.get_body_data() or "")
    if type(body) ~= "table" or type(body.jti) ~= "string" then
        return reply(400, { error = "want {aud, jti, exp}" })
    end
    local ok, err = store:revoke(body.aud or aud, body.jti, body.exp, { auth0 = body.auth0 == true })
    if not ok then return reply(502, { error = tostring(err) }) end
    return reply(201, { ok = true })
end

function M.status()
    local s = store:status()
    s.worker = ngx.worker.id()
    s.pid = ngx.worker.pid()
    s.node = settings.node
    return reply(200, s)
end

function M.guard_metrics()
    M.guard:serve_metrics()
end

function M.metrics()
    ngx.header["Content-Type"] = "text/plain; version=0.0.4"
    ngx.say(store.backend:metrics())
end

-- The request-path cost: n lookups through the store against n plain dict gets of the same
-- keys (a hit and a miss each), timed with ngx.update_time/ngx.now around the loops.
function M.bench_lookup()
    local n = tonumber(ngx.var.arg_n) or 1000000
    local dict = ngx.shared.auth0_revoked
    local jti = "bench-" .. ngx.worker.pid()
    store:record(aud, jti)
    local is_revoked = store.is_revoked
    local hit_key = #aud .. ":" .. aud .. jti
    local function time(fn)
        ngx.update_time()
        local t0 = ngx.now()
        fn()
        ngx.update_time()
        return (ngx.now() - t0) / n * 1e9
    end
    local get = dict.get
    local sink = 0
    local dict_ns = time(function()
        for i = 1, n do
            if get(dict, (i % 2 == 0) and hit_key or (#aud .. ":" .. aud .. "miss")) then
                sink = sink + 1
            end
        end
    end)
    local store_ns = time(function()
        for i = 1, n do
            if is_revoked(aud, (i % 2 == 0) and jti or "miss") then sink = sink + 1 end
        end
    end)
    return reply(200, { n = n, dict_get_ns = dict_ns, is_revoked_ns = store_ns, hits = sink })
end

return M
