--- The command line's arguments: options by their kind ("flag", "value", "list"), positional
-- arguments, whole numbers, --scope lists and --claim NAME=VALUE pairs. Values are never
-- repeated in messages: one could be a secret pasted in the wrong place.
local json = require "auth0.apiv2.internal.json"
local rules = require "auth0.apiv2.internal.claims"
local failure = require "auth0.apiv2.cli.failure"
local input = require "auth0.apiv2.cli.input"

local M = {}

local type, ipairs, error, tonumber = type, ipairs, error, tonumber
local find, format, gsub, match, sub, gmatch = string.find, string.format, string.gsub,
    string.match, string.sub, string.gmatch
local usage = failure.usage

local MAX_TIME, RESERVED_CLAIMS = rules.MAX_TIME, rules.RESERVED

--- An option name safe to repeat in a message: a short word. Anything else could be a secret
-- pasted by mistake (base64url text may begin with "-").
function M.shown_option(name)
    if #name <= 24 and match(name, "^%-%-?[a-z][a-z0-9-]*$") then return name end
    return nil
end

local SECRET_ON_ARGV = "is refused: a secret on the command line is visible to every user of "
    .. "this machine (ps, /proc); give it in " .. input.SECRET_SOURCES

--- Parses argv[first..] against spec (option name -> "flag" | "value" | "list"). Returns the
-- options (by name without dashes) and the positional arguments. Values are never repeated
-- in messages.
function M.parse(cmd, argv, first, spec)
    local opts, positional = {}, {}
    local only_positional = false
    local i = first
    while i <= #argv do
        local a = argv[i]
        if type(a) ~= "string" then error("cli.main: argv must hold strings", 0) end
        if only_positional or a == "-" or sub(a, 1, 1) ~= "-" then
            positional[#positional + 1] = a
        elseif a == "--" then
            only_positional = true
        else
            local name, value = match(a, "^%-%-([^=]+)=(.*)$")
            if not name then name = match(a, "^%-%-(.+)$") end
            local shown = M.shown_option(name and "--" .. name or a)
            if not name then
                usage(cmd, shown and ("unknown option " .. shown)
                    or "unknown option (not shown: options are --name)")
            end
            local kind = spec[name]
            if not kind and find(name, "secret", 1, true) then
                usage(cmd, (shown or "a secret option") .. " " .. SECRET_ON_ARGV)
            elseif not kind then
                usage(cmd, shown and ("unknown option " .. shown) or "unknown option (not shown)")
            end
            if kind == "flag" then
                if value then usage(cmd, "--" .. name .. " takes no value") end
                opts[name] = true
            else
                if not value then
                    i = i + 1
                    value = argv[i]
                    if value == nil then usage(cmd, "--" .. name .. " needs a value") end
                end
                if kind == "list" then
                    opts[name] = opts[name] or {}
                    opts[name][#opts[name] + 1] = value
                elseif opts[name] ~= nil then
                    usage(cmd, "--" .. name .. " given twice")
                else
                    opts[name] = value
                end
            end
        end
        i = i + 1
    end
    return opts, positional
end

--- A whole number option from low to high, else a usage error.
function M.whole_number(cmd, name, text, low, high)
    local n = match(text, "^%d+$") and tonumber(text)
    if not n or n < low or n > high then
        usage(cmd, format("--%s must be a whole number from %d to %.0f", name, low, high))
    end
    return n
end



-- Whether text is a number in JSON's grammar (no "+", no leading zeros, no "1." or ".5").
local function is_json_number(text)
    local rest = match(text, "^%-?0(.*)$") or match(text, "^%-?[1-9]%d*(.*)$")
    if not rest then return false end
    rest = gsub(rest, "^%.%d+", "", 1)
    rest = gsub(rest, "^[eE][+-]?%d+", "", 1)
    return rest == ""
end

-- A --claim value: a JSON number, true, false or null when it is one; a JSON string in double
-- quotes is that string; anything else is the text itself. Integers beyond 2^53 and numbers
-- too large for a double stay text (JSON readers would lose digits).
local function claim_value(text)
    if text == "true" then return true end
    if text == "false" then return false end
    if text == "null" then return json.null end
    if is_json_number(text) then
        local n = tonumber(text)
        local integer = match(text, "^%-?%d+$") ~= nil
        if n and n - n == 0 and not (integer and (n > MAX_TIME or n < -MAX_TIME)) then
            return n
        end
        return text
    end
    if match(text, '^".*"$') then
        local s = json.decode(text)
        if type(s) == "string" then return s end
    end
    return text
end

--- The --claim NAME=VALUE options as a claims table (nil without any).
function M.claims(cmd, list)
    if not list then return nil end
    local claims = {}
    for _, item in ipairs(list) do
        local name, value = match(item, "^([^=]+)=(.*)$")
        if not name then usage(cmd, "--claim takes NAME=VALUE") end
        if RESERVED_CLAIMS[name] then
            usage(cmd, "--claim " .. name .. ": " .. name .. " is set by the command "
                .. "(iat, scopes, jti, exp and aud are reserved)")
        end
        if claims[name] ~= nil then usage(cmd, "--claim " .. name .. " given twice") end
        claims[name] = claim_value(value)
    end
    return claims
end

--- --scope values, each possibly a comma- or space-separated list.
function M.scopes(list)
    local out = {}
    for _, item in ipairs(list or {}) do
        for s in gmatch(item, "[^,%s]+") do out[#out + 1] = s end
    end
    return out
end

-- The scopes a token's claims grant, as action:entity strings: the `scopes` object (entities

return M
