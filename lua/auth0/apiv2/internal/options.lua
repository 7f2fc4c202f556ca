--- Option tables of the public functions: one check for "a table, with known names only",
-- the one way values are shown in messages, and the one way a raised message loses its
-- position.
local M = {}

local type, pairs, error, tostring = type, pairs, error, tostring
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

--- A raised message without the "file:line: " position Lua put in front of it, for callers
-- that pass a message on under their own name.
-- @param err the raised value
-- @treturn string
function M.without_position(err)
    return (gsub(tostring(err), "^[^\n:]*:%d+: ", ""))
end

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
