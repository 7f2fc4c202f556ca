-- Fake Auth0s for the unit specs: transports (the clients' `transport` option) that answer as
-- Auth0 would and record what they were asked. The real HTTP specs use spec/server/ instead.
local cjson = require "cjson"
local token = require "auth0.apiv2.token"
local h = require "spec.helpers"
local reply = h.reply

local M = {}

M.DOMAIN = "tenant.auth0.com"
M.BASE = "https://" .. M.DOMAIN .. "/api/v2"
M.TOKEN_URL = "https://" .. M.DOMAIN .. "/oauth/token"
M.ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJteUNsaWVudElkQGNsaWVudHMifQ.c2lnbmF0dXJl"
local TOKEN_URL, ACCESS_TOKEN = M.TOKEN_URL, M.ACCESS_TOKEN

---------------------------------------------------------------- one endpoint (the blacklist)

-- A bearer token holding blacklist:tokens, signed with the specs' secret.
function M.admin_token()
    return token.new{ aud = h.AUD, scopes = { "blacklist:tokens" } }:sign(h.SECRET)
end

-- A transport answering with `answers` in turn (the last one repeats), recording requests.
function M.answers(...)
    local answers, requests = { ... }, {}
    local function transport(req)
        requests[#requests + 1] = req
        local answer = answers[math.min(#requests, #answers)]
        if type(answer) == "function" then return answer(req) end
        return answer
    end
    return transport, requests
end

-- A blacklist client on a fake transport that records its sleeps instead of sleeping.
function M.blacklist_client(transport, opts)
    local blacklist = require "auth0.apiv2.blacklist"
    local slept = {}
    opts = opts or {}
    opts.base_url = opts.base_url or (not opts.domain and M.BASE or nil)
    if not opts.key then opts.token = opts.token or M.admin_token() end
    opts.transport = transport
    opts.sleep = opts.sleep or function(s) slept[#slept + 1] = s end
    return blacklist.new(opts), slept
end

---------------------------------------------------------------- a tenant (/oauth/token and the API)

-- /oauth/token's answer of the client credentials grant.
function M.token_answer(access_token, expires_in)
    return reply(200, cjson.encode({ access_token = access_token or ACCESS_TOKEN,
        expires_in = expires_in or 86400, scope = "read:users", token_type = "Bearer" }),
        { ["content-type"] = "application/json" })
end
local token_answer = M.token_answer

function M.is_token_request(req)
    return req.url == TOKEN_URL or req.url:find("/oauth/token$") ~= nil
end

-- A transport playing Auth0: /oauth/token answers with `opts.token` (default a token), the
-- API with `opts.api` (a response or a function), each in turn when given as a list.
function M.tenant(opts)
    opts = opts or {}
    local log = { requests = {}, token_requests = {}, api_requests = {} }
    local function pick(list, n)
        if type(list) ~= "table" or list.status then return list end
        return list[math.min(n, #list)]
    end
    function log.transport(req)
        log.requests[#log.requests + 1] = req
        local answer
        if M.is_token_request(req) then
            log.token_requests[#log.token_requests + 1] = req
            answer = pick(opts.token or token_answer(), #log.token_requests)
        else
            log.api_requests[#log.api_requests + 1] = req
            answer = pick(opts.api or reply(200, '{"user_id":"auth0|123"}'), #log.api_requests)
        end
        if type(answer) == "function" then return answer(req) end
        return answer
    end
    return log
end

return M
