--- Strict parsing of compact JWS tokens (the byte rules live in C: core.jws_parse): size,
-- characters, exactly three non-empty segments, canonical base64url, strict UTF-8 JSON objects
-- without duplicate names. No signature check here: token.verify adds that.
local core = require "auth0.apiv2.core"
local json = require "auth0.apiv2.json"

local M = {}

local type, error = type, error
local jws_parse, json_decode = core.jws_parse, json.decode_checked

M.MAX_TOKEN = core.TOKEN_MAX

--- Splits and decodes a compact token without checking its signature.
-- @tparam string jwt
-- @tparam string fname the public function named when jwt is not a string
-- @treturn table header
-- @treturn table claims
-- @treturn integer length of the signing input (the token up to its second dot)
-- @treturn string the decoded signature bytes
-- @treturn[2] nil
-- @treturn[2] string reason: "token too long", "malformed token", "invalid base64url",
--   "invalid utf8", "invalid json", "duplicate member", "too deep", "header not an object",
--   "payload not an object"
-- @raise when jwt is not a string
function M.parse(jwt, fname)
    if type(jwt) ~= "string" then
        error(fname .. ": token must be a string, got " .. type(jwt), 3)
    end
    local header_json, payload_json, input_length, signature = jws_parse(jwt)
    if not header_json then return nil, payload_json end
    local header, herr = json_decode(header_json)
    if not header then return nil, herr end
    local claims, cerr = json_decode(payload_json)
    if not claims then return nil, cerr end
    return header, claims, input_length, signature
end

return M
