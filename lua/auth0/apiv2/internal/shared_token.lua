--- One client credentials token per nginx node: kept in a `lua_shared_dict` that all workers
-- see, and fetched by one worker at a time (a lock entry added with `add`, which only one
-- worker can win), while the others look into the dict until the token is there. Within a
-- worker the client's own single-flight rule still applies, so a node sends one /oauth/token
-- request where it would send one per worker. The dict holds the bearer token (never the
-- client secret): name a dict only this code and the operator's own Lua can read.
local M = {}

local type, tonumber, tostring, error, rawget = type, tonumber, tostring, error, rawget
local match, format = string.match, string.format

M.POLL_INTERVAL = 0.01    -- s between looks into the dict while another worker fetches

--- The shared dict of that name.
-- @raise outside nginx, or when nginx has no `lua_shared_dict` of that name
function M.dict(fname, name)
    local ngx = rawget(_G, "ngx")
    if type(name) ~= "string" or name == "" then
        error(fname .. ": shared_dict must be the name of a lua_shared_dict", 3)
    end
    if type(ngx) ~= "table" or type(ngx.shared) ~= "table" then
        error(fname .. ": shared_dict needs nginx (lua_shared_dict " .. name .. ")", 3)
    end
    local dict = ngx.shared[name]
    if not dict then
        error(fname .. ": no lua_shared_dict named " .. name .. " in nginx.conf", 3)
    end
    return dict
end

--- The token in the dict and when to renew it, or nil.
function M.get(dict, key, now)
    local value = dict:get(key)
    if type(value) ~= "string" then return nil end
    local renew_at, jwt = match(value, "^(%d+%.?%d*) (.+)$")
    renew_at = tonumber(renew_at)
    if not renew_at or now >= renew_at then return nil end
    return jwt, renew_at
end

--- Gets the token through the dict: the one there, else one fetched by this worker (when it
-- wins the lock) or by another (waited for up to `longest` seconds).
-- @tparam function fetch `() -> jwt, renew_at | nil, err`
-- @tparam table conn the client's connection (its clock and sleep)
-- @treturn string jwt
-- @treturn number renew_at
-- @return[2] nil, the error
function M.fetch(dict, key, fetch, conn, longest, last_try)
    local now = conn.now()
    local jwt, renew_at = M.get(dict, key, now)
    if jwt then return jwt, renew_at end
    local lock = key .. "#fetching"
    if dict:add(lock, true, longest) then
        local err
        jwt, renew_at = fetch()
        if jwt then
            local ttl = renew_at - conn.now()
            if ttl > 0 then
                local ok, serr = dict:set(key, format("%.3f", renew_at) .. " " .. jwt, ttl)
                if not ok then
                    -- The token still serves this worker; the others fetch their own.
                    local ngx = rawget(_G, "ngx")
                    if ngx and ngx.log then
                        ngx.log(ngx.WARN, "management: cannot share the token: ", tostring(serr))
                    end
                end
            end
        else
            err = renew_at
        end
        dict:delete(lock)
        if jwt then return jwt, renew_at end
        return nil, err
    end
    local waited = 0
    while waited < longest and not last_try do
        conn.policy.sleep(M.POLL_INTERVAL)
        waited = waited + M.POLL_INTERVAL
        jwt, renew_at = M.get(dict, key, conn.now())
        if jwt then return jwt, renew_at end
        if not dict:get(lock) then
            -- The other worker failed (its error is its own): try once ourselves.
            return M.fetch(dict, key, fetch, conn, longest, true)
        end
    end
    return nil, { stage = "token", error_code = "timeout", message = "gave up waiting for "
        .. "the token another nginx worker is getting" }
end

return M
