--- JSON for auth0.apiv2: a deterministic encoder whose bytes equal ECMAScript's
-- `JSON.stringify` for the same values (object keys sorted by bytes at every depth), and a
-- strict decoder (lua-cjson's `cjson.safe` when installed, else pure Lua).
local core = require "auth0.apiv2.internal.core"
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, pairs, ipairs, next, tostring, tonumber = type, pairs, ipairs, next, tostring, tonumber
local format, byte, sub, rep, char, find, match = string.format, string.byte, string.sub,
    string.rep, string.char, string.find, string.match
local floor, huge = math.floor, math.huge
local concat, sort = table.concat, table.sort
local json_string, json_check = core.json_string, core.json_check
local math_type = math.type   -- nil before Lua 5.3
local path_name = options.name   -- keys in error paths, bounded

local has_cjson, cjson = pcall(require, "cjson.safe")

--- The JSON `null` (lua-cjson's when it is installed).
M.null = has_cjson and cjson.null or setmetatable({}, { __tostring = function() return "null" end })
--- Encodes as `[]`: a plain empty table encodes as `{}`.
M.empty_array = setmetatable({}, { __tostring = function() return "[]" end })

local MAX_DEPTH = 32

--- Whether a is before b comparing bytes, whatever the C locale says.
local function bytes_less(a, b)
    local n = #a < #b and #a or #b
    for i = 1, n do
        local x, y = byte(a, i), byte(b, i)
        if x ~= y then return x < y end
    end
    return #a < #b
end

M.bytes_less = bytes_less

-- ECMAScript Number::toString: the shortest digits that read back as x, laid out as JS does.
local function js_number(x)
    if x ~= x or x == huge or x == -huge then
        return nil, "cannot encode NaN or infinity"
    end
    if math_type and math_type(x) == "integer" and x > -2^53 and x < 2^53 then
        return format("%d", x)
    end
    -- A larger integer (Lua 5.3+) that no double holds would be rounded to the nearest one,
    -- silently changing it (123456789012345678 signed as ...680): refused. Those a double
    -- holds exactly (10^16, 2^60) and floats are written as JSON.stringify writes them.
    -- (Lua compares an integer with a float exactly, so `x + 0.0 ~= x` means "rounded".)
    if math_type and math_type(x) == "integer" then
        if x + 0.0 ~= x then
            return nil, format("integer %d is beyond 2^53 and would be rounded (send it as a "
                .. "string)", x)
        end
        x = x + 0.0
    end
    if x == floor(x) and x > -2^53 and x < 2^53 then
        return format("%d", x)       -- also turns -0 into "0", as JS does
    end
    local text
    for precision = 1, 17 do
        text = format("%." .. (precision - 1) .. "e", x)
        if tonumber(text) == x then break end
    end
    local sign, int, frac, exp = text:match("^(%-?)(%d)%.?(%d*)e([-+]%d+)$")
    local digits = (int .. frac):gsub("0+$", "")
    local k, n = #digits, tonumber(exp) + 1
    if k <= n and n <= 21 then
        return sign .. digits .. rep("0", n - k)
    elseif 0 < n and n <= 21 then
        return sign .. sub(digits, 1, n) .. "." .. sub(digits, n + 1)
    elseif -6 < n and n <= 0 then
        return sign .. "0." .. rep("0", -n) .. digits
    end
    local e = n - 1
    local mantissa = k == 1 and digits or (sub(digits, 1, 1) .. "." .. sub(digits, 2))
    return sign .. mantissa .. "e" .. (e >= 0 and "+" or "-") .. (e >= 0 and e or -e)
end

M.number = js_number

local encode_value

local function encode_table(t, depth, path)
    if t == M.empty_array then return "[]" end
    if depth > MAX_DEPTH then
        return nil, path .. ": nested deeper than " .. MAX_DEPTH .. " levels"
    end
    if next(t) == nil then return "{}" end
    local count, string_keys = 0, {}
    for k in pairs(t) do
        count = count + 1
        if type(k) == "string" then
            string_keys[#string_keys + 1] = k
        end
    end
    local parts = {}
    if #string_keys == count then
        sort(string_keys, bytes_less)
        for i, k in ipairs(string_keys) do
            local name, err = json_string(k)
            if not name then return nil, path .. ": key is not UTF-8 text (" .. err .. ")" end
            local value, verr = encode_value(t[k], depth + 1, path .. "." .. path_name(k))
            if not value then return nil, verr end
            parts[i] = name .. ":" .. value
        end
        return "{" .. concat(parts, ",") .. "}"
    end
    if #string_keys > 0 or #t ~= count then
        return nil, path .. ": table is neither an array nor an object with string keys"
    end
    for i = 1, count do
        local value, err = encode_value(t[i], depth + 1, path .. "[" .. i .. "]")
        if not value then return nil, err end
        parts[i] = value
    end
    return "[" .. concat(parts, ",") .. "]"
end

encode_value = function(v, depth, path)
    local kind = type(v)
    if kind == "string" then
        local text, err = json_string(v)
        if not text then return nil, path .. ": string is not UTF-8 text (" .. err .. ")" end
        return text
    elseif kind == "number" then
        local text, err = js_number(v)
        if not text then return nil, path .. ": " .. err end
        return text
    elseif kind == "boolean" then
        return v and "true" or "false"
    elseif v == M.null then
        return "null"
    elseif kind == "table" then
        return encode_table(v, depth, path)
    end
    return nil, path .. ": cannot encode a " .. kind
end

--- Encodes a Lua value as compact JSON with sorted object keys.
-- Arrays are tables with keys 1..n; objects have string keys only; `{}` is an empty object
-- and `json.empty_array` an empty array.
-- @param value the value
-- @tparam[opt="value"] string path name used in error messages
-- @treturn string the JSON text
-- @treturn[2] nil
-- @treturn[2] string what could not be encoded, and where
function M.encode(value, path)
    return encode_value(value, 1, path or "value")
end

-- UTF-8 of a code point, with arithmetic only (no bit operators before Lua 5.3).
local function utf8_char(cp)
    if cp < 0x80 then return char(cp) end
    if cp < 0x800 then return char(0xC0 + floor(cp / 0x40), 0x80 + cp % 0x40) end
    if cp < 0x10000 then
        return char(0xE0 + floor(cp / 0x1000), 0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
    end
    return char(0xF0 + floor(cp / 0x40000), 0x80 + floor(cp / 0x1000) % 0x40,
        0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
                  r = "\r", t = "\t" }
local LITERALS = { t = { "true", true }, f = { "false", false }, n = { "null", M.null } }

-- A decoder for text that core.json_check has accepted: it trusts the syntax (strict
-- RFC 8259, depth at most 64, surrogates paired) and only builds the values.
local function decode_checked(text)
    local pos = 1
    local value

    local function skip()
        pos = find(text, "[^ \t\r\n]", pos) or #text + 1
    end

    local function string_at()
        local parts, i = {}, pos + 1
        while true do
            local j = find(text, '["\\]', i)
            parts[#parts + 1] = sub(text, i, j - 1)
            if byte(text, j) == 34 then   -- the closing quote
                pos = j + 1
                return concat(parts)
            end
            local c = sub(text, j + 1, j + 1)
            if c == "u" then
                local cp = tonumber(sub(text, j + 2, j + 5), 16)
                i = j + 6
                if cp >= 0xD800 and cp <= 0xDBFF then   -- json_check paired it with a low one
                    cp = 0x10000 + (cp - 0xD800) * 0x400 + tonumber(sub(text, i + 2, i + 5), 16)
                        - 0xDC00
                    i = i + 6
                end
                parts[#parts + 1] = utf8_char(cp)
            else
                parts[#parts + 1] = ESCAPES[c]
                i = j + 2
            end
        end
    end

    value = function()
        skip()
        local c = sub(text, pos, pos)
        if c == "{" then
            local obj = {}
            pos = pos + 1
            skip()
            if sub(text, pos, pos) == "}" then pos = pos + 1; return obj end
            repeat
                skip()
                local name = string_at()
                skip()
                pos = pos + 1   -- ':'
                obj[name] = value()
                skip()
                c = sub(text, pos, pos)
                pos = pos + 1   -- ',' or '}'
            until c == "}"
            return obj
        elseif c == "[" then
            local arr, n = {}, 0
            pos = pos + 1
            skip()
            if sub(text, pos, pos) == "]" then pos = pos + 1; return arr end
            repeat
                n = n + 1
                arr[n] = value()
                skip()
                c = sub(text, pos, pos)
                pos = pos + 1
            until c == "]"
            return arr
        elseif c == '"' then
            return string_at()
        elseif LITERALS[c] then
            pos = pos + #LITERALS[c][1]
            return LITERALS[c][2]
        end
        local number = match(text, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
        pos = pos + #number
        return tonumber(number)
    end

    return value()
end

--- Builds the value of text that core.json_check has already accepted (core.jws_parse checks
-- token segments in C): no second check on the hot path of token.verify.
if has_cjson then
    local cjson_decode = cjson.decode
    function M.decode_checked(text)
        local value, err = cjson_decode(text)
        if value == nil then return nil, "invalid json: " .. tostring(err) end
        return value
    end
else
    M.decode_checked = decode_checked
end

-- The strict check, then `build`.
local function check_then(build, text)
    local ok, why = json_check(text)
    if not ok then return nil, "invalid json: " .. why end
    return build(text)
end

--- Decodes JSON text: strictly checked first (UTF-8, RFC 8259, no duplicate names, depth at
-- most 64), then built by lua-cjson when it is installed, else by a pure-Lua decoder (hosts
-- that embed the library without lua-cjson). Arrays and objects become tables, `null` becomes
-- `json.null`.
-- @tparam string text
-- @return the value, or nil and "invalid json: <reason>"
function M.decode(text)
    return check_then(M.decode_checked, text)
end

--- The pure-Lua decoder alone, for its specs.
function M.decode_without_cjson(text)
    return check_then(decode_checked, text)
end

return M
