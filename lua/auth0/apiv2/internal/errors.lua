--- The error values of the Management API clients (blacklist, management): a table of fields
-- with a readable `tostring`, made from Auth0's error bodies and rate-limit headers, with every
-- secret sent scrubbed from any text that came back.
local json = require "auth0.apiv2.internal.json"
local ratelimit = require "auth0.apiv2.internal.ratelimit"

local M = {}

local type, tostring, ipairs, pcall, setmetatable = type, tostring, ipairs, pcall, setmetatable
local find, gsub, sub = string.find, string.gsub, string.sub
local concat = table.concat
local floor = math.floor

local MAX_MESSAGE = 300          -- characters of a non-JSON error body kept in a message

--- The metatable of error values: fields `op` ("blacklist.revoke"), `status` (HTTP status, or
-- nil when no answer came), `error_code` (Auth0's `errorCode`, the OAuth `error` of
-- /oauth/token, or one of ours: timeout, connection_refused, tls, network, protocol,
-- unavailable, invalid_response, missing_jti, malformed_token, sign_failed, no_token), `error`,
-- `error_description`, `message`, `attempts`, `stage` ("token" when getting the bearer token
-- failed), `required_scopes` (on a 403 of the management client: the catalog's scopes for the
-- endpoint), and from the rate-limit headers `retry_after`, `reset` (UNIX seconds), `limit`,
-- `remaining`.
local Error = {}
Error.__index = Error
M.Error = Error

--- The error as text without its op: "429 too_many_requests: message (notes)", for callers
-- that name the operation themselves (the command line).
function Error:describe()
    local head = {}
    if self.status then head[#head + 1] = tostring(self.status) end
    if self.error_code then head[#head + 1] = self.error_code end
    local text = tostring(self.message or self.error or "no message")
    if #head > 0 then text = concat(head, " ") .. ": " .. text end
    local notes = {}
    if self.stage == "token" then
        notes[#notes + 1] = "while getting a token from /oauth/token"
    end
    if self.attempts and self.attempts > 1 then notes[#notes + 1] = self.attempts .. " attempts" end
    if self.retry_after then notes[#notes + 1] = "retry after " .. self.retry_after .. " s" end
    if self.reset then
        -- The server chose this number: a date only when os.date can write it.
        local ok, date = pcall(os.date, "!%Y-%m-%dT%H:%M:%SZ", floor(self.reset))
        notes[#notes + 1] = "rate limit resets at "
            .. (ok and type(date) == "string" and date or tostring(self.reset))
    end
    if type(self.required_scopes) == "table" and #self.required_scopes > 0 then
        notes[#notes + 1] = "the endpoint needs one of: " .. concat(self.required_scopes, ", ")
    end
    if #notes > 0 then text = text .. " (" .. concat(notes, "; ") .. ")" end
    return text
end

function Error:__tostring()
    return self.op .. ": " .. self:describe()
end

--- Makes an error value of a table of fields (see Error).
function M.new_error(fields)
    return setmetatable(fields, Error)
end
local new_error = M.new_error

-- Replaces every copy of each secret in a text from the network; `secrets` is a list of
-- `{ text, label }`, e.g. `{ { bearer, "[token]" } }`.
local function scrub(text, secrets)
    text = tostring(text)
    for _, secret in ipairs(secrets or {}) do
        local value, label = secret[1], secret[2]
        if value ~= "" then
            local out, start = {}, 1
            while true do
                local i, j = find(text, value, start, true)
                if not i then break end
                out[#out + 1] = sub(text, start, i - 1) .. label
                start = j + 1
            end
            out[#out + 1] = sub(text, start)
            text = concat(out)
        end
    end
    return text
end
M.scrub = scrub

-- A printable, bounded excerpt of a body (nil when empty), scrubbed first: a cut could split
-- a secret and leave half of it.
local function excerpt(body, secrets)
    local text = gsub(sub(scrub(body or "", secrets), 1, MAX_MESSAGE), "[%c]", " ")
    return text ~= "" and text or nil
end

-- The secrets each 2xx response was sent with (call.send records them), so that an excerpt of
-- its body is scrubbed whatever its status. Weak keys: a response is forgotten with its table.
local secrets_of = setmetatable({}, { __mode = "k" })

--- Records the secrets a request was sent with, for excerpts of its response.
function M.sent_with(response, secrets)
    secrets_of[response] = secrets
    return response
end

--- A printable, bounded excerpt of a response's body with every secret the request was sent
-- with scrubbed (nil when the body is empty).
-- @tparam table response from call.send
function M.excerpt_of(response)
    return excerpt(response.body, secrets_of[response])
end

--- The error for a non-2xx answer, from Auth0's error body and rate-limit headers. Reads both
-- the Management API's `{statusCode, error, message, errorCode}` and OAuth's
-- `{error, error_description}` (from /oauth/token, whose `error` becomes the `error_code`).
-- @tparam string fname
-- @tparam table response from http.request
-- @tparam number attempts
-- @tparam[opt] table secrets `{ { text, label }, ... }`: each text is replaced by its label
-- @return the error value
function M.http_error(fname, response, attempts, secrets)
    local body = type(response.body) == "string" and response.body or ""
    local decoded = find(body, "^%s*{") and json.decode(body)
    local err = { op = fname, status = response.status, attempts = attempts }
    if type(decoded) == "table" then
        local function text(name)
            return type(decoded[name]) == "string" and scrub(decoded[name], secrets) or nil
        end
        err.error, err.error_description = text("error"), text("error_description")
        err.error_code = text("errorCode") or (err.error_description and err.error)
        err.message = text("message") or err.error_description
    else
        -- Scrub the whole body first: a cut could split a secret and leave half of it.
        err.message = excerpt(body, secrets)
    end
    return new_error(ratelimit.copy(err, response.headers))
end

return M
