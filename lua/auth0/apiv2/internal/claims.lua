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

return M
