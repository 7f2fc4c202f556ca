--- The rules of an APIv2 token's claims that signing, verifying and the command share: one
-- copy of each.
local M = {}

--- The claims token.new writes itself: `claims` (and the command's --claim) may not set them.
M.RESERVED = { iat = true, scopes = true, jti = true, exp = true, aud = true }

--- The time claims, in the order the command shows them.
M.TIMES = { "iat", "nbf", "exp" }

--- The largest integer every Lua number type holds exactly (2^53 - 1): the bound of time
-- claims, and of the integers the command writes as numbers.
M.MAX_TIME = 2 ^ 53 - 1

--- The largest leeway token.verify accepts, in seconds.
M.MAX_LEEWAY_S = 300

--- A lifetime of more than a century is a mistake, and a bound keeps iat + lifetime exact.
M.MAX_LIFETIME_S = 100 * 366 * 86400

--- The time rules of verification (the C pass, csrc/core.c, has the same in C): nil when the
-- time claims (numbers, or nil when absent) pass at `now` with `leeway`, else the reason.
-- Compared as now - leeway >= exp, not exp + leeway: an integer exp could wrap.
function M.time_verdict(now, leeway, require_exp, exp, nbf, iat)
    if exp == nil then
        if require_exp then return "exp missing" end
    elseif now - leeway >= exp then
        return "expired"
    end
    if nbf ~= nil and nbf > now + leeway then return "not yet valid" end
    if iat ~= nil and iat > now + leeway then return "issued in the future" end
    return nil
end

return M
