--- `auth0-apiv2 decode`: shows a token's header and claims, its times and the scopes it
-- grants, WITHOUT checking its signature.
local token = require "auth0.apiv2.token"
local granted = require "auth0.apiv2.internal.granted"
local failure = require "auth0.apiv2.cli.failure"
local input = require "auth0.apiv2.cli.input"
local output = require "auth0.apiv2.cli.output"

local ipairs, require = ipairs, require
local concat = table.concat
local fail = failure.fail
local compact, list_or_empty, pretty = output.compact, output.list_or_empty, output.pretty
local visible, json_visible = output.visible, output.json_visible

local SPECIAL_NOTE = "is a current_user scope: Auth0 grants it only to a logged-in user's own "
    .. "token, so a token signed with the API secret cannot use it"

local M = { options = {} }

local function special_scopes(list)
    local catalog = require "auth0.apiv2.scopes"
    local out = {}
    for _, s in ipairs(list) do
        if catalog.is_special(s) then out[#out + 1] = s end
    end
    return out
end

function M.run(ctx, opts, positional)
    local cmd = "decode"
    local jwt = input.token(cmd, ctx, positional)
    local header, claims = token.decode(jwt)
    if not header then
        fail(cmd, claims, opts.json and compact{ error = claims })
    end
    local scopes = granted.list(claims)
    local special = special_scopes(scopes)
    if opts.json then
        local header_json, payload_json = token.decode_text(jwt)
        -- The token's own JSON text (big integers stay exact), on one line and terminal-safe.
        ctx.stdout:write('{"claims":', json_visible(payload_json), ',"header":',
            json_visible(header_json),
            ',"scopes":', compact(list_or_empty(scopes)),
            ',"special_scopes":', compact(list_or_empty(special)),
            ',"times":', compact(output.times_of(claims)), "}\n")
        return failure.OK
    end
    ctx.stdout:write("header:\n", pretty(header), "\nclaims:\n", pretty(claims), "\n")
    output.write_times(ctx, claims)
    if #scopes > 0 then
        local shown = {}
        for i, s in ipairs(scopes) do shown[i] = visible(s) end
        ctx.stdout:write("scopes:\n  ", concat(shown, "\n  "), "\n")
    end
    for _, s in ipairs(special) do
        ctx.stdout:write("note: ", visible(s), " ", SPECIAL_NOTE, "\n")
    end
    if claims.jti == nil then
        ctx.stdout:write("note: the token has no jti, so it cannot be revoked\n")
    end
    return failure.OK
end

return M
