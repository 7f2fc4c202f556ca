--- The one loader of the C core `auth0.apiv2.core`: every module of the library requires the
-- core through this file, so a core left over from another release is refused whichever module
-- a program loads first (`auth0.apiv2.token` alone, as the README's quick start does).
local VERSION = require "auth0.apiv2.internal.version"

local core = require "auth0.apiv2.core"

-- The C core and the Lua modules are released together: refuse a mismatched pair.
if core._VERSION ~= VERSION then
    error(("auth0.apiv2 %s found auth0.apiv2.core %s: reinstall the rock"):format(
        VERSION, tostring(core._VERSION)), 0)
end

return core
