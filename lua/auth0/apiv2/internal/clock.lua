--- The clock: whole seconds since the epoch, from nginx's cached time inside OpenResty
-- (no system call per request) and from `os.time` elsewhere. Chosen once, when the module is
-- loaded: inside OpenResty `ngx` exists from init_by_lua on.
local M = {}

local ngx = rawget(_G, "ngx")

--- Seconds since the epoch.
-- @treturn integer
M.now = type(ngx) == "table" and type(ngx.time) == "function" and ngx.time or os.time

return M
