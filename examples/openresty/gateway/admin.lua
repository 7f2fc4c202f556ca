--- content_by_lua: the gateway's admin endpoints (loopback only; see nginx.conf).
--
--   POST /admin/revoked {"token":"eyJ..."} or {"jti":..,"aud":..,"exp":..}
--        records a revocation in the shared dictionary only (every worker refuses the token
--        at once); for revocations made elsewhere and pushed here.
--   POST /admin/revoke  {"token":"eyJ..."} or {"jti":..,"aud":..}
--        revokes at Auth0 through the blacklist helper (cosockets), then records it locally.
--   POST /admin/refresh  copies Auth0's blacklist into the dictionary now, not at the next tick.
--   GET  /admin/status   this worker's id, the revocation store's status, and whether
--                        LuaSocket or LuaSec was ever loaded (it must not be).
-- The store is gateway.revocations (auth0.apiv2.nginx.revocations, made in nginx.conf).
-- luacheck: globals ngx gateway
local token = require "auth0.apiv2.token"
local api = require "gateway.json_api"

local M = {}

local type, tostring = type, tostring

-- The (aud, jti, exp) named by a request body; ends the request with 400 when there is none.
local function target(body)
    local aud, jti, exp = body.aud, body.jti, body.exp
    if body.token ~= nil then
        if type(body.token) ~= "string" then
            return api.reply(400, { error = "invalid_body",
                error_description = "token must be a string" })
        end
        -- Read without checking the signature: whoever can reach this endpoint may revoke
        -- anything anyway, and a token of another tenant only revokes its own (aud, jti).
        local header, claims = token.decode(body.token)
        if not header then
            return api.reply(400, { error = "invalid_token", error_description = claims })
        end
        aud, jti, exp = claims.aud, claims.jti, claims.exp
    end
    if type(jti) ~= "string" or jti == "" then
        return api.reply(400, { error = "missing_jti",
            error_description = "no jti: such a token cannot be revoked" })
    end
    if aud == nil then aud = gateway.aud end      -- as Auth0: the caller's own tenant
    if type(aud) ~= "string" or (exp ~= nil and type(exp) ~= "number") then
        return api.reply(400, { error = "invalid_body",
            error_description = "aud must be a string and exp a number" })
    end
    return aud, jti, exp
end

local function store_error(err)
    return api.reply(507, { error = "dictionary_full", error_description = tostring(err) })
end

function M.revoked()
    api.only("POST")
    local aud, jti, exp = target(api.read_object())
    local ok, err = gateway.revocations:revoke(aud, jti, exp, { auth0 = false })
    if not ok then return store_error(err) end
    return api.reply(201, { revoked = { aud = aud, jti = jti }, worker = ngx.worker.id() })
end

function M.revoke()
    api.only("POST")
    local aud, jti, exp = target(api.read_object())
    if not gateway.blacklist then
        return api.reply(503, { error = "no_auth0",
            error_description = "set AUTH0_DOMAIN or AUTH0_BASE_URL to revoke at Auth0" })
    end
    -- Recorded here at once, then posted to Auth0 (the authority for every other server).
    local ok, err = gateway.revocations:revoke(aud, jti, exp)
    if not ok then
        if type(err) ~= "table" then return store_error(err) end
        ngx.log(ngx.WARN, "gateway: ", tostring(err))   -- never holds the bearer token
        return api.reply(502, { error = "auth0", error_description = tostring(err),
            status = err.status, error_code = err.error_code, recorded_here = true })
    end
    return api.reply(200, { revoked = { aud = aud, jti = jti }, worker = ngx.worker.id() })
end

function M.refresh()
    api.only("POST")
    if not gateway.blacklist then return api.reply(503, { error = "no_auth0" }) end
    local count, err = gateway.revocations:refresh()
    if not count then return api.reply(502, { error = "auth0", error_description = err }) end
    return api.reply(200, { count = count, worker = ngx.worker.id() })
end

function M.status()
    api.only("GET")
    local s = gateway.revocations:status()
    s.worker, s.pid = ngx.worker.id(), ngx.worker.pid()
    -- Inside nginx the library must use cosockets only: LuaSocket and LuaSec would block.
    s.luasocket_loaded = package.loaded["socket"] ~= nil or package.loaded["ssl"] ~= nil
    return api.reply(200, s)
end

return M
