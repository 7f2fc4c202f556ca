--- auth0.apiv2: make, check and revoke Auth0 Management API v2 tokens.
-- `require "auth0.apiv2"` gives the version and the main modules; each can also be required
-- on its own (`auth0.apiv2.token`).
local core = require "auth0.apiv2.core"

local M = {
    _VERSION = "0.1.0",
    token = require "auth0.apiv2.token",
}

-- The C core and the Lua modules are released together: refuse a mismatched pair.
if core._VERSION ~= M._VERSION then
    error(("auth0.apiv2 %s found auth0.apiv2.core %s: reinstall the rock"):format(
        M._VERSION, core._VERSION))
end

return M
