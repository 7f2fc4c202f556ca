--- Option tables of the public functions: one check for "a table, with known names only",
-- and the one way values are shown in messages.
local M = {}

local type, pairs, error = type, pairs, error
local format, gsub, sub = string.format, string.gsub, string.sub

local SHOW_MAX = 64

--- A value safe to show in an error: printable ASCII kept, everything else as \ddd, and
-- long values cut (a 100 MB string must not become a 100 MB message).
function M.show(value)
    if type(value) ~= "string" then return "(" .. type(value) .. ")" end
    local cut = #value > SHOW_MAX and "..." or ""
    local text = gsub(sub(value, 1, SHOW_MAX), "[^%w%p ]",
        function(c) return format("\\%d", c:byte()) end)
    return "'" .. text .. cut .. "'"
end
local show = M.show

--- Raises "<fname>: options must be a table" or "<fname>: unknown option 'x'".
-- @tparam string fname the public function, for messages
-- @param opts the options
-- @tparam table allowed set of the option names
-- @tparam number level the error level as seen by the caller of check
function M.check(fname, opts, allowed, level)
    if type(opts) ~= "table" then error(fname .. ": options must be a table", level + 1) end
    for name in pairs(opts) do
        if not allowed[name] then
            error(format("%s: unknown option %s", fname, show(name)), level + 1)
        end
    end
    return opts
end

return M
