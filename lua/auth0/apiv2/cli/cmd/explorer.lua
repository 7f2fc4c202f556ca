--- `auth0-apiv2 explorer`: prints the offline token generator page (one HTML file).
local failure = require "auth0.apiv2.cli.failure"

local require = require
local usage = failure.usage

local M = { options = {} }

function M.run(ctx, opts, positional)
    local cmd = "explorer"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    if opts.json then usage(cmd, "--json is not available: the output is HTML") end
    ctx.stdout:write(require("auth0.apiv2.internal.explorer").page())
    return failure.OK
end

return M
