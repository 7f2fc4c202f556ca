--- The `auth0-apiv2` command: sign, decode, verify and revoke Auth0 APIv2 tokens, list revoked
-- ones and browse the scope catalog. `bin/auth0-apiv2` only calls `main`; specs may call it
-- in-process with their own standard streams and environment.
--
-- Exit codes: 0 success; 1 the operation failed (invalid token, refused or failed request,
-- nothing matched); 2 usage error (bad arguments, missing or malformed secret); 3 a bug.
-- Secrets are never taken from the command line, and no secret reaches any output.
local apiv2 = require "auth0.apiv2"
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"

local M = {}

local type, pairs, ipairs, error, pcall, tostring, tonumber, next = type, pairs, ipairs, error,
    pcall, tostring, tonumber, next
local setmetatable, getmetatable = setmetatable, getmetatable
local find, format, gsub, match, sub, rep, gmatch = string.find, string.format, string.gsub,
    string.match, string.sub, string.rep, string.gmatch
local concat, sort = table.concat, table.sort
local floor = math.floor
local bytes_less = json.bytes_less

M.OK, M.FAILED, M.USAGE, M.BUG = 0, 1, 2, 3

local PROGRAM = "auth0-apiv2"
local MAX_TIME = 2 ^ 53 - 1
local MAX_LEEWAY = 300
local LAST_DATE = 253402300799          -- 9999-12-31T23:59:59Z: the last time os.date shows
local RESERVED_CLAIMS = { iat = true, scopes = true, jti = true, exp = true, aud = true }
local SECRET_SOURCES = "AUTH0_API_SECRET, --secret-file FILE or standard input"
local SPECIAL_NOTE = "is a current_user scope: Auth0 grants it only to a logged-in user's own "
    .. "token, so a token signed with the API secret cannot use it"

---------------------------------------------------------------- failures

-- Raised inside a command and turned into an exit code by main: never escapes this module.
local Stop = {}
Stop.__index = Stop

local function stop(code, message, json_text)
    error(setmetatable({ code = code, message = message, json = json_text }, Stop), 0)
end

-- Usage errors: exit 2, one line on stderr naming the command's help.
local function usage(cmd, message)
    local where = cmd and (PROGRAM .. " " .. cmd) or PROGRAM
    stop(M.USAGE, where .. ": " .. message .. " (see " .. where .. " --help)")
end

local function fail(cmd, message, json_text)
    stop(M.FAILED, PROGRAM .. " " .. cmd .. ": " .. message, json_text)
end

-- A library error message without the "file:line: " position Lua put in front of it.
local function clean(err)
    return (gsub(tostring(err), "^[^\n:]*:%d+: ", ""))
end

-- Calls a library function that raises on misuse; its message becomes a usage error.
local function checked(cmd, f, ...)
    local result = { pcall(f, ...) }
    if not result[1] then usage(cmd, clean(result[2])) end
    return result[2], result[3]
end

---------------------------------------------------------------- JSON output

