--- Strict parsing of compact JWS tokens: size, characters, exactly three non-empty segments,
-- canonical base64url, strict UTF-8 JSON without duplicate names, header and payload objects.
-- No signature check here: token.verify adds that.
local core = require "auth0.apiv2.core"
local json = require "auth0.apiv2.json"

local M = {}

local type, error = type, error
local find, sub = string.find, string.sub
local b64url_decode, json_check, json_decode = core.b64url_decode, core.json_check, json.decode

M.MAX_TOKEN = core.TOKEN_MAX

-- Decodes one segment into a JSON object; `what` names it in reasons ("header", "payload").
local function decode_object(segment, what)
    local text = b64url_decode(segment)
    if not text then return nil, "invalid base64url" end
    local ok, reason = json_check(text)
    if not ok then
        if reason == "invalid utf8" then return nil, "invalid utf8" end
        if reason == "duplicate member" then return nil, "duplicate member" end
        return nil, "invalid json"
    end
    -- Only an object may follow; lua-cjson turns arrays into tables too, so look at the text.
    if not find(text, "^[ \t\r\n]*{") then return nil, what .. " not an object" end
    local value, err = json_decode(text)
    if value == nil then return nil, err end
    return value
end

--- Splits and decodes a compact token without checking its signature.
-- @tparam string jwt
-- @treturn table header
-- @treturn table claims
-- @treturn string the signing input (first two segments as received)
-- @treturn string the decoded signature bytes
-- @treturn[2] nil
-- @treturn[2] string reason: "token too long", "malformed token", "invalid base64url",
--   "invalid utf8", "invalid json", "duplicate member", "header not an object",
--   "payload not an object"
-- @raise when jwt is not a string
function M.parse(jwt, fname)
    if type(jwt) ~= "string" then
        error((fname or "token.decode") .. ": token must be a string, got " .. type(jwt), 3)
    end
    if #jwt > M.MAX_TOKEN then return nil, "token too long" end
    if find(jwt, "[^A-Za-z0-9_%-.]") then return nil, "malformed token" end
    local dot1 = find(jwt, ".", 1, true)
    local dot2 = dot1 and find(jwt, ".", dot1 + 1, true)
    if not dot2 or find(jwt, ".", dot2 + 1, true)
        or dot1 == 1 or dot2 == dot1 + 1 or dot2 == #jwt then
        return nil, "malformed token"
    end
    local header, herr = decode_object(sub(jwt, 1, dot1 - 1), "header")
    if not header then return nil, herr end
    local claims, cerr = decode_object(sub(jwt, dot1 + 1, dot2 - 1), "payload")
    if not claims then return nil, cerr end
    local signature = b64url_decode(sub(jwt, dot2 + 1))
    if not signature then return nil, "invalid base64url" end
    return header, claims, sub(jwt, 1, dot2 - 1), signature
end

return M
