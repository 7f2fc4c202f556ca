--- What the commands print: pretty and compact JSON, aligned tables, times as UTC text.
local json = require "auth0.apiv2.internal.json"
local rules = require "auth0.apiv2.internal.claims"

local M = {}

local type, pairs, ipairs, pcall, tostring, tonumber, next, assert =
    type, pairs, ipairs, pcall, tostring, tonumber, next, assert
local format, gsub, rep = string.format, string.gsub, string.rep
local concat, sort = table.concat, table.sort
local floor = math.floor
local bytes_less = json.bytes_less

local LAST_DATE = 253402300799          -- 9999-12-31T23:59:59Z: the last time os.date shows
local TIME_CLAIMS = rules.TIMES

-- Deterministic pretty JSON: object keys sorted by bytes, two spaces per level. Scalars are
-- written by auth0.apiv2.internal.json (JSON.stringify's bytes). An empty table is `{}` (a
-- decoded `[]` cannot be told apart from `{}`).
local function pretty(value, indent, out)
    if type(value) ~= "table" or value == json.empty_array or next(value) == nil then
        out[#out + 1] = json.encode(value) or json.encode(tostring(value))
        return
    end
    local inner = indent .. "  "
    local count = 0
    for _ in pairs(value) do count = count + 1 end
    if count == #value then
        out[#out + 1] = "[\n"
        for i, v in ipairs(value) do
            out[#out + 1] = inner
            pretty(v, inner, out)
            out[#out + 1] = i < count and ",\n" or "\n"
        end
        out[#out + 1] = indent .. "]"
        return
    end
    local names = {}
    for name in pairs(value) do names[#names + 1] = tostring(name) end
    sort(names, bytes_less)
    out[#out + 1] = "{\n"
    for i, name in ipairs(names) do
        local v = value[name]
        if v == nil then v = value[tonumber(name)] end
        out[#out + 1] = inner .. json.encode(name) .. ": "
        pretty(v, inner, out)
        out[#out + 1] = i < #names and ",\n" or "\n"
    end
    out[#out + 1] = indent .. "}"
end

--- Pretty JSON text of a value: keys sorted by bytes, two-space indent, no final newline.
-- @param value a Lua value of JSON shape (strings, numbers, booleans, json.null, tables)
-- @treturn string
function M.pretty(value)
    local out = {}
    pretty(value, "", out)
    return concat(out)
end

--- Compact JSON with sorted keys, for --json; raw JSON texts are spliced in by the callers.
function M.compact(value)
    return (assert(json.encode(value, "output")))
end

--- A list as it is, or json.empty_array when it is empty (so that it is written `[]`).
function M.list_or_empty(list)
    return #list > 0 and list or json.empty_array
end

--- Rows as aligned columns under a header row; the last column is not padded.
function M.write_table(ctx, header, rows)
    local widths = {}
    local function measure(row)
        for i = 1, #row - 1 do
            if not widths[i] or #row[i] > widths[i] then widths[i] = #row[i] end
        end
    end
    measure(header)
    for _, row in ipairs(rows) do measure(row) end
    local out = {}
    local function line(row)
        local cells = {}
        for i = 1, #row - 1 do cells[i] = row[i] .. rep(" ", widths[i] - #row[i]) end
        cells[#row] = row[#row]
        out[#out + 1] = gsub(concat(cells, "  "), "%s+$", "") .. "\n"
    end
    line(header)
    for _, row in ipairs(rows) do line(row) end
    ctx.stdout:write(concat(out))
end

--- A time claim as UTC text, or nil when it is no whole number of seconds in years 1970..9999.
function M.utc(t)
    if type(t) ~= "number" or t ~= floor(t) or t < 0 or t > LAST_DATE then return nil end
    local ok, text = pcall(os.date, "!%Y-%m-%dT%H:%M:%SZ", t)
    return ok and text or nil
end
local utc = M.utc

--- The time claims present, as UTC text (json.null when not a time), for --json.
function M.times_of(claims)
    local times = {}
    for _, name in ipairs(TIME_CLAIMS) do
        if claims[name] ~= nil then times[name] = utc(claims[name]) or json.null end
    end
    return times
end

--- Writes the time claims as UTC text, noting an expired exp.
function M.write_times(ctx, claims)
    local lines = {}
    for _, name in ipairs(TIME_CLAIMS) do
        local v = claims[name]
        if v ~= nil then
            local text = utc(v)
            local note = ""
            if not text then
                text = "(not a time)"
            elseif name == "exp" and ctx.now() >= v then
                note = "  (expired)"
            end
            lines[#lines + 1] = format("  %-4s %s%s\n", name, text, note)
        end
    end
    if #lines > 0 then ctx.stdout:write("times (UTC):\n", concat(lines)) end
end

return M
