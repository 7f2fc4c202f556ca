--- Strict parsing of compact JWS tokens (the byte rules live in C: core.jws_parse): size,
-- characters, exactly three non-empty segments, canonical base64url, strict UTF-8 JSON objects
-- without duplicate names. No signature check here: token.verify adds that.
local core = require "auth0.apiv2.internal.core"
local json = require "auth0.apiv2.internal.json"

local M = {}

local type, error = type, error
local jws_parse, json_decode = core.jws_parse, json.decode_checked

M.MAX_TOKEN = core.TOKEN_MAX

-- Decoded headers by their exact text, for verify only (it never hands the header out, so a
-- shared table cannot be changed by a caller). Nearly every token of a tenant has the same
-- header; the cache is small and cleared when full.
local HEADER_CACHE_MAX = 16
local header_cache, header_cached = {}, 0

local function shared_header(header_json)
    local header = header_cache[header_json]
    if header then return header end
    local err
    header, err = json_decode(header_json)
    if not header then return nil, err end
    if header_cached >= HEADER_CACHE_MAX then header_cache, header_cached = {}, 0 end
    header_cache[header_json] = header
    header_cached = header_cached + 1
    return header
end

--- Splits and decodes a compact token without checking its signature.
-- @tparam string jwt
-- @tparam string fname the public function named when jwt is not a string
-- @tparam[opt] boolean share_header return a cached header table that the caller must not
--   change (token.verify)
-- @treturn table header
-- @treturn table claims
-- @treturn integer length of the signing input (the token up to its second dot)
-- @treturn string the decoded signature bytes
-- @treturn[2] nil
-- @treturn[2] string reason: "token too long", "malformed token", "invalid base64url",
--   "invalid utf8", "invalid json", "duplicate member", "too deep", "header not an object",
--   "payload not an object"
-- @raise when jwt is not a string
function M.parse(jwt, fname, share_header)
    if type(jwt) ~= "string" then
        error(fname .. ": token must be a string, got " .. type(jwt), 3)
    end
    local header_json, payload_json, input_length, signature = jws_parse(jwt)
    if not header_json then return nil, payload_json end
    local header, herr
    if share_header then
        header, herr = shared_header(header_json)
    else
        header, herr = json_decode(header_json)
    end
    if not header then return nil, herr end
    local claims, cerr = json_decode(payload_json)
    if not claims then return nil, cerr end
    return header, claims, input_length, signature
end

--- The header and payload of a compact token as the JSON text they hold, after the same strict
-- checks as M.parse, without building tables and without checking the signature.
-- @tparam string jwt
-- @tparam string fname the public function named when jwt is not a string
-- @treturn string the header's JSON text
-- @treturn string the payload's JSON text
-- @treturn[2] nil
-- @treturn[2] string reason, as M.parse gives it
-- @raise when jwt is not a string
function M.parse_text(jwt, fname)
    if type(jwt) ~= "string" then
        error(fname .. ": token must be a string, got " .. type(jwt), 3)
    end
    local header_json, payload_json = jws_parse(jwt)
    if not header_json then return nil, payload_json end
    return header_json, payload_json
end

return M
