--- The clock: whole seconds since the epoch, from nginx's cached time inside OpenResty
-- (no system call per request) and from `os.time` elsewhere.
local M = {}

local os_time = os.time

--- Seconds since the epoch.
-- @treturn integer
function M.now()
    local ngx = rawget(_G, "ngx")
    if ngx and ngx.time then
        return ngx.time()
    end
    return os_time()
end

return M
