--- One call of the Management API on a connection: the bearer token from the connection's
-- source, the request with its retries, and every failure as an error value with the secrets
-- sent scrubbed.
local retry = require "auth0.apiv2.internal.retry"
local errors = require "auth0.apiv2.internal.errors"
local bearer_source = require "auth0.apiv2.internal.bearer"

local M = {}

local type, tostring = type, tostring
local gsub, match = string.gsub, string.match
local new_error, scrub = errors.new_error, errors.scrub
local bearer_error_of, BEARER_CHARS = bearer_source.error_of, bearer_source.BEARER_CHARS

--- Sends one request on a connection with retries, and turns failures into error values.
-- @tparam string fname the public function, e.g. "blacklist.revoke"
-- @tparam table conn from connection.new
-- @tparam table req `method`, `url`, `headers`, `body` (string)
-- @tparam[opt] table secrets `{ { text, label }, ... }`, never shown in a message
-- @treturn table the 2xx response
-- @treturn number attempts
-- @return[2] nil
-- @return[2] the error value
function M.send(fname, conn, req, secrets)
    req.timeout, req.ca_file, req.transport = conn.timeout, conn.ca_file, conn.transport
    req.keepalive = conn.keepalive
    local response, err, code, attempts = retry.request(req, conn.policy)
    if not response then
        return nil, new_error{ op = fname, error_code = code or "network", attempts = attempts,
            message = scrub(gsub(tostring(err), "^http: ", ""), secrets) }
    end
    if response.status < 200 or response.status > 299 then
        return nil, errors.http_error(fname, response, attempts, secrets)
    end
    return errors.sent_with(response, secrets), attempts
end

--- Calls the Management API with the connection's bearer token (`conn.bearer`, a function
-- returning the token, or nil and an error table or message).
-- @tparam string fname the public function, for error values
-- @tparam table conn from connection.new, with `bearer`
-- @tparam string method
-- @tparam string path below the base URL, with its query: "/users/auth0%7C1?fields=email"
-- @tparam[opt] string body JSON text
-- @tparam[opt] boolean idempotent whether a 5xx may be retried whatever the method
-- @tparam[opt] string content_type of the body (default application/json)
-- @treturn table the 2xx response
-- @treturn number attempts
-- @return[2] nil
-- @return[2] the error value
function M.call(fname, conn, method, path, body, idempotent, content_type)
    local bearer, berr = conn.bearer()
    if not bearer then return nil, bearer_error_of(fname, berr) end
    if type(bearer) ~= "string" or not match(bearer, BEARER_CHARS) then
        return nil, new_error{ op = fname, error_code = "no_token",
            message = "the token source gave something that is not a bearer token" }
    end
    local headers = { Authorization = "Bearer " .. bearer, Accept = "application/json" }
    if body then headers["Content-Type"] = content_type or "application/json" end
    return M.send(fname, conn, { method = method, url = conn.base_url .. path, headers = headers,
        body = body, idempotent = idempotent }, { { bearer, "[token]" } })
end

return M
