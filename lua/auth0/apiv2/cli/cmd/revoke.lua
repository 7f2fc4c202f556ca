--- `auth0-apiv2 revoke`: revokes a token (or a jti) through the tenant's blacklist.
local token = require "auth0.apiv2.token"
local failure = require "auth0.apiv2.cli.failure"
local input = require "auth0.apiv2.cli.input"
local output = require "auth0.apiv2.cli.output"
local tenant = require "auth0.apiv2.cli.tenant"

local type = type
local usage, fail, compact = failure.usage, failure.fail, output.compact

local M = { options = tenant.with_options{ jti = "value", aud = "value", redis = "value",
    ["redis-db"] = "value", ["redis-prefix"] = "value" } }

-- --redis HOST:PORT: the revocation goes into the fleet's Redis (auth0.apiv2.fleet), not to
-- Auth0; the gateways of nginx.revocations{ redis = ... } refuse it within milliseconds.
local function revoke_in_redis(cmd, ctx, opts, what, exp)
    local fleet = require "auth0.apiv2.fleet"
    local host, port = fleet.parse_address(opts.redis)
    if not host then usage(cmd, "--redis: " .. port) end
    local db = opts["redis-db"] and tonumber(opts["redis-db"])
    if opts["redis-db"] and not (db and db >= 0 and db == math.floor(db)) then
        usage(cmd, "--redis-db must be a whole number")
    end
    local password = ctx.getenv("REDIS_PASSWORD")
    local f = fleet.new{ host = host, port = port, db = db, prefix = opts["redis-prefix"],
        password = password ~= "" and password or nil }
    local id, err = f:revoke(what.aud or "", what.jti, exp)
    f:close()
    if not id then
        fail(cmd, err, opts.json and compact{ error = { error_code = "redis", message = err } })
    end
    if opts.json then
        ctx.stdout:write(compact{ revoked = true, jti = what.jti, aud = what.aud, redis = id },
            "\n")
    else
        ctx.stdout:write("revoked jti ", what.jti,
            what.aud and (" (aud " .. what.aud .. ")") or "", " fleet-wide (redis ", id, ")\n")
    end
    return failure.OK
end

function M.run(ctx, opts, positional)
    local cmd = "revoke"
    local what, mint_aud, exp
    if #positional > 1 then usage(cmd, "takes one token, got " .. #positional .. " arguments") end
    if opts.jti then
        if #positional > 0 then usage(cmd, "give a token or --jti, not both") end
        if opts.jti == "" then usage(cmd, "--jti must not be empty") end
        what = { jti = opts.jti, aud = opts.aud }
        mint_aud = opts.aud
    else
        if #positional == 0 then usage(cmd, "a token (or - for standard input), or --jti, "
            .. "is required") end
        if opts.aud then usage(cmd, "--aud goes with --jti: a token's own aud is used") end
        what = input.token(cmd, ctx, positional)
        local header, claims = token.decode(what)
        if not header then
            fail(cmd, "cannot read the token: " .. claims,
                opts.json and compact{ error = { error_code = "malformed_token",
                    message = "cannot read the token: " .. claims } })
        end
        mint_aud = type(claims.aud) == "string" and claims.aud ~= "" and claims.aud or nil
        what = { jti = claims.jti, aud = claims.aud }
        exp = type(claims.exp) == "number" and claims.exp or nil
        if what.jti ~= nil and type(what.jti) ~= "string" then
            fail(cmd, "malformed_token: the token's jti is not a string")
        end
        if what.jti == nil or what.jti == "" then
            fail(cmd, "missing_jti: the token has no jti, so it cannot be revoked",
                opts.json and compact{ error = { error_code = "missing_jti",
                    message = "the token has no jti, so it cannot be revoked" } })
        end
        if what.aud ~= nil and type(what.aud) ~= "string" then
            fail(cmd, "malformed_token: the token's aud is not a string")
        end
    end
    if opts.redis then return revoke_in_redis(cmd, ctx, opts, what, exp) end
    if opts["redis-db"] or opts["redis-prefix"] then
        usage(cmd, "--redis-db and --redis-prefix go with --redis")
    end
    local bl, key = tenant.blacklist_client(cmd, ctx, opts, mint_aud)
    local ok, err = bl:revoke(what)
    if key then key:wipe() end
    if not ok then tenant.request_failed(cmd, err, opts) end
    if opts.json then
        ctx.stdout:write(compact{ revoked = true, jti = what.jti, aud = what.aud }, "\n")
    else
        ctx.stdout:write("revoked jti ", output.visible(what.jti),
            what.aud and (" (aud " .. output.visible(what.aud) .. ")") or "", "\n")
    end
    return failure.OK
end

return M
