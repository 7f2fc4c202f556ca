--- Numbers from the API as integers where they are integral. lua-cjson makes every JSON number
-- a float, so on Lua 5.3 and 5.4 a `total` of 115 reads `115.0` (and prints so); this walks a
-- decoded answer once and turns each integral float that fits into an integer. Lua 5.1 and
-- LuaJIT have one number type, which already prints `115`: nothing to do there.
local M = {}

local type, pairs = type, pairs
local math_type, tointeger = math.type, math.tointeger   -- luacheck: ignore 143

local function walk(t, depth)
    if depth > 1000 then return end     -- the JSON layer refuses deeper documents anyway
    for k, v in pairs(t) do
        local kind = type(v)
        if kind == "number" then
            if math_type(v) == "float" then
                local i = tointeger(v)
                if i then t[k] = i end
            end
        elseif kind == "table" then
            walk(v, depth + 1)
        end
    end
end

--- Converts in place and returns the value.
function M.integral(value)
    if not tointeger then return value end
    if type(value) == "table" then
        walk(value, 1)
    elseif type(value) == "number" and math_type(value) == "float" then
        return tointeger(value) or value
    end
    return value
end

return M
