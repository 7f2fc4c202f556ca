--- Auth0's rate-limit headers: Retry-After and x-ratelimit-limit, -remaining, -reset.
local M = {}

local type, tonumber, ipairs = type, tonumber, ipairs
local match = string.match

-- Error fields and the headers they come from.
local FIELDS = {
    { "retry_after", "retry-after" }, { "reset", "x-ratelimit-reset" },
    { "limit", "x-ratelimit-limit" }, { "remaining", "x-ratelimit-remaining" },
}

--- The number in a rate-limit header (Retry-After, x-ratelimit-*): a non-negative decimal,
-- fractions allowed; nil for anything else, an HTTP date included.
function M.seconds(value)
    local text = type(value) == "string" and match(value, "^%s*(%d+%.?%d*)%s*$")
    return text and tonumber(text) or nil
end
local seconds = M.seconds

--- Copies the rate-limit headers into fields: `retry_after`, `reset` (UNIX seconds),
-- `limit`, `remaining`.
-- @tparam table into the fields of an error value
-- @tparam table headers with lower-case names
function M.copy(into, headers)
    for _, field in ipairs(FIELDS) do
        into[field[1]] = seconds(headers[field[2]])
    end
    return into
end

return M
