--- `auth0-apiv2 sign`: signs an APIv2 token for scopes or endpoints and prints it.
local token = require "auth0.apiv2.token"
local rules = require "auth0.apiv2.internal.claims"
local failure = require "auth0.apiv2.cli.failure"
local args = require "auth0.apiv2.cli.args"
local input = require "auth0.apiv2.cli.input"
local output = require "auth0.apiv2.cli.output"

local usage, fail, checked = failure.usage, failure.fail, failure.checked

local MAX_TIME = rules.MAX_TIME

local M = {
    options = {
        aud = "value", scope = "list", endpoint = "list", lifetime = "value", claim = "list",
        ["strict-scopes"] = "flag", ["raw-secret"] = "flag", ["secret-file"] = "value",
    },
}

function M.run(ctx, opts, positional)
    local cmd = "sign"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    if not opts.aud or opts.aud == "" then
        usage(cmd, "--aud is required (the tenant's API key)")
    end
    local lifetime = opts.lifetime
        and args.whole_number(cmd, "lifetime", opts.lifetime, 1, MAX_TIME)
    local t = checked(cmd, token.new, {
        aud = opts.aud,
        scopes = args.scopes(opts.scope),
        endpoints = opts.endpoint,
        strict_scopes = opts["strict-scopes"] or nil,
        lifetime = lifetime,
        iat = ctx.now(),
        claims = args.claims(cmd, opts.claim),
    })
    local key = input.key(cmd, ctx, opts)
    local jwt, err = checked(cmd, t.sign, t, key)
    key:wipe()
    if not jwt then fail(cmd, err) end
    if opts.json then
        local _, payload = token.decode_text(jwt)
        ctx.stdout:write('{"claims":', payload, ',"token":', output.compact(jwt), "}\n")
    else
        ctx.stdout:write(jwt, "\n")
    end
    return failure.OK
end

return M
