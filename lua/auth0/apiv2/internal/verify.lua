--- token.verify and token.has_scope. The verification itself is the machinery of
-- auth0.apiv2.internal.verifier, shared with token.verifier; this module keeps the public
-- functions' names.
local verifier = require "auth0.apiv2.internal.verifier"
local granted = require "auth0.apiv2.internal.granted"

local M = {}

local type, error = type, error
local grants = granted.has

--- Whether claims grant scope ("action:entity"): through the classic `scopes` object
-- ({ users = { actions = { "read" } } }) or a flat, space-separated `scope` string.
-- @tparam table claims
-- @tparam string scope
-- @treturn boolean
-- @raise when claims is not a table or scope not a string
function M.has_scope(claims, scope)
    if type(claims) ~= "table" then error("token.has_scope: claims must be a table", 2) end
    if type(scope) ~= "string" then error("token.has_scope: scope must be a string", 2) end
    return grants(claims, scope)
end

--- Verifies an HS256 token and returns its claims.
-- @tparam string jwt the compact token (strip "Bearer " yourself)
-- @param key_or_keys a key object, a secret string (decoded as token.key does), a list of
--   those (any one may verify: secret rotation), or a function(aud, header) returning one of
--   those or nil (multi-tenant: pick the tenant's secret by aud)
-- @tparam[opt] table opts `audience`, `leeway` (0..300 s, default 0), `now`, `require_exp`
--   (default false), `scopes` (all required), `any` (one of them required), `endpoint`
--   ("METHOD /path": one of the scopes the catalog lists for it), `is_revoked`
--   (function(aud, jti) -> true when revoked; nil, err when it cannot tell, which fails the check)
-- @treturn table claims
-- @treturn[2] nil
-- @treturn[2] string reason (README: "Verification reasons")
-- @treturn[2] string for "insufficient scope": the scopes that would do, space-separated
-- @raise on a wrong argument type, an unknown option, a bad leeway, a malformed secret
M.verify = verifier.verify

return M
