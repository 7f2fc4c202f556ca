--- `auth0-apiv2 blacklist`: lists revoked tokens as AUD and JTI columns.
local failure = require "auth0.apiv2.cli.failure"
local output = require "auth0.apiv2.cli.output"
local tenant = require "auth0.apiv2.cli.tenant"

local ipairs = ipairs
local usage = failure.usage

local M = { options = tenant.with_options{ aud = "value" } }

function M.run(ctx, opts, positional)
    local cmd = "blacklist"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    local bl, key = tenant.blacklist_client(cmd, ctx, opts, opts.aud)
    local list, err = bl:list{ aud = opts.aud }
    if key then key:wipe() end
    if not list then tenant.request_failed(cmd, err, opts) end
    if opts.json then
        ctx.stdout:write(output.compact(output.list_or_empty(list)), "\n")
    elseif #list == 0 then
        ctx.stdout:write("no revoked tokens\n")
    else
        local rows = {}
        for i, entry in ipairs(list) do
            rows[i] = { entry.aud and output.visible(entry.aud) or "-", output.visible(entry.jti) }
        end
        output.write_table(ctx, { "AUD", "JTI" }, rows)
    end
    return failure.OK
end

return M
