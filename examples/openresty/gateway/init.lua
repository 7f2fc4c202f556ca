--- The example gateway's settings and per-worker state.
-- Settings come from environment variables (nginx passes to its workers only those named by an
-- `env` directive): they are checked once in the master (`init_by_lua`), so a mistake stops
-- nginx at start-up instead of failing requests. Each worker then decodes the API secret into
-- its own key object, once, in `init_worker_by_lua`: requests never see the secret text.
-- luacheck: globals ngx
local token = require "auth0.apiv2.token"
local blacklist = require "auth0.apiv2.blacklist"
local revocation = require "gateway.revocation"

local M = {}

local tonumber, tostring, error, os_getenv = tonumber, tostring, error, os.getenv

M.DEFAULT_REFRESH_SECONDS = 60
M.LEEWAY = 5                -- seconds of clock skew allowed on exp, nbf and iat
M.BLACKLIST_TIMEOUT = 5000  -- ms, for each of connect, TLS handshake, send and read

--- How many key objects this worker has made: 1 after init_worker, and it must stay 1.
M.keys_made = 0

local worker   -- this worker's state: key, aud, blacklist client

local function setting(name)
    local value = os_getenv(name)
    if value == "" then return nil end
    return value
end

-- The settings, checked; raises with a message naming the variable.
local function read_settings()
    local s = {
        aud = setting("AUTH0_API_KEY"),
        domain = setting("AUTH0_DOMAIN"),
        base_url = setting("AUTH0_BASE_URL"),
        refresh = setting("GATEWAY_REFRESH_SECONDS"),
    }
    if not s.aud then
        error("gateway: AUTH0_API_KEY (the tenant's API key, the tokens' aud) is not set", 0)
    end
    if not setting("AUTH0_API_SECRET") then
        error("gateway: AUTH0_API_SECRET (the tenant's API secret, base64url) is not set", 0)
    end
    local refresh = tonumber(s.refresh or M.DEFAULT_REFRESH_SECONDS)
    if not refresh or refresh <= 0 then
        error("gateway: GATEWAY_REFRESH_SECONDS must be a positive number of seconds", 0)
    end
    s.refresh = refresh
    return s
end

--- Checks the settings in the master (init_by_lua): a bad secret or a missing variable stops
-- nginx with a clear message, and one token is signed and verified as a self-test. The key
-- made here is wiped at once; workers make their own. (Signing here also draws the master's
-- first random bytes before the fork: the workers must not hand out the same jti values.)
function M.check_settings()
    local s = read_settings()
    local key = token.key(setting("AUTH0_API_SECRET"))
    local jwt = token.new{ aud = s.aud, scopes = { "read:users" }, lifetime = 60 }:sign(key)
    local claims, reason = token.verify(jwt, key, { audience = s.aud, scopes = { "read:users" } })
    key:wipe()
    if not claims then error("gateway: self-test failed: " .. tostring(reason), 0) end
end

--- Per worker (init_worker_by_lua): the key object, the blacklist client, the refresh timer.
function M.init_worker()
    local s = read_settings()
    -- nginx does not seed math.random: every worker (and every start) would draw the same
    -- sequence, and the blacklist helper's retry jitter comes from it.
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
    local key = token.key(setting("AUTH0_API_SECRET"))
    M.keys_made = M.keys_made + 1
    local client
    if s.domain or s.base_url then
        -- The client signs its own short-lived blacklist:tokens token with the same key.
        client = blacklist.new{
            domain = s.domain, base_url = s.base_url, key = key, aud = s.aud,
            timeout = M.BLACKLIST_TIMEOUT, retries = 2,
        }
    end
    worker = { key = key, aud = s.aud, blacklist = client, refresh = s.refresh }
    if client then
        local ok, err = revocation.start_refresh(client, s.aud, s.refresh)
        if not ok then ngx.log(ngx.ERR, "gateway: cannot start the blacklist refresh: ", err) end
    end
end

--- This worker's key object (never a new one).
function M.key() return worker.key end

--- The tenant's API key: the `aud` of every token this gateway issues and accepts.
function M.aud() return worker.aud end

--- The blacklist client, or nil when neither AUTH0_DOMAIN nor AUTH0_BASE_URL is set.
function M.blacklist() return worker.blacklist end

return M
