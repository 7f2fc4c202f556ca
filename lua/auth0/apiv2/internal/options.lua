--- Option tables of the public functions: one check for "a table, with known names only",
-- the one way values are shown in messages, and the one way a raised message loses its
-- position.
local M = {}

local type, pairs, error, tostring = type, pairs, error, tostring
local find, format, gsub, sub = string.find, string.format, string.gsub, string.sub

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

--- A name as it stands in a message's path ("claims.NAME", "scopes.NAME"): itself when it is a
-- short plain word, else shown as `show` does (quoted, escaped, cut), so a 10 MiB claim name
-- gives a message of a few dozen bytes.
function M.name(value)
    if type(value) == "string" and #value <= SHOW_MAX and not find(value, "[^%w_%-]") then
        return value
    end
    return show(value)
end

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
