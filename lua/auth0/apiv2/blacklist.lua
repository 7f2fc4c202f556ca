--- Revoke Auth0 APIv2 tokens and list revoked ones, through the Management API's blacklist
-- endpoint (`/api/v2/blacklists/tokens`). Failures are values: `nil, err` with `err` a table
-- (status, error_code, message, ...) that `tostring` makes readable. The bearer token never
-- appears in an error or in `tostring(bl)`.
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"
local url = require "auth0.apiv2.internal.http.url"
local keys = require "auth0.apiv2.internal.key"
local retry = require "auth0.apiv2.internal.retry"
local errors = require "auth0.apiv2.internal.errors"
local connection = require "auth0.apiv2.internal.connection"
local bearer = require "auth0.apiv2.internal.bearer"
local call = require "auth0.apiv2.internal.call"
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, ipairs, error, setmetatable = type, ipairs, error, setmetatable
local find, match = string.find, string.match

M.DEFAULT_TIMEOUT_MS = connection.DEFAULT_TIMEOUT_MS    -- for each of connect, send and read
M.DEFAULT_MAX_WAIT_MS = connection.DEFAULT_MAX_WAIT_MS  -- the longest single wait before a retry
-- The names of 0.1.0, also in milliseconds.
M.DEFAULT_TIMEOUT, M.DEFAULT_MAX_WAIT = M.DEFAULT_TIMEOUT_MS, M.DEFAULT_MAX_WAIT_MS
M.DEFAULT_RETRIES = retry.DEFAULT_RETRIES
M.TOKEN_LIFETIME = 300           -- s, of the tokens minted in key + aud mode
local PATH = "/blacklists/tokens"

local NEW_OPTIONS = {
    domain = true, token = true, key = true, aud = true, base_url = true, timeout = true,
    retries = true, ca_file = true, transport = true, max_wait = true, sleep = true, now = true,
}
local LIST_OPTIONS = { aud = true }

--- The metatable of error values (shared with auth0.apiv2.management): fields `op`
-- ("blacklist.revoke"), `status` (HTTP status, or nil when no answer came), `error_code`
-- (Auth0's `errorCode`, or one of ours: timeout, connection_refused, tls, network, protocol,
-- unavailable, invalid_response, missing_jti, malformed_token, sign_failed, no_token), `error`,
-- `message`, `attempts`, and from the rate-limit headers `retry_after`, `reset` (UNIX
-- seconds), `limit`, `remaining`.
M.Error = errors.Error
local new_error, excerpt_of = errors.new_error, errors.excerpt_of

-- ------------------------------------------------------------- construction

local Blacklist = {}
Blacklist.__index = Blacklist

