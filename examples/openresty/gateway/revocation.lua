--- Revoked tokens, shared by all workers in `lua_shared_dict auth0_revoked`.
-- Filled by the admin endpoints (gateway.admin) and refreshed from Auth0's blacklist
-- (`GET /api/v2/blacklists/tokens`) by an `ngx.timer.every` in worker 0, over cosockets.
-- Entries are written with `safe_set`: a full dictionary refuses new entries (and says so in
-- the error log) instead of evicting old ones, which would silently un-revoke tokens.
-- luacheck: globals ngx
local M = {}

local type, tostring, pcall, ipairs, error = type, tostring, pcall, ipairs, error
local floor = math.floor

M.DICT = "auth0_revoked"
-- An entry made from a token with `exp` is kept this long after it (more than any leeway).
local KEEP_AFTER_EXP = 600

local function dict()
    local d = ngx.shared[M.DICT]
    if not d then
        error("gateway: nginx.conf needs `lua_shared_dict " .. M.DICT .. " 10m;`", 2)
    end
    return d
end

-- (aud, jti) as one key, unambiguous whatever the strings hold. Revocation keys start with a
-- digit, so they never meet the "meta:" keys.
local function entry_key(aud, jti)
    return #aud .. ":" .. aud .. jti
end

--- Whether (aud, jti) is revoked: the `is_revoked` callback of token.verify.
-- @return true, false, or nil and an error (token.verify then refuses the token)
function M.is_revoked(aud, jti)
    if type(jti) ~= "string" then return false end   -- no jti: it can never be revoked
    if type(aud) ~= "string" then aud = "" end
    local value, err = dict():get(entry_key(aud, jti))
    if value == nil and err then return nil, err end
    return value ~= nil
end

--- Marks (aud, jti) revoked in every worker.
-- @tparam string aud
-- @tparam string jti
-- @tparam[opt] number exp the token's exp: the entry is dropped a while after it
-- @return true, or nil and an error ("no memory" when the dictionary is full)
function M.add(aud, jti, exp)
    local ttl = 0
    if type(exp) == "number" then
        ttl = floor(exp - ngx.time()) + KEEP_AFTER_EXP
        if ttl <= 0 then return true end                   -- long expired: nothing to refuse
    end
    local ok, err = dict():safe_set(entry_key(aud, jti), true, ttl)
    if not ok then
        ngx.log(ngx.ERR, "gateway: cannot record a revoked token: ", err)
        return nil, err
    end
    return true
end

local function meta_set(name, value)
    dict():safe_set("meta:" .. name, value)
end

--- Copies Auth0's list of revoked tokens of `aud` into the dictionary (runs where cosockets
-- work: a timer, or the content phase).
-- @return the number of entries, or nil and an error
function M.refresh(client, aud)
    local list, err = client:list{ aud = aud }
    if not list then
        meta_set("last_error", tostring(err))
        return nil, tostring(err)
    end
    for _, entry in ipairs(list) do
        local ok, aerr = M.add(entry.aud or aud, entry.jti)
        if not ok then
            meta_set("last_error", "dictionary: " .. tostring(aerr))
            return nil, "dictionary: " .. tostring(aerr)
        end
    end
    meta_set("last_refresh", ngx.now())
    meta_set("last_count", #list)
    meta_set("last_error", nil)
    dict():incr("meta:refreshes", 1, 0)
    return #list
end

--- The refresh state: `last_refresh` (seconds, nil before the first success), `last_count`,
-- `last_error`, `refreshes`.
function M.status()
    local d = dict()
    return {
        last_refresh = d:get("meta:last_refresh"),
        last_count = d:get("meta:last_count"),
        last_error = d:get("meta:last_error"),
        refreshes = d:get("meta:refreshes") or 0,
        free_bytes = d.free_space and d:free_space() or nil,
    }
end

--- Starts the periodic refresh in worker 0 only (the dictionary is shared); the first run is
-- immediate. A run still going when the next is due is not doubled.
-- @return true, or nil and an error
function M.start_refresh(client, aud, interval)
    if ngx.worker.id() ~= 0 then return true end
    local running = false
    local function tick(premature)
        if premature or running then return end
        running = true
        local ok, count, err = pcall(M.refresh, client, aud)
        running = false
        if not ok then
            ngx.log(ngx.ERR, "gateway: blacklist refresh failed: ", count)
        elseif not count then
            ngx.log(ngx.ERR, "gateway: blacklist refresh failed: ", err)
        end
    end
    local ok, err = ngx.timer.at(0, tick)
    if not ok then return nil, err end
    return ngx.timer.every(interval, tick)
end

return M
