--- Bearer-token sources of the Management API clients: a function returning the token to send,
-- or nil and an error (a table of fields or a message). A fixed token, a token signed here with
-- a key and renewed before it expires, or (internal/credentials.lua) one fetched with
-- the client credentials grant.
local errors = require "auth0.apiv2.internal.errors"

local M = {}

local type, tostring, ipairs = type, tostring, ipairs
local match = string.match
local new_error = errors.new_error

--- RFC 6750's token68 characters: anything else could break the Authorization header.
M.BEARER_CHARS = "^[%w%-._~+/]+=*$"
local BEARER_CHARS = M.BEARER_CHARS

--- The token of an Authorization header's value: the scheme "Bearer" in any letter case, one or
-- more spaces, the token68 characters (RFC 6750 section 2.1), optional spaces.
-- @param value the header's value (nil when absent)
-- @treturn string the token
-- @treturn[2] nil
-- @treturn[2] string "no bearer token" (no header, or another scheme) or "malformed bearer token"
function M.from_header(value)
    if type(value) ~= "string" then return nil, "no bearer token" end
    local scheme, jwt = match(value, "^([Bb][Ee][Aa][Rr][Ee][Rr]) +(.-) *$")
    if not scheme then return nil, "no bearer token" end
    if not match(jwt, BEARER_CHARS) then return nil, "malformed bearer token" end
    return jwt
end
-- A minted token is replaced this long before its exp, so clock skew and slow requests
-- never present an expired one.
local MINT_RENEW_BEFORE_S = 60     -- s
M.MINT_RENEW_BEFORE_S = MINT_RENEW_BEFORE_S
-- The fields an error value copies from the one the token source returned.
local COPIED_FIELDS = {
    "status", "error_code", "error", "error_description", "message", "attempts", "stage",
    "retry_after", "reset", "limit", "remaining",
}

--- A token source for a fixed bearer token.
function M.fixed(jwt)
    return function() return jwt end
end

--- A token source that signs its own APIv2 token with a key object, keeps it, and signs a new
-- one MINT_RENEW_BEFORE_S seconds before it expires.
-- @tparam table conn from connection.new (its clock)
-- @param key a key object from token.key
-- @param template a token object from token.new (made by the caller, a public module: this
--   low layer never requires token)
-- @tparam number lifetime the template's lifetime, in seconds
-- @treturn function `() -> jwt | nil, fields`
function M.minted(conn, key, template, lifetime)
    local now = conn.now
    local current, renew_at
    return function()
        local t = now()
        if not current or t >= renew_at then
            local jwt, err = template:sign(key)
            if not jwt then return nil, { error_code = "sign_failed", message = tostring(err) } end
            current, renew_at = jwt, t + lifetime - MINT_RENEW_BEFORE_S
        end
        return current
    end
end

--- The error value for a token source that gave no token: its fields (an error table) or its
-- message (a string), under the caller's name (its op).
function M.error_of(fname, err)
    local fields = { op = fname }
    if type(err) == "table" then
        for _, name in ipairs(COPIED_FIELDS) do fields[name] = err[name] end
    else
        fields.error_code = "no_token"
        fields.message = "the token source gave no token: " .. tostring(err or "no reason")
    end
    fields.error_code = fields.error_code or "no_token"
    return new_error(fields)
end

return M
