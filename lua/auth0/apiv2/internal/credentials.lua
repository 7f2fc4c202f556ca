--- The client credentials grant of the management client: a token source that fetches an
-- access token from /oauth/token, keeps it until shortly before it expires, and lets
-- concurrent callers wait for one pending fetch instead of sending their own (single flight).
local json = require "auth0.apiv2.internal.json"
local url = require "auth0.apiv2.internal.http.url"
local cosocket = require "auth0.apiv2.internal.http.cosocket"
local connection = require "auth0.apiv2.internal.connection"
local call = require "auth0.apiv2.internal.call"
local errors = require "auth0.apiv2.internal.errors"
local bearer = require "auth0.apiv2.internal.bearer"
local shared_token = require "auth0.apiv2.internal.shared_token"

local M = {}

local type, tonumber, pcall, require = type, tonumber, pcall, require
local find, gsub, lower, match = string.find, string.gsub, string.lower, string.match
local huge = math.huge
local escape, new_error, BEARER_CHARS = url.escape, errors.new_error, bearer.BEARER_CHARS

M.RENEW_BEFORE_S = 10       -- s: a client credentials token is replaced this long before it expires
M.POLL_INTERVAL_S = 0.01    -- s between looks at a pending token request, without ngx.semaphore
local RENEW_BEFORE_S, POLL_INTERVAL_S = M.RENEW_BEFORE_S, M.POLL_INTERVAL_S
local TOKEN_OP = "management.token"   -- replaced by the caller's name in the error it returns

-- A semaphore of lua-resty-core inside nginx (nil elsewhere, or without it).
local function new_semaphore()
    local ok, semaphore = pcall(require, "ngx.semaphore")
    if ok and type(semaphore) == "table" and type(semaphore.new) == "function" then
        return semaphore.new(0)
    end
    return nil
end

-- The access token and when to replace it, from /oauth/token's answer, or nil and an error.
local function read_token_answer(response, started)
    local answer = json.decode(response.body)
    local problem, expires_in
    if type(answer) ~= "table" or not find(response.body, "^%s*{") then
        problem = "is not a JSON object"
    elseif type(answer.access_token) ~= "string"
        or not match(answer.access_token, BEARER_CHARS) then
        problem = "has no usable access_token"
    elseif answer.token_type ~= nil and (type(answer.token_type) ~= "string"
        or lower(answer.token_type) ~= "bearer") then
        problem = "has a token_type other than Bearer"
    else
        local value = answer.expires_in
        expires_in = (type(value) == "number" or (type(value) == "string"
            and match(value, "^%d+$"))) and tonumber(value)
        if not expires_in or expires_in <= 0 or expires_in == huge then
            problem = "has no valid expires_in"
        end
    end
    if problem then     -- never an excerpt here: the body may hold a token
        return nil, new_error{ op = TOKEN_OP, stage = "token", status = response.status,
            error_code = "invalid_response", message = "the answer of /oauth/token " .. problem }
    end
    return answer.access_token, started + expires_in - RENEW_BEFORE_S
end

--- The token source of the client credentials grant: a function returning the token, or nil
-- and an error table. It keeps the token until RENEW_BEFORE_S seconds before it expires. While
-- one call is fetching a token, other calls (other requests of the same nginx worker, or
-- coroutines of a yielding transport) wait for its result instead of sending their own:
-- on ngx.semaphore when there is one, else by sleeping POLL_INTERVAL_S at a time. A fetch
-- whose caller died (an aborted nginx request) is given up after the longest a request can
-- take, and the next call starts a new one. With `dict` (a lua_shared_dict), the token is
-- the node's: see shared_token. The second function returned drops the kept token.
function M.source(conn, token_url, audience, client_id, client_secret, dict)
    local cached, renew_at      -- the token, and when to fetch the next one
    local flight                -- the pending fetch: { deadline, done, token, err, sema, waiters }
    local longest = connection.longest(conn)
    -- Every form of the secret that is sent: the form body carries it percent-encoded, and a
    -- server may echo it decoded, or re-encoded with lower-case hex.
    local encoded = escape(client_secret)
    local secrets = { { client_secret, "[secret]" }, { encoded, "[secret]" },
        { (gsub(encoded, "%%%x%x", lower)), "[secret]" } }

    local function fetch()
        local started = conn.now()
        local response, err = call.send(TOKEN_OP, conn, {
            method = "POST", url = token_url,
            idempotent = true,   -- asking for a token again after a 5xx does no harm
            headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
                Accept = "application/json" },
            body = "grant_type=client_credentials&client_id=" .. escape(client_id)
                .. "&client_secret=" .. encoded .. "&audience=" .. escape(audience),
        }, secrets)
        if not response then
            err.stage = "token"
            return nil, err
        end
        return read_token_answer(response, started)
    end

    local function wait(f)
        local in_nginx, usable = cosocket.in_nginx()
        if in_nginx and not usable then
            return nil, { stage = "token", error_code = "unavailable", message = "another "
                .. "request is getting the token, and this nginx phase cannot wait for it" }
        end
        if in_nginx and f.sema == nil then f.sema = new_semaphore() or false end
        if f.sema then
            f.waiters = f.waiters + 1
            local remaining = f.deadline - conn.now()
            f.sema:wait(remaining > 0 and remaining or POLL_INTERVAL_S)
        else
            local waited = 0
            while not f.done and waited < longest do
                conn.policy.sleep(POLL_INTERVAL_S)
                waited = waited + POLL_INTERVAL_S
            end
        end
        if f.done then
            if f.token then return f.token end
            return nil, f.err
        end
        return nil, { stage = "token", error_code = "timeout", message = "gave up waiting for "
            .. "the token another request is getting" }
    end

    -- In nginx with shared_dict: the node's token, fetched by one worker for all.
    local dict_key = "auth0.apiv2.token " .. token_url .. " " .. client_id .. " " .. audience
    local function fetch_for_node()
        if dict then return shared_token.fetch(dict, dict_key, fetch, conn, longest) end
        return fetch()
    end

    local function forget()
        cached, renew_at = nil, nil
        if dict then dict:delete(dict_key) end
    end

    return function()
        local t = conn.now()
        if cached and t < renew_at then return cached end
        if dict then
            local jwt, renew = shared_token.get(dict, dict_key, t)
            if jwt then
                cached, renew_at = jwt, renew
                return jwt
            end
        end
        local f = flight
        if f and not f.done and t < f.deadline then return wait(f) end
        f = { deadline = t + longest, waiters = 0 }
        flight = f
        local jwt, renew_or_err = fetch_for_node()
        f.done = true
        if jwt then
            cached, renew_at, f.token = jwt, renew_or_err, jwt
        else
            f.err = renew_or_err
        end
        if flight == f then flight = nil end
        if f.sema and f.waiters > 0 then f.sema:post(f.waiters) end
        if jwt then return jwt end
        return nil, f.err
    end, forget
end

return M
