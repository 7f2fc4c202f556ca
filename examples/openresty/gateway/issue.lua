--- content_by_lua: issues APIv2 tokens of this tenant, signed with the gateway's key object
-- (made once in init_by_lua, never per request; each worker has its copy after the fork).
--
--   POST /issue {"scopes":["read:users"],"lifetime":3600}   -> {"token":"eyJ...","worker":0}
--   POST /issue {"scopes":[...],"count":100}                -> {"tokens":[...],"worker":1}
--
-- `lifetime` is optional (no exp without it: APIv2 tokens have no fixed validity period);
-- `count` (1..1000) signs that many tokens, each with its own iat and jti, in one answer.
-- luacheck: globals ngx gateway
local token = require "auth0.apiv2.token"
local api = require "gateway.json_api"

local M = {}

local type, pcall, floor = type, pcall, math.floor

M.MAX_COUNT = 1000

function M.handle()
    api.only("POST")
    local body = api.read_object()
    local count = body.count
    if count ~= nil and (type(count) ~= "number" or count ~= floor(count) or count < 1
        or count > M.MAX_COUNT) then
        return api.reply(400, { error = "invalid_body",
            error_description = "count must be a whole number from 1 to " .. M.MAX_COUNT })
    end
    -- token.new checks the scopes and the lifetime; its errors are the caller's mistakes.
    local ok, t = pcall(token.new, {
        aud = gateway.aud, scopes = body.scopes, lifetime = body.lifetime,
    })
    if not ok then
        return api.reply(400, { error = "invalid_body", error_description = api.message(t) })
    end
    local key = gateway.key
    local tokens = {}
    for i = 1, count or 1 do
        local jwt, err = t:sign(key)
        if not jwt then
            ngx.log(ngx.ERR, "gateway: signing failed: ", err)
            return api.reply(500, { error = "server_error" })
        end
        tokens[i] = jwt
    end
    if count == nil then
        return api.reply(200, { token = tokens[1], worker = ngx.worker.id() })
    end
    return api.reply(200, { tokens = tokens, worker = ngx.worker.id() })
end

return M