--- Makes a client for one tenant's blacklist.
-- @tparam table opts
--   `domain` ("tenant.auth0.com") or `base_url` ("https://tenant.auth0.com/api/v2");
--   `token`: a bearer token holding blacklist:tokens, or a function returning one (or nil and
--     an error: a message or an error value), called before each request;
--   or `key` (from token.key) and `aud` (the tenant's API key): the client then mints its own
--     blacklist:tokens token;
--   `timeout` (ms, default 5000), `retries` (0..10, default 3), `max_wait` (ms, default
--   10000), `ca_file`, `transport`, `sleep` (function(seconds)), `now` (function: seconds)
-- @return the client
-- @raise on a missing, unknown or ill-typed option
function M.new(opts)
    options.check("blacklist.new", opts, NEW_OPTIONS, 2)
    if opts.aud ~= nil and (type(opts.aud) ~= "string" or opts.aud == "") then
        error("blacklist.new: aud must be a non-empty string", 2)
    end
    local conn = connection.new("blacklist.new", opts)
    local kind
    if opts.token ~= nil then
        if opts.key ~= nil or opts.aud ~= nil then
            error("blacklist.new: give either token, or key and aud, not both", 2)
        end
        if type(opts.token) == "function" then
            kind, conn.bearer = "token function", opts.token
        elseif type(opts.token) == "string" and match(opts.token, bearer.BEARER_CHARS) then
            -- A closure, so dumping the object (inspect, json) shows no credential.
            kind, conn.bearer = "bearer token", bearer.fixed(opts.token)
        else
            error("blacklist.new: token must be a bearer token (a compact JWT)", 2)
        end
    elseif opts.key ~= nil then
        if not keys.is_key(opts.key) then
            error("blacklist.new: key must be a key object from token.key", 2)
        end
        if opts.aud == nil then error("blacklist.new: key needs aud (the tenant's API key)", 2) end
        kind = "minted tokens"
        local template = token.new{ aud = opts.aud, scopes = { "blacklist:tokens" },
            lifetime = M.TOKEN_LIFETIME }
        conn.bearer = bearer.minted(conn, opts.key, template, M.TOKEN_LIFETIME)
    else
        error("blacklist.new: token (or key and aud) is required", 2)
    end
    return setmetatable({ base_url = conn.base_url, kind = kind, conn = conn }, Blacklist)
end

function Blacklist:__tostring()
    return "auth0.apiv2.blacklist (" .. self.base_url .. ", " .. self.kind .. ")"
end

-- ------------------------------------------------------------- requests

-- The (jti, aud) pair to revoke, from a token (decoded, not verified) or a table.
local function revocation_of(fname, what)
    local jti, aud
    if type(what) == "string" then
        local header, claims = token.decode(what)
        if not header then
            return nil, new_error{ op = fname, error_code = "malformed_token",
                message = "cannot read the token: " .. claims }
        end
        jti, aud = claims.jti, claims.aud
        if (jti ~= nil and type(jti) ~= "string") or (aud ~= nil and type(aud) ~= "string") then
            return nil, new_error{ op = fname, error_code = "malformed_token",
                message = "the token's jti and aud must be strings" }
        end
    elseif type(what) == "table" then
        jti, aud = what.jti, what.aud
        if jti ~= nil and type(jti) ~= "string" then
            error(fname .. ": jti must be a string", 3)
        end
        if aud ~= nil and type(aud) ~= "string" then
            error(fname .. ": aud must be a string", 3)
        end
    else
        error(fname .. ": expected a token or a table with jti and aud, got " .. type(what), 3)
    end
    if jti == nil or jti == "" then
        return nil, new_error{ op = fname, error_code = "missing_jti",
            message = "the token has no jti, so it cannot be revoked" }
    end
    return { jti = jti, aud = aud ~= "" and aud or nil }
end

--- Revokes a token: `POST /blacklists/tokens` with its `jti` and `aud`.
-- @param what a token (its `jti` and `aud` are read without checking the signature), or a
--   table with `jti` and optional `aud` (other fields are ignored, so decoded claims work);
--   without `aud` Auth0 takes the caller's own tenant
-- @return true
-- @return[2] nil
-- @return[2] the error value
-- @raise when `what` is neither a string nor a table, or jti/aud are not strings
function Blacklist:revoke(what)
    local fname = "blacklist.revoke"
    local pair, perr = revocation_of(fname, what)
    if not pair then return nil, perr end
    local body, jerr = json.encode(pair, "request")
    if not body then error(fname .. ": " .. jerr, 2) end
    -- Revoking twice is harmless: a 5xx may be retried although this is a POST.
    local response, err = call.call(fname, self.conn, "POST", PATH, body, true)
    if not response then return nil, err end
    return true
end

--- Lists revoked tokens: `GET /blacklists/tokens`, optionally of one tenant only.
-- @tparam[opt] table opts `aud`: only the tokens of this tenant
-- @treturn table array of `{ aud = "...", jti = "..." }` in the server's order
-- @return[2] nil
-- @return[2] the error value
-- @raise on an unknown option or a non-string aud
function Blacklist:list(opts)
    local fname = "blacklist.list"
    opts = opts == nil and {} or options.check(fname, opts, LIST_OPTIONS, 2)
    if opts.aud ~= nil and (type(opts.aud) ~= "string" or opts.aud == "") then
        error(fname .. ": aud must be a non-empty string", 2)
    end
    local path = PATH .. (opts.aud and ("?aud=" .. url.escape(opts.aud)) or "")
    local response, err = call.call(fname, self.conn, "GET", path)
    if not response then return nil, err end
    local decoded = json.decode(response.body)
    local list = {}
    if type(decoded) == "table" and find(response.body, "^%s*%[") then
        for i, entry in ipairs(decoded) do
            if type(entry) ~= "table" or type(entry.jti) ~= "string" then
                decoded = nil
                break
            end
            list[i] = { jti = entry.jti, aud = type(entry.aud) == "string" and entry.aud or nil }
        end
    else
        decoded = nil
    end
    if not decoded then
        return nil, new_error{ op = fname, status = response.status,
            error_code = "invalid_response", message = "expected a JSON array of {aud, jti}, got "
            .. (excerpt_of(response) or "an empty body") }
    end
    return list
end

return M
