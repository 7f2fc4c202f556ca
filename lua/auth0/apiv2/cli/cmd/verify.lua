--- `auth0-apiv2 verify`: checks a token's signature, times, audience and scopes.
local token = require "auth0.apiv2.token"
local rules = require "auth0.apiv2.internal.claims"
local failure = require "auth0.apiv2.cli.failure"
local args = require "auth0.apiv2.cli.args"
local input = require "auth0.apiv2.cli.input"
local output = require "auth0.apiv2.cli.output"
local tenant = require "auth0.apiv2.cli.tenant"

local type, ipairs = type, ipairs
local fail, checked, compact = failure.fail, failure.checked, output.compact
local concat = table.concat

local MAX_LEEWAY_S = rules.MAX_LEEWAY_S

local M = {
    options = {
        aud = "value", scope = "list", leeway = "value", ["require-exp"] = "flag",
        ["raw-secret"] = "flag", ["secret-file"] = "value", ["check-revoked"] = "flag",
        domain = "value", ["base-url"] = "value", ["ca-file"] = "value", timeout = "value",
        retries = "value",
    },
}

-- --check-revoked: an is_revoked for token.verify that asks the tenant's blacklist
-- (GET /api/v2/blacklists/tokens?aud=), with AUTH0_TOKEN or a token signed with the key.
local function blacklist_check(cmd, ctx, opts, key)
    return function(aud, jti)
        if type(aud) ~= "string" or aud == "" then return nil, "the token has no aud" end
        local bl = tenant.blacklist_client(cmd, ctx, opts, aud, key)
        local list, err = bl:list{ aud = aud }
        if not list then return nil, err end
        for _, entry in ipairs(list) do
            if entry.jti == jti and (entry.aud == nil or entry.aud == aud) then return true end
        end
        return false
    end
end

function M.run(ctx, opts, positional)
    local cmd = "verify"
    local jwt = input.token(cmd, ctx, positional)
    local leeway = opts.leeway and args.whole_number(cmd, "leeway", opts.leeway, 0, MAX_LEEWAY_S)
    local required = args.scopes(opts.scope)
    local key = input.key(cmd, ctx, opts)
    local claims, reason, missing = checked(cmd, token.verify, jwt, key, {
        audience = opts.aud,
        leeway = leeway,
        now = ctx.now(),
        require_exp = opts["require-exp"] or nil,
        scopes = #required > 0 and required or nil,
        is_revoked = opts["check-revoked"] and blacklist_check(cmd, ctx, opts, key) or nil,
    })
    key:wipe()
    if not claims then
        -- "insufficient scope" names the scopes the token lacks (token.verify's third value).
        local list = {}
        for s in (missing or ""):gmatch("%S+") do list[#list + 1] = s end
        local message = reason
        if list[1] then
            message = reason .. " (missing: " .. concat(list, ", ") .. ")"
        end
        fail(cmd, message, opts.json and compact{ valid = false, reason = reason,
            missing = list[1] and list or nil })
    end
    if opts.json then
        local _, payload_json = token.decode_text(jwt)
        ctx.stdout:write('{"claims":', output.json_visible(payload_json), ',"valid":true}\n')
    else
        ctx.stdout:write(output.pretty(claims), "\n")
    end
    return failure.OK
end

return M
