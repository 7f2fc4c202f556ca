--- What the commands print: pretty and compact JSON, aligned tables, times as UTC text.
local json = require "auth0.apiv2.internal.json"
local rules = require "auth0.apiv2.internal.claims"

local M = {}

local type, pairs, ipairs, pcall, tostring, tonumber, next, assert =
    type, pairs, ipairs, pcall, tostring, tonumber, next, assert
local byte, find, format, gsub, rep, sub = string.byte, string.find, string.format,
    string.gsub, string.rep, string.sub
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
    return M.json_controls(concat(out))
end

--- Compact JSON with sorted keys, for --json, safe for a terminal (see json_visible); raw
-- JSON texts are spliced in by the callers.
function M.compact(value)
    return M.json_visible(assert(json.encode(value, "output")))
end

---------------------------------------------------------------- terminal safety

-- Text from a token or a server reaches a terminal: control bytes in it would be obeyed (an
-- ESC starts a sequence that can recolour, retitle or rewrite the screen). They are shown as
-- Lua writes them, "\27" for ESC, and so are the C1 controls (U+0080..U+009F, "\194\155"),
-- the line and paragraph separators and the bidirectional overrides (U+2028/9, U+202A..E,
-- U+2066..9) and bytes that are not UTF-8.
local function decimal(bytes)
    return (gsub(bytes, ".", function(c) return "\\" .. byte(c) end))
end

-- Length of the valid UTF-8 sequence at i (1..4), or nil.
local function utf8_length(s, i)
    local c = byte(s, i)
    local n
    local low, high = 0x80, 0xBF
    if c < 0x80 then return 1
    elseif c >= 0xC2 and c <= 0xDF then n = 2
    elseif c >= 0xE0 and c <= 0xEF then
        n = 3
        if c == 0xE0 then low = 0xA0 elseif c == 0xED then high = 0x9F end
    elseif c >= 0xF0 and c <= 0xF4 then
        n = 4
        if c == 0xF0 then low = 0x90 elseif c == 0xF4 then high = 0x8F end
    else return nil end
    local second = byte(s, i + 1)
    if not second or second < low or second > high then return nil end
    for k = i + 2, i + n - 1 do
        local b = byte(s, k)
        if not b or b < 0x80 or b > 0xBF then return nil end
    end
    return n
end

-- Whether the UTF-8 sequence is one of the invisible controls above.
local function is_format_control(seq)
    if #seq == 2 then return byte(seq, 1) == 0xC2 and byte(seq, 2) <= 0x9F end
    if #seq ~= 3 or byte(seq, 1) ~= 0xE2 then return false end
    local b2, b3 = byte(seq, 2), byte(seq, 3)
    return (b2 == 0x80 and b3 >= 0xA8 and b3 <= 0xAE) or (b2 == 0x81 and b3 >= 0xA6 and b3 <= 0xA9)
end

--- Text made safe for a terminal, one line: every control byte and invisible control shown
-- (ESC as `\27`, a line break as `\10`), the rest as it is.
-- @tparam string text
-- @treturn string
function M.visible(text)
    text = gsub(tostring(text), "[%z\1-\31\127]", decimal)
    if not find(text, "[\128-\255]") then return text end
    local out, start, i, n = {}, 1, 1, #text
    while true do
        i = find(text, "[\128-\255]", i)
        if not i then break end
        local len = utf8_length(text, i)
        local seq = sub(text, i, i + (len or 1) - 1)
        if not len or is_format_control(seq) then
            out[#out + 1] = sub(text, start, i - 1)
            out[#out + 1] = decimal(seq)
            start = i + #seq
        end
        i = i + #seq
        if i > n then break end
    end
    out[#out + 1] = sub(text, start)
    return concat(out)
end

--- JSON text made safe for a terminal and written on one line, with the same meaning: the
-- white space between its tokens dropped (a token's own JSON may hold line breaks there), and
-- DEL and the invisible controls inside strings written as \u escapes (JSON.stringify lets them
-- through; the ones below U+0020 are escaped already). The text must be valid JSON.
-- @tparam string text
-- @treturn string
function M.json_visible(text)
    if find(text, "[\r\n\t ]") then
        local out, i = {}, 1
        while true do
            local q = find(text, '"', i, true)
            out[#out + 1] = (gsub(sub(text, i, (q or #text + 1) - 1), "[ \t\r\n]+", ""))
            if not q then break end
            local j = q + 1
            while true do       -- the closing quote: skip escaped characters
                local k = find(text, '["\\]', j)
                if byte(text, k) == 34 then j = k break end
                j = k + 2
            end
            out[#out + 1] = sub(text, q, j)
            i = j + 1
        end
        text = concat(out)
    end
    return M.json_controls(text)
end

--- JSON text with DEL and the invisible controls inside its strings written as \u escapes,
-- its layout kept (see json_visible).
function M.json_controls(text)
    text = gsub(text, "\127", "\\u007f")
    text = gsub(text, "\194([\128-\159])", function(c) return format("\\u%04x", byte(c)) end)
    text = gsub(text, "\226\128([\168-\174])",
        function(c) return format("\\u%04x", 0x2000 + byte(c) - 0x80) end)
    text = gsub(text, "\226\129([\166-\169])",
        function(c) return format("\\u%04x", 0x2040 + byte(c) - 0x80) end)
    return text
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