-- Deterministic pretty JSON: object keys sorted by bytes, two spaces per level. Scalars are
-- written by auth0.apiv2.json (JSON.stringify's bytes). An empty table is `{}` (a decoded `[]`
-- cannot be told apart from `{}`).
local function pretty(value, indent, out)
    if type(value) ~= "table" or value == json.empty_array or next(value) == nil then
        out[#out + 1] = json.encode(value) or json.encode(tostring(value))
        return
    end
    local inner = indent .. "  "
    local count = 0
    for _ in pairs(value) do count = count + 1 end
    if count == #value then
        out[#out + 1] = "[\n"
        for i, v in ipairs(value) do
            out[#out + 1] = inner
            pretty(v, inner, out)
            out[#out + 1] = i < count and ",\n" or "\n"
        end
        out[#out + 1] = indent .. "]"
        return
    end
    local names = {}
    for name in pairs(value) do names[#names + 1] = tostring(name) end
    sort(names, bytes_less)
    out[#out + 1] = "{\n"
    for i, name in ipairs(names) do
        local v = value[name]
        if v == nil then v = value[tonumber(name)] end
        out[#out + 1] = inner .. json.encode(name) .. ": "
        pretty(v, inner, out)
        out[#out + 1] = i < #names and ",\n" or "\n"
    end
    out[#out + 1] = indent .. "}"
end

--- Pretty JSON text of a value: keys sorted by bytes, two-space indent, no final newline.
-- @param value a Lua value of JSON shape (strings, numbers, booleans, json.null, tables)
-- @treturn string
function M.pretty(value)
    local out = {}
    pretty(value, "", out)
    return concat(out)
end

-- Compact JSON with sorted keys, for --json; raw JSON texts are spliced in by the callers.
local function compact(value)
    return (assert(json.encode(value, "output")))
end

local function list_or_empty(list)
    return #list > 0 and list or json.empty_array
end

---------------------------------------------------------------- arguments

-- An option name safe to repeat in a message: a short word. Anything else could be a secret
-- pasted by mistake (base64url text may begin with "-").
local function shown_option(name)
    if #name <= 24 and match(name, "^%-%-?[a-z][a-z0-9-]*$") then return name end
    return nil
end

local SECRET_ON_ARGV = "is refused: a secret on the command line is visible to every user of "
    .. "this machine (ps, /proc); give it in " .. SECRET_SOURCES

-- Parses argv[first..] against spec (option name -> "flag" | "value" | "list"). Returns the
-- options (by name without dashes) and the positional arguments. Values are never repeated
-- in messages.
local function parse_args(cmd, argv, first, spec)
    local opts, positional = {}, {}
    local only_positional = false
    local i = first
    while i <= #argv do
        local a = argv[i]
        if type(a) ~= "string" then error("cli.main: argv must hold strings", 0) end
        if only_positional or a == "-" or sub(a, 1, 1) ~= "-" then
            positional[#positional + 1] = a
        elseif a == "--" then
            only_positional = true
        else
            local name, value = match(a, "^%-%-([^=]+)=(.*)$")
            if not name then name = match(a, "^%-%-(.+)$") end
            local shown = shown_option(name and "--" .. name or a)
            if not name then
                usage(cmd, shown and ("unknown option " .. shown)
                    or "unknown option (not shown: options are --name)")
            end
            local kind = spec[name]
            if not kind and find(name, "secret", 1, true) then
                usage(cmd, (shown or "a secret option") .. " " .. SECRET_ON_ARGV)
            elseif not kind then
                usage(cmd, shown and ("unknown option " .. shown) or "unknown option (not shown)")
            end
            if kind == "flag" then
                if value then usage(cmd, "--" .. name .. " takes no value") end
                opts[name] = true
            else
                if not value then
                    i = i + 1
                    value = argv[i]
                    if value == nil then usage(cmd, "--" .. name .. " needs a value") end
                end
                if kind == "list" then
                    opts[name] = opts[name] or {}
                    opts[name][#opts[name] + 1] = value
                elseif opts[name] ~= nil then
                    usage(cmd, "--" .. name .. " given twice")
                else
                    opts[name] = value
                end
            end
        end
        i = i + 1
    end
    return opts, positional
end

local function trim(s)
    return (match(s, "^%s*(.-)%s*$"))
end

local function whole_number(cmd, name, text, low, high)
    local n = match(text, "^%d+$") and tonumber(text)
    if not n or n < low or n > high then
        usage(cmd, format("--%s must be a whole number from %d to %.0f", name, low, high))
    end
    return n
end

---------------------------------------------------------------- input: tokens and secrets

-- The token argument: the text itself, or "-" for standard input. Surrounding white space is
-- dropped.
local function token_argument(cmd, ctx, positional)
    if #positional == 0 then usage(cmd, "a token (or - for standard input) is required") end
    if #positional > 1 then usage(cmd, "takes one token, got " .. #positional .. " arguments") end
    local text = positional[1]
    if text == "-" then
        text = ctx.stdin:read("*a") or ""
        ctx.stdin_used = true
    end
    text = trim(text)
    if text == "" then usage(cmd, "the token is empty") end
    return text
end

-- Turns token.key's misuse message into one about the command's options.
local function secret_problem(err, source)
    err = clean(err)
    if find(err, "not base64", 1, true) then
        return "the secret from " .. source .. " is not base64 or base64url text; "
            .. "for a plain-text secret add --raw-secret"
    end
    return "the secret from " .. source .. ": " .. gsub(err, "^token%.key: ", "")
end

-- The key object made from the secret: --secret-file, else AUTH0_API_SECRET, else standard
-- input. With --raw-secret the text is used as bytes (one final line break dropped); otherwise
-- it is base64(url) and surrounding white space is dropped.
local function read_key(cmd, ctx, opts)
    local secret, source
    local path = opts["secret-file"]
    if path then
        local f, err = ctx.open(path, "rb")
        if not f then usage(cmd, "cannot read --secret-file: " .. tostring(err)) end
        secret = f:read("*a") or ""
        f:close()
        source = "--secret-file"
    else
        secret = ctx.getenv("AUTH0_API_SECRET")
        source = "AUTH0_API_SECRET"
        if secret == nil or secret == "" then
            if ctx.stdin_used then
                usage(cmd, "the token is read from standard input, so the secret must come from "
                    .. "AUTH0_API_SECRET or --secret-file")
            end
            if ctx.stdin_is_terminal() then
                usage(cmd, "no secret: give it in " .. SECRET_SOURCES
                    .. " (not typed on a terminal)")
            end
            secret = ctx.stdin:read("*a") or ""
            ctx.stdin_used = true
            source = "standard input"
        end
    end
    if opts["raw-secret"] then
        secret = gsub(secret, "\r?\n$", "")
    else
        secret = trim(secret)
    end
    if secret == "" then usage(cmd, "no secret: give it in " .. SECRET_SOURCES) end
    local ok, key = pcall(token.key, secret, { encoding = opts["raw-secret"] and "raw"
        or "base64" })
    if not ok then usage(cmd, secret_problem(key, source)) end
    return key
end

---------------------------------------------------------------- claims, scopes, times

-- Whether text is a number in JSON's grammar (no "+", no leading zeros, no "1." or ".5").
local function is_json_number(text)
    local rest = match(text, "^%-?0(.*)$") or match(text, "^%-?[1-9]%d*(.*)$")
    if not rest then return false end
    rest = gsub(rest, "^%.%d+", "", 1)
    rest = gsub(rest, "^[eE][+-]?%d+", "", 1)
    return rest == ""
end

-- A --claim value: a JSON number, true, false or null when it is one; a JSON string in double
-- quotes is that string; anything else is the text itself. Integers beyond 2^53 and numbers
-- too large for a double stay text (JSON readers would lose digits).
local function claim_value(text)
    if text == "true" then return true end
    if text == "false" then return false end
    if text == "null" then return json.null end
    if is_json_number(text) then
        local n = tonumber(text)
        local integer = match(text, "^%-?%d+$") ~= nil
        if n and n - n == 0 and not (integer and (n > MAX_TIME or n < -MAX_TIME)) then
            return n
        end
        return text
    end
    if match(text, '^".*"$') then
        local s = json.decode(text)
        if type(s) == "string" then return s end
    end
    return text
end

local function parse_claims(cmd, list)
    if not list then return nil end
    local claims = {}
    for _, item in ipairs(list) do
        local name, value = match(item, "^([^=]+)=(.*)$")
        if not name then usage(cmd, "--claim takes NAME=VALUE") end
        if RESERVED_CLAIMS[name] then
            usage(cmd, "--claim " .. name .. ": " .. name .. " is set by the command "
                .. "(iat, scopes, jti, exp and aud are reserved)")
        end
        if claims[name] ~= nil then usage(cmd, "--claim " .. name .. " given twice") end
        claims[name] = claim_value(value)
    end
    return claims
end

-- --scope values, each possibly a comma- or space-separated list.
local function scope_list(list)
    local out = {}
    for _, item in ipairs(list or {}) do
        for s in gmatch(item, "[^,%s]+") do out[#out + 1] = s end
    end
    return out
end

-- The scopes a token's claims grant, as action:entity strings: the `scopes` object (entities
-- sorted by name, actions in order), then the `scope` string's words; no duplicates.
local function granted_scopes(claims)
    local out, seen = {}, {}
    local function add(s)
        if not seen[s] then
            seen[s] = true
            out[#out + 1] = s
        end
    end
    local map = claims.scopes
    if type(map) == "table" then
        local entities = {}
        for entity in pairs(map) do
            if type(entity) == "string" then entities[#entities + 1] = entity end
        end
        sort(entities, bytes_less)
        for _, entity in ipairs(entities) do
            local actions = type(map[entity]) == "table" and map[entity].actions
            if type(actions) == "table" then
                for _, action in ipairs(actions) do
                    if type(action) == "string" then add(action .. ":" .. entity) end
                end
            end
        end
    end
    if type(claims.scope) == "string" then
        for s in gmatch(claims.scope, "%S+") do add(s) end
    end
    return out
end

local function special_scopes(list)
    local catalog = require "auth0.apiv2.scopes"
    local out = {}
    for _, s in ipairs(list) do
        if catalog.is_special(s) then out[#out + 1] = s end
    end
    return out
end

-- A time claim as UTC text, or nil when it is no whole number of seconds in years 1970..9999.
local function utc(t)
    if type(t) ~= "number" or t ~= floor(t) or t < 0 or t > LAST_DATE then return nil end
    local ok, text = pcall(os.date, "!%Y-%m-%dT%H:%M:%SZ", t)
    return ok and text or nil
end

local TIME_CLAIMS = { "iat", "nbf", "exp" }

local function times_of(claims)
    local times = {}
    for _, name in ipairs(TIME_CLAIMS) do
        if claims[name] ~= nil then times[name] = utc(claims[name]) or json.null end
    end
    return times
end

---------------------------------------------------------------- sign

local function cmd_sign(ctx, opts, positional)
    local cmd = "sign"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    if not opts.aud or opts.aud == "" then
        usage(cmd, "--aud is required (the tenant's API key)")
    end
    local lifetime = opts.lifetime and whole_number(cmd, "lifetime", opts.lifetime, 1, MAX_TIME)
    local t = checked(cmd, token.new, {
        aud = opts.aud,
        scopes = scope_list(opts.scope),
        endpoints = opts.endpoint,
        strict_scopes = opts["strict-scopes"] or nil,
        lifetime = lifetime,
        iat = ctx.now(),
        claims = parse_claims(cmd, opts.claim),
    })
    local key = read_key(cmd, ctx, opts)
    local jwt, err = checked(cmd, t.sign, t, key)
    key:wipe()
    if not jwt then fail(cmd, err) end
    if opts.json then
        local _, payload = token.decode_text(jwt)
        ctx.stdout:write('{"claims":', payload, ',"token":', compact(jwt), "}\n")
    else
        ctx.stdout:write(jwt, "\n")
    end
    return M.OK
end

---------------------------------------------------------------- decode

local function write_times(ctx, claims)
    local lines = {}
    for _, name in ipairs(TIME_CLAIMS) do
        local v = claims[name]
        if v ~= nil then
            local text = utc(v)
            local note = ""
            if not text then
                text = "(not a time)"
            elseif name == "exp" and ctx.now() >= v then
                note = "  (expired)"
            end
            lines[#lines + 1] = format("  %-4s %s%s\n", name, text, note)
        end
    end
    if #lines > 0 then ctx.stdout:write("times (UTC):\n", concat(lines)) end
end

local function cmd_decode(ctx, opts, positional)
    local cmd = "decode"
    local jwt = token_argument(cmd, ctx, positional)
    local header, claims = token.decode(jwt)
    if not header then
        fail(cmd, claims, opts.json and compact{ error = claims })
    end
    local scopes = granted_scopes(claims)
    local special = special_scopes(scopes)
    if opts.json then
        local header_json, payload_json = token.decode_text(jwt)
        ctx.stdout:write('{"claims":', payload_json, ',"header":', header_json,
            ',"scopes":', compact(list_or_empty(scopes)),
            ',"special_scopes":', compact(list_or_empty(special)),
            ',"times":', compact(times_of(claims)), "}\n")
        return M.OK
    end
    ctx.stdout:write("header:\n", M.pretty(header), "\nclaims:\n", M.pretty(claims), "\n")
    write_times(ctx, claims)
    if #scopes > 0 then
        ctx.stdout:write("scopes:\n  ", concat(scopes, "\n  "), "\n")
    end
    for _, s in ipairs(special) do
        ctx.stdout:write("note: ", s, " ", SPECIAL_NOTE, "\n")
    end
    if claims.jti == nil then
        ctx.stdout:write("note: the token has no jti, so it cannot be revoked\n")
    end
    return M.OK
end

---------------------------------------------------------------- verify

local function cmd_verify(ctx, opts, positional)
    local cmd = "verify"
    local jwt = token_argument(cmd, ctx, positional)
    local leeway = opts.leeway and whole_number(cmd, "leeway", opts.leeway, 0, MAX_LEEWAY)
    local required = scope_list(opts.scope)
    local key = read_key(cmd, ctx, opts)
    local claims, reason = checked(cmd, token.verify, jwt, key, {
        audience = opts.aud,
        leeway = leeway,
        now = ctx.now(),
        require_exp = opts["require-exp"] or nil,
        scopes = #required > 0 and required or nil,
    })
    key:wipe()
    if not claims then
        fail(cmd, reason, opts.json and compact{ valid = false, reason = reason })
    end
    if opts.json then
        local _, payload_json = token.decode_text(jwt)
        ctx.stdout:write('{"claims":', payload_json, ',"valid":true}\n')
    else
        ctx.stdout:write(M.pretty(claims), "\n")
    end
    return M.OK
end

---------------------------------------------------------------- revoke, blacklist

-- A blacklist client: --base-url, else --domain, else AUTH0_DOMAIN; the bearer token from
-- AUTH0_TOKEN, else minted from the secret for mint_aud. Returns the client and the key to wipe.
local function blacklist_client(cmd, ctx, opts, mint_aud)
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
    local bearer, key = ctx.getenv("AUTH0_TOKEN"), nil
    if bearer ~= nil and trim(bearer) ~= "" then
        o.token = trim(bearer)
        if not match(o.token, "^[%w%-._~+/]+=*$") then
            usage(cmd, "AUTH0_TOKEN must be a bearer token (a compact JWT)")
        end
    else
        if not mint_aud then
            usage(cmd, "no admin token: set AUTH0_TOKEN, or give --aud so that one is signed "
                .. "with the secret")
        end
        key = read_key(cmd, ctx, opts)
        o.key, o.aud = key, mint_aud
    end
    local ok, client = pcall(blacklist.new, o)
    if not ok then
        if key then key:wipe() end
        usage(cmd, clean(client))
    end
    return client, key
end

-- The failure of a blacklist call: the error's text without the library's "blacklist.x: ".
local function request_failed(cmd, err, opts)
    local text = gsub(tostring(err), "^blacklist%.%a+: ", "")
    local json_text
    if opts.json then
        json_text = compact{ error = {
            status = err.status, error_code = err.error_code, error = err.error,
            message = err.message, attempts = err.attempts, retry_after = err.retry_after,
            reset = err.reset,
        } }
    end
    fail(cmd, text, json_text)
end

local function cmd_revoke(ctx, opts, positional)
    local cmd = "revoke"
    local what, mint_aud
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
        what = token_argument(cmd, ctx, positional)
        local header, claims = token.decode(what)
        if not header then
            fail(cmd, "cannot read the token: " .. claims,
                opts.json and compact{ error = { error_code = "malformed_token",
                    message = "cannot read the token: " .. claims } })
        end
        mint_aud = type(claims.aud) == "string" and claims.aud ~= "" and claims.aud or nil
        what = { jti = claims.jti, aud = claims.aud }
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
    local bl, key = blacklist_client(cmd, ctx, opts, mint_aud)
    local ok, err = bl:revoke(what)
    if key then key:wipe() end
    if not ok then request_failed(cmd, err, opts) end
    if opts.json then
        ctx.stdout:write(compact{ revoked = true, jti = what.jti, aud = what.aud }, "\n")
    else
        ctx.stdout:write("revoked jti ", what.jti,
            what.aud and (" (aud " .. what.aud .. ")") or "", "\n")
    end
    return M.OK
end

-- Rows as aligned columns; the last column is not padded.
local function write_table(ctx, header, rows)
    local widths = {}
    local function measure(row)
        for i = 1, #row - 1 do
            if not widths[i] or #row[i] > widths[i] then widths[i] = #row[i] end
        end
    end
    measure(header)
    for _, row in ipairs(rows) do measure(row) end
    local out = {}
    local function line(row)
        local cells = {}
        for i = 1, #row - 1 do cells[i] = row[i] .. rep(" ", widths[i] - #row[i]) end
        cells[#row] = row[#row]
        out[#out + 1] = gsub(concat(cells, "  "), "%s+$", "") .. "\n"
    end
    line(header)
    for _, row in ipairs(rows) do line(row) end
    ctx.stdout:write(concat(out))
end

local function cmd_blacklist(ctx, opts, positional)
    local cmd = "blacklist"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    local bl, key = blacklist_client(cmd, ctx, opts, opts.aud)
    local list, err = bl:list{ aud = opts.aud }
    if key then key:wipe() end
    if not list then request_failed(cmd, err, opts) end
    if opts.json then
        ctx.stdout:write(compact(list_or_empty(list)), "\n")
    elseif #list == 0 then
        ctx.stdout:write("no revoked tokens\n")
    else
        local rows = {}
        for i, entry in ipairs(list) do rows[i] = { entry.aud or "-", entry.jti } end
        write_table(ctx, { "AUD", "JTI" }, rows)
    end
    return M.OK
end

---------------------------------------------------------------- scopes

local function cmd_scopes(ctx, opts, positional)
    local cmd = "scopes"
    local catalog = require "auth0.apiv2.scopes"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    if opts.entities then
        if opts.endpoint or opts.entity or opts.search then
            usage(cmd, "--entities takes no other filter")
        end
        local list = catalog.entities()
        ctx.stdout:write(opts.json and compact(list) .. "\n" or concat(list, "\n") .. "\n")
        return M.OK
    end
    local list, least
    if opts.endpoint then
        local err
        list, err = catalog.for_endpoint(opts.endpoint)
        if err == "malformed endpoint" then
            usage(cmd, "--endpoint takes \"METHOD PATH\", e.g. \"GET /users/{id}\"")
        elseif not list then
            fail(cmd, err, opts.json and compact{ error = err })
        end
        least = catalog.least_privileged(list)
    else
        list = catalog.all()
    end
    local entity = opts.entity
    local found = opts.search and {} or nil
    if found then
        for _, s in ipairs(catalog.search(opts.search)) do found[s] = true end
    end
    local rows, items = {}, {}
    for _, s in ipairs(list) do
        local e = match(s, "^[^:]*:(.*)$")
        if (not entity or e == entity) and (not found or found[s]) then
            local description = catalog.describe(s)
            local special = catalog.is_special(s)
            local item = { scope = s, description = description or json.null, special = special }
            local notes = {}
            if opts.endpoint then
                item.least_privileged = s == least
                if s == least then
                    notes[#notes + 1] = "least privileged: sign --endpoint grants it"
                end
            end
            if special then notes[#notes + 1] = "current_user: only in a user's own token" end
            if not description then notes[#notes + 1] = "not in the catalog" end
            items[#items + 1] = item
            rows[#rows + 1] = { s, (description or "") ..
                (#notes > 0 and ("  [" .. concat(notes, "; ") .. "]") or "") }
        end
    end
    if #items == 0 then
        fail(cmd, "no scope matches", opts.json and "[]")
    end
    if opts.json then
        ctx.stdout:write(compact(items), "\n")
    else
        write_table(ctx, { "SCOPE", "DESCRIPTION" }, rows)
    end
    return M.OK
end

---------------------------------------------------------------- explorer

local function cmd_explorer(ctx, opts, positional)
    if #positional > 0 then usage("explorer", "takes no arguments, got " .. #positional) end
    if opts.json then usage("explorer", "--json is not available: the output is HTML") end
    ctx.stdout:write(require("auth0.apiv2.internal.explorer").page())
    return M.OK
end

---------------------------------------------------------------- help

local SECRET_HELP = [[
secret (the tenant's API secret), first found of:
  --secret-file FILE   a file holding it
  AUTH0_API_SECRET     the environment
  standard input       piped (not typed on a terminal)
  It is base64url (or base64) text, as Auth0 shows it; surrounding white space is ignored.
  --raw-secret         use the text's bytes instead (one final line break is dropped)
  It is never accepted on the command line: --secret is refused.]]

local HELP = {}

HELP[""] = [[
usage: auth0-apiv2 COMMAND [OPTIONS]

Make, check and revoke Auth0 Management API v2 tokens.

commands:
  sign       sign a token for scopes or endpoints
  decode     show a token's header and claims (the signature is not checked)
  verify     check a token's signature, times, audience and scopes
  revoke     revoke a token through the tenant's blacklist
  blacklist  list revoked tokens
  scopes     browse the scope catalog
  explorer   print the offline token generator page (HTML): auth0-apiv2 explorer > FILE

  auth0-apiv2 COMMAND --help   the options of a command
  auth0-apiv2 --version        the version

Every command takes --json for machine-readable output. Secrets are read from
AUTH0_API_SECRET, --secret-file FILE or standard input, never from the command line.
exit status: 0 success; 1 failure (invalid token, failed request, nothing matched);
2 usage error (bad arguments, missing or malformed secret).]]

HELP.sign = [[
usage: auth0-apiv2 sign --aud ID [--scope S]... [--endpoint "METHOD PATH"]... [OPTIONS]

Signs an APIv2 token and prints it.

  --aud ID             the tenant's API key (required)
  --scope S            a scope to grant, e.g. read:users (repeatable; commas also separate)
  --endpoint E         grant the least privileged scope for an endpoint, e.g. "GET /users"
                       (repeatable); never a current_user scope
  --lifetime N         seconds until exp (no exp claim without it)
  --claim NAME=VALUE   an extra claim (repeatable): a JSON number, true, false or null when
                       VALUE is one, a JSON string when in double quotes ('n="42"'), else
                       the text itself; integers beyond 2^53 stay text
  --strict-scopes      refuse scopes the catalog does not know
  --json               print {"claims": {...}, "token": "..."}

]] .. SECRET_HELP

HELP.decode = [[
usage: auth0-apiv2 decode TOKEN|- [--json]

Shows a token's header and claims as JSON, iat/nbf/exp as UTC times, the scopes it grants
and notes on current_user scopes. The signature is NOT checked (use verify): no secret is
needed. "-" reads the token from standard input.

  --json               print {"claims", "header", "scopes", "special_scopes", "times"}]]

HELP.verify = [[
usage: auth0-apiv2 verify TOKEN|- [--aud ID] [--scope S]... [--leeway N] [--require-exp]

Checks the signature (HS256 only), exp, nbf and iat, and optionally the audience and scopes.
Exit 0 and prints the claims when valid; exit 1 and prints the reason on stderr otherwise.

  --aud ID             the token's aud must be ID
  --scope S            the token must grant S (repeatable; commas also separate)
  --leeway N           seconds of clock skew allowed, 0 to 300 (default 0)
  --require-exp        refuse a token without exp
  --json               print {"claims": {...}, "valid": true} or {"reason", "valid": false}

]] .. SECRET_HELP .. "\n  With TOKEN = -, the secret cannot also come from standard input."

local TENANT_HELP = [[
tenant and admin token:
  --domain HOST        the tenant, e.g. tenant.auth0.com (default: AUTH0_DOMAIN)
  --base-url URL       instead of the domain: https://HOST/api/v2 (http:// for local tests)
  --ca-file FILE       trusted CAs, PEM (default: the system's)
  --timeout MS         for each of connect, TLS handshake, send and read (default 5000)
  --retries N          retries after a 429 or 5xx, 0 to 10 (default 3)
  The bearer token is AUTH0_TOKEN when set (it needs blacklist:tokens); otherwise a
  5-minute blacklist:tokens token is signed with the tenant's secret for the aud.

]] .. SECRET_HELP

HELP.revoke = [[
usage: auth0-apiv2 revoke TOKEN|- [OPTIONS]
       auth0-apiv2 revoke --jti ID --aud ID [OPTIONS]

Revokes a token through Auth0's blacklist (POST /api/v2/blacklists/tokens). A token's jti
and aud are read from it (its signature is not checked); "-" reads it from standard input.

  --jti ID             the id of the token to revoke, instead of the token
  --aud ID             with --jti: the tenant's API key (optional with AUTH0_TOKEN)
  --json               print {"aud", "jti", "revoked": true} or {"error": {...}}

]] .. TENANT_HELP

HELP.blacklist = [[
usage: auth0-apiv2 blacklist [--aud ID] [--json]

Lists revoked tokens (GET /api/v2/blacklists/tokens) as AUD and JTI columns.

  --aud ID             only this tenant's tokens; also the aud of a signed admin token
  --json               print [{"aud", "jti"}, ...]

]] .. TENANT_HELP

HELP.scopes = [==[
usage: auth0-apiv2 scopes [--endpoint "METHOD PATH"] [--entity NAME] [--search WORD]

Prints the Management API v2 scope catalog as a table of scopes and descriptions. Filters
combine; exit 1 when no scope matches.

  --endpoint E         the scopes any one of which authorises an endpoint, e.g.
                       "PATCH /users/{id}" or "PATCH /api/v2/users/auth0|123"; the one
                       sign --endpoint grants is marked least privileged
  --entity NAME        only scopes of this entity, e.g. users
  --search WORD        only scopes whose name or description contains WORD (any case)
  --entities           list the entities instead
  --json               print [{"description", "scope", "special"[, "least_privileged"]}]]==]

HELP.explorer = [[
usage: auth0-apiv2 explorer > explorer.html

Prints the token generator page of Auth0's APIv2 explorer, offline: one HTML file with the
scope catalog inside. Open it from disk in a browser: pick endpoints and scopes, type the API
key and secret, and it signs the token in the browser (WebCrypto), byte for byte as
"auth0-apiv2 sign" does; its Verify tab checks a token as "auth0-apiv2 verify" does. It makes
no connection at all, and the secret stays in its field (never in the address or storage).]]

local TENANT_OPTIONS = {
    domain = "value", ["base-url"] = "value", ["ca-file"] = "value", timeout = "value",
    retries = "value", ["secret-file"] = "value", ["raw-secret"] = "flag",
}

local function with_tenant(spec)
    for name, kind in pairs(TENANT_OPTIONS) do spec[name] = kind end
    return spec
end

local COMMANDS = {
    sign = { run = cmd_sign, options = {
        aud = "value", scope = "list", endpoint = "list", lifetime = "value", claim = "list",
        ["strict-scopes"] = "flag", ["raw-secret"] = "flag", ["secret-file"] = "value",
    } },
    decode = { run = cmd_decode, options = {} },
    verify = { run = cmd_verify, options = {
        aud = "value", scope = "list", leeway = "value", ["require-exp"] = "flag",
        ["raw-secret"] = "flag", ["secret-file"] = "value",
    } },
    revoke = { run = cmd_revoke, options = with_tenant{ jti = "value", aud = "value" } },
    blacklist = { run = cmd_blacklist, options = with_tenant{ aud = "value" } },
    scopes = { run = cmd_scopes, options = {
        endpoint = "value", entity = "value", search = "value", entities = "flag",
    } },
    explorer = { run = cmd_explorer, options = {} },
}
for _, command in pairs(COMMANDS) do
    command.options.json = "flag"
    command.options.help = "flag"
end

---------------------------------------------------------------- main

local function wants_help(argv, first)
    for i = first, #argv do
        local a = argv[i]
        if a == "--" then return false end
        if a == "--help" or a == "-h" then return true end
    end
    return false
end

local function run(ctx, argv)
    local global = { json = false }
    local i = 1
    while type(argv[i]) == "string" and sub(argv[i], 1, 1) == "-" and argv[i] ~= "-" do
        local a = argv[i]
        if a == "--help" or a == "-h" then
            ctx.stdout:write(HELP[""], "\n")
            return M.OK
        elseif a == "--version" then
            global.version = true
        elseif a == "--json" then
            global.json = true
        else
            local shown = shown_option(match(a, "^[^=]*"))
            usage(nil, shown and ("unknown option " .. shown .. " before the command")
                or "unknown option before the command")
        end
        i = i + 1
    end
    if global.version then
        ctx.stdout:write(global.json and compact{ version = apiv2._VERSION }
            or (PROGRAM .. " " .. apiv2._VERSION), "\n")
        return M.OK
    end
    local name = argv[i]
    if name == nil then usage(nil, "a command is required") end
    if name == "help" then
        local topic = argv[i + 1]
        if topic ~= nil and not COMMANDS[topic] then usage(nil, "no such command") end
        ctx.stdout:write(HELP[topic or ""], "\n")
        return M.OK
    end
    local command = COMMANDS[name]
    if not command then
        local shown = shown_option("--" .. tostring(name))
        usage(nil, shown and ("unknown command " .. sub(shown, 3)) or "unknown command")
    end
    if wants_help(argv, i + 1) then
        ctx.stdout:write(HELP[name], "\n")
        return M.OK
    end
    local opts, positional = parse_args(name, argv, i + 1, command.options)
    if global.json then opts.json = true end
    return command.run(ctx, opts, positional)
end

local function no_input()
    return { read = function() return "" end }
end

local function never() return false end
local function no_env() return nil end

--- The standard streams and environment of the process, as `main` takes them.
-- @treturn table `stdin`, `stdout`, `stderr`, `getenv`, `open`, `now`, `stdin_is_terminal`
function M.default_io()
    return {
        stdin = io.stdin, stdout = io.stdout, stderr = io.stderr, getenv = os.getenv,
        open = io.open, now = os.time,
        stdin_is_terminal = function()
            local status = os.execute("test -t 0")
            return status == true or status == 0
        end,
    }
end

--- Runs the command line.
-- @tparam table argv the arguments after the program name (argv[1] is the command)
-- @tparam[opt] table io_table `stdout` and `stderr` (objects with `:write`), and optionally
--   `stdin` (with `:read("*a")`; default: empty), `getenv` (default: an empty environment),
--   `open` (default `io.open`), `now` (default `os.time`), `stdin_is_terminal` (default: false);
--   `default_io()` when nil
-- @treturn integer the exit code: 0 success, 1 failure, 2 usage error, 3 internal error
-- @raise when argv is not a table or io_table lacks stdout/stderr
function M.main(argv, io_table)
    if type(argv) ~= "table" then error("cli.main: argv must be a table", 2) end
    io_table = io_table or M.default_io()
    if type(io_table) ~= "table" or not io_table.stdout or not io_table.stderr then
        error("cli.main: io_table needs stdout and stderr", 2)
    end
    local ctx = {
        stdin = io_table.stdin or no_input(),
        stdout = io_table.stdout,
        stderr = io_table.stderr,
        getenv = io_table.getenv or no_env,
        open = io_table.open or io.open,
        now = io_table.now or os.time,
        stdin_is_terminal = io_table.stdin_is_terminal or never,
    }
    local ok, result = pcall(run, ctx, argv)
    if ok then return result end
    if getmetatable(result) == Stop then
        if result.json then ctx.stdout:write(result.json, "\n") end
        ctx.stderr:write((gsub(result.message, "[\r\n]+", " ")), "\n")
        return result.code
    end
    ctx.stderr:write(PROGRAM, ": internal error: ", (gsub(clean(result), "[\r\n]+", " ")), "\n")
    return M.BUG
end

return M
