--- auth0.apiv2: make, check and revoke Auth0 Management API v2 tokens.
-- `require "auth0.apiv2"` gives the version and the main modules; each can also be required
-- on its own (`auth0.apiv2.token`).
local json = require "auth0.apiv2.internal.json"

local M = {
    _VERSION = require "auth0.apiv2.internal.version",
    token = require "auth0.apiv2.token",
    --- Stands for JSON `null` in claims and request bodies (`json.null` in the docs).
    null = json.null,
    --- Stands for the empty JSON array `[]` (an empty Lua table is written as `{}`).
    empty_array = json.empty_array,
}

return M
