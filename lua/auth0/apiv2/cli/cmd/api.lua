--- `auth0-apiv2 api METHOD PATH`: any Management API call, in the spirit of `gh api`: path
-- parameters, query, a JSON body, the answer as JSON on standard output, and with --paginate
-- every item of a list endpoint, one JSON line each. Credentials from the environment only:
-- AUTH0_TOKEN, or AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET (the client credentials grant).
local failure = require "auth0.apiv2.cli.failure"
local args = require "auth0.apiv2.cli.args"
local input = require "auth0.apiv2.cli.input"
local output = require "auth0.apiv2.cli.output"
local json = require "auth0.apiv2.internal.json"

local M = {
    options = {
        param = "list", query = "list", body = "value", paginate = "flag", idempotent = "flag",
        domain = "value", ["base-url"] = "value", ["ca-file"] = "value", timeout = "value",
        retries = "value", ["wait-for-reset"] = "value",
    },
}

local type, ipairs, pcall, require = type, ipairs, pcall, require
local match, upper, sub = string.match, string.upper, string.sub
local usage, fail, clean, compact = failure.usage, failure.fail, failure.clean, output.compact
local trim = input.trim
local CMD = "api"

-- NAME=VALUE pairs into a table; a name given twice becomes a list (a repeated query name).
local function pairs_of(flag, list, repeatable)
    local out = {}
    for _, item in ipairs(list or {}) do
        local name, value = match(item, "^([^=]+)=(.*)$")
        if not name then usage(CMD, "--" .. flag .. " takes NAME=VALUE") end
        local old = out[name]
        if old == nil then
            out[name] = value
        elseif not repeatable then
            usage(CMD, "--" .. flag .. " " .. name .. " given twice")
        elseif type(old) == "table" then
            old[#old + 1] = value
        else
            out[name] = { old, value }
        end
    end
    return out
end

-- The --body text: JSON given inline, @FILE, or - for standard input; checked to be JSON.
local function body_of(ctx, spec)
    if spec == nil then return nil end
    local text
    if spec == "-" then
        text = ctx.stdin:read("*a") or ""
        ctx.stdin_used = true
    elseif sub(spec, 1, 1) == "@" then
        local f = ctx.open(sub(spec, 2), "rb")
        if not f then usage(CMD, "cannot read the --body file") end
        text = f:read("*a") or ""
        f:close()
    else
        text = spec
    end
    if json.decode(text) == nil then usage(CMD, "--body is not JSON") end
    return text
end

-- The management client: --base-url, else --domain, else AUTH0_DOMAIN; AUTH0_TOKEN, else
-- AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET.
local function client(ctx, opts)
    local management = require "auth0.apiv2.management"
    local o = {
        base_url = opts["base-url"],
        ca_file = opts["ca-file"],
        timeout = opts.timeout and args.whole_number(CMD, "timeout", opts.timeout, 1, 600000),
        retries = opts.retries and args.whole_number(CMD, "retries", opts.retries, 0, 10),
        wait_for_reset = opts["wait-for-reset"]
            and args.whole_number(CMD, "wait-for-reset", opts["wait-for-reset"], 0, 86400),
        domain = opts.domain or ctx.getenv("AUTH0_DOMAIN"),
    }
    if o.domain == "" then o.domain = nil end
    if not o.base_url and not o.domain then
        usage(CMD, "the tenant is unknown: give --domain or set AUTH0_DOMAIN")
    end
    local bearer = trim(ctx.getenv("AUTH0_TOKEN") or "")
    local id, secret = ctx.getenv("AUTH0_CLIENT_ID"), ctx.getenv("AUTH0_CLIENT_SECRET")
    if bearer ~= "" then
        if not match(bearer, "^[%w%-._~+/]+=*$") then
            usage(CMD, "AUTH0_TOKEN must be a bearer token (a compact JWT)")
        end
        o.token = bearer
    elseif id and id ~= "" and secret and secret ~= "" then
        if not o.domain then
            usage(CMD, "client credentials need the domain (--domain or AUTH0_DOMAIN), also "
                .. "with --base-url")
        end
        o.client_id, o.client_secret = id, secret
    else
        usage(CMD, "no credentials: set AUTH0_TOKEN, or AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET")
    end
    local ok, mgmt = pcall(management.new, o)
    if not ok then usage(CMD, clean(mgmt)) end
    return mgmt
end

local function request_failed(err, opts)
    local json_text
    if opts.json then
        json_text = compact{ error = { status = err.status, error_code = err.error_code,
            error = err.error, message = err.message, attempts = err.attempts } }
    end
    fail(CMD, err:describe(), json_text)
end

function M.run(ctx, opts, positional)
    if #positional ~= 2 then usage(CMD, "takes METHOD and PATH, e.g. api GET /users") end
    local method, path = upper(positional[1]), positional[2]
    if not match(method, "^%u+$") then usage(CMD, "METHOD must be a word such as GET") end
    path = match(path, "^/api/v2(/.*)$") or path
    if sub(path, 1, 1) ~= "/" then usage(CMD, "PATH must start with /, e.g. /users/{id}") end
    local params = pairs_of("param", opts.param, false)
    local query = pairs_of("query", opts.query, true)
    local body = body_of(ctx, opts.body)
    if opts.paginate and (method ~= "GET" or body) then
        usage(CMD, "--paginate goes with GET and no --body")
    end
    local mgmt = client(ctx, opts)
    local call_opts = opts.idempotent and { idempotent = true } or nil
    if opts.paginate then
        local ok, items = pcall(mgmt.each, mgmt, path, params, query)
        if not ok then usage(CMD, clean(items)) end
        for item in items do ctx.stdout:write(compact(item), "\n") end
        if items.err then request_failed(items.err, opts) end
        return failure.OK
    end
    local ok, value, err = pcall(mgmt.request, mgmt, method, path, params, body, query,
        call_opts)
    if not ok then usage(CMD, clean(value)) end
    if value == nil then request_failed(err, opts) end
    if value ~= true then ctx.stdout:write(compact(value), "\n") end
    return failure.OK
end

return M
