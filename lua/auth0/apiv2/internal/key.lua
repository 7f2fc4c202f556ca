--- Key objects: an API secret decoded once into OpenSSL's HMAC state. Shared by signing and
-- verifying, so both apply the same decoding and the same minimum length.
local core = require "auth0.apiv2.internal.core"
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, error = type, error
local format = string.format
local core_key = core.key

--- Keys under 32 bytes are refused (RFC 7518 section 3.2: an HS256 key at least as long as
-- the hash).
M.MIN_BYTES = 32

M.is_key = core.is_key

local OPTIONS = { encoding = true }

--- Makes a key object of a secret, or says why not with a code (for callers such as the
-- command, which explain the problem in their own terms) and a message.
-- @tparam string secret
-- @tparam string encoding "base64" or "raw"
-- @return the key object
-- @treturn[2] nil
-- @treturn[2] string "not_base64" or "too_short"
-- @treturn[2] string the message, without a function's name
function M.try(secret, encoding)
    local key = core_key(secret, encoding)
    if not key then
        return nil, "not_base64", "secret is not base64 or base64url text; for a plain-text "
            .. "secret use token.key(secret, { encoding = \"raw\" })"
    end
    local bytes = key:length()
    if bytes < M.MIN_BYTES then
        key:wipe()
        return nil, "too_short", format("key is %d bytes, at least %d are required", bytes,
            M.MIN_BYTES)
    end
    return key
end
local try = M.try

--- Makes a key object; errors name `fname` and are raised at the caller's caller (level 3).
-- @raise on a wrong type, an unknown option, text that is not base64, a key under 32 bytes
function M.make(fname, secret, opts)
    if type(secret) ~= "string" then
        error(fname .. ": secret must be a string, got " .. type(secret), 3)
    end
    local encoding = "base64"
    if opts ~= nil then
        options.check(fname, opts, OPTIONS, 3)
        encoding = opts.encoding or encoding
        if encoding ~= "base64" and encoding ~= "raw" then
            error(fname .. ": encoding must be \"base64\" or \"raw\"", 3)
        end
    end
    local key, _, message = try(secret, encoding)
    if not key then error(fname .. ": " .. message, 3) end
    return key
end

return M
