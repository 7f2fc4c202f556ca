--- access_by_lua: lets a request through only with a valid, unrevoked APIv2 token of this
-- tenant holding the location's scopes. Refusals follow RFC 6750: 401 with
-- `WWW-Authenticate: Bearer realm="api", error="invalid_token"` (no error code when there is
-- no token at all), 403 with `error="insufficient_scope", scope="..."`, and a JSON body
-- `{"error":..,"error_description":..}`.
--
--   access_by_lua_block { require("gateway.protect").check{ "read:users" } }
--   access_by_lua_block {
--       require("gateway.protect").check{ GET = { "read:users" }, PATCH = { "update:users" } }
--   }
-- luacheck: globals ngx
local token = require "auth0.apiv2.token"
local cjson = require "cjson.safe"
local gateway = require "gateway"
local revocation = require "gateway.revocation"

local M = {}

local type, pairs, ipairs, next = type, pairs, ipairs, next
local concat, sort = table.concat, table.sort
local verify, has_scope, scopes_of = token.verify, token.has_scope, token.scopes_of

M.REALM = "api"

-- Reasons of token.verify that mean "we could not tell", not "this token is bad".
local UNAVAILABLE = { ["revocation check failed"] = true }

local function deny(status, code, description, scope)
    local challenge = 'Bearer realm="' .. M.REALM .. '"'
    -- The descriptions are fixed texts of this file and of token.verify: no quotes in them.
    if code then
        challenge = challenge .. ', error="' .. code .. '", error_description="'
            .. description .. '"'
    end
    if scope then challenge = challenge .. ', scope="' .. scope .. '"' end
    ngx.status = status
    if status == 401 or status == 403 then ngx.header["WWW-Authenticate"] = challenge end
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.say(cjson.encode{ error = code or "unauthorized", error_description = description })
    -- ngx.HTTP_OK after a response has been sent ends the whole request, not only this phase.
    return ngx.exit(ngx.HTTP_OK)
end

-- The scopes this request needs: the list itself, or the list of its method.
local function required_scopes(spec)
    if spec[1] ~= nil or next(spec) == nil then return spec end
    return spec[ngx.req.get_method()]
end

--- Checks the request's bearer token; ends the request with 401/403 when it does not pass,
-- else returns the claims (also in `ngx.ctx.claims`) and passes the token's `aud`, `jti` and
-- granted scopes to the upstream as X-Auth0-Aud, X-Auth0-Jti and X-Auth0-Scopes.
-- @tparam table spec scopes every request needs, or method -> scopes (other methods get 405)
function M.check(spec)
    local scopes = required_scopes(spec)
    if not scopes then
        local allowed = {}
        for method in pairs(spec) do allowed[#allowed + 1] = method end
        sort(allowed)
        ngx.header["Allow"] = concat(allowed, ", ")
        return deny(405, "method_not_allowed", "this method is not allowed here")
    end
    local jwt, problem = token.bearer(ngx.var.http_authorization)
    if not jwt then
        if problem == "malformed bearer token" then
            return deny(401, "invalid_token", problem)
        end
        return deny(401, nil, "a bearer token is required")   -- none, or another scheme (Basic)
    end
    -- Scopes are checked after verify, so a revoked token is a 401 whatever its scopes.
    local claims, reason = verify(jwt, gateway.key(), {
        audience = gateway.aud(), leeway = gateway.LEEWAY, is_revoked = revocation.is_revoked,
    })
    if not claims then
        if UNAVAILABLE[reason] then
            ngx.log(ngx.ERR, "gateway: ", reason)
            return deny(503, "temporarily_unavailable", reason)
        end
        return deny(401, "invalid_token", reason)
    end
    for _, scope in ipairs(scopes) do
        if not has_scope(claims, scope) then
            return deny(403, "insufficient_scope", "the token lacks a required scope",
                concat(scopes, " "))
        end
    end
    ngx.ctx.claims = claims
    -- Set (or cleared) whatever the client sent under these names.
    ngx.req.set_header("X-Auth0-Aud", gateway.aud())
    ngx.req.set_header("X-Auth0-Jti", type(claims.jti) == "string" and claims.jti or nil)
    ngx.req.set_header("X-Auth0-Scopes", concat(scopes_of(claims), " "))
    return claims
end

return M
