--- What `revoke` and `blacklist` share: the tenant's options, the blacklist client made from
-- them (with AUTH0_TOKEN, or a token signed with the secret), and how a failed call is told.
local bearer = require "auth0.apiv2.internal.bearer"
local failure = require "auth0.apiv2.cli.failure"
local args = require "auth0.apiv2.cli.args"
local input = require "auth0.apiv2.cli.input"
local output = require "auth0.apiv2.cli.output"

local M = {}

local pairs, pcall, require = pairs, pcall, require
local match = string.match
local usage, fail, clean = failure.usage, failure.fail, failure.clean
local whole_number, trim, compact = args.whole_number, input.trim, output.compact

local TENANT_OPTIONS = {
    domain = "value", ["base-url"] = "value", ["ca-file"] = "value", timeout = "value",
    retries = "value", ["secret-file"] = "value", ["raw-secret"] = "flag",
}

--- The command's own options with the tenant's added.
function M.with_options(spec)
    for name, kind in pairs(TENANT_OPTIONS) do spec[name] = kind end
    return spec
end

--- A blacklist client: --base-url, else --domain, else AUTH0_DOMAIN; the bearer token from
-- AUTH0_TOKEN, else minted from the secret for mint_aud (with `key`, a key object already
-- read, else the secret is read now). Returns the client and the key to wipe.
function M.blacklist_client(cmd, ctx, opts, mint_aud, key_given)
    local blacklist = require "auth0.apiv2.blacklist"
    local o = {
        base_url = opts["base-url"],
        ca_file = opts["ca-file"],
        timeout = opts.timeout and whole_number(cmd, "timeout", opts.timeout, 1, 600000),
        retries = opts.retries and whole_number(cmd, "retries", opts.retries, 0, 10),
    }
    if not o.base_url then
        local domain = opts.domain or ctx.getenv("AUTH0_DOMAIN")
        if domain == nil or domain == "" then
            usage(cmd, "the tenant is unknown: give --domain or set AUTH0_DOMAIN")
        end
        o.domain = domain
    end
    local given, key = ctx.getenv("AUTH0_TOKEN"), nil
    if given ~= nil and trim(given) ~= "" then
        o.token = trim(given)
        if not match(o.token, bearer.BEARER_CHARS) then
            usage(cmd, "AUTH0_TOKEN must be a bearer token (a compact JWT)")
        end
    else
        if not mint_aud then
            usage(cmd, "no admin token: set AUTH0_TOKEN, or give --aud so that one is signed "
                .. "with the secret")
        end
        key = key_given or input.key(cmd, ctx, opts)
        o.key, o.aud = key, mint_aud
    end
    local ok, client = pcall(blacklist.new, o)
    if not ok then
        if key and not key_given then key:wipe() end
        usage(cmd, clean(client))
    end
    return client, key
end

--- Ends the command after a failed blacklist call: the error's text without its op.
function M.request_failed(cmd, err, opts)
    local json_text
    if opts.json then
        json_text = compact{ error = {
            status = err.status, error_code = err.error_code, error = err.error,
            message = err.message, attempts = err.attempts, retry_after = err.retry_after,
            reset = err.reset,
        } }
    end
    fail(cmd, err:describe(), json_text)
end

return M
