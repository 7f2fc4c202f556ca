--- What the commands read: the token argument (or standard input) and the API secret, which
-- never comes from the command line.
local keys = require "auth0.apiv2.internal.key"
local failure = require "auth0.apiv2.cli.failure"

local M = {}

local tostring = tostring
local find, gsub, match, sub = string.find, string.gsub, string.match, string.sub
local usage = failure.usage

-- " (No such file or directory)" from io.open's "PATH: No such file or directory", without the
-- path; "" when the message does not have that form.
local function reason_of(path, err)
    err = tostring(err)
    if sub(err, 1, #path + 2) ~= path .. ": " then return "" end
    local reason = sub(err, #path + 3)
    if reason == "" or find(reason, path, 1, true) or #reason > 100 then return "" end
    return " (" .. reason .. ")"
end

M.SECRET_SOURCES = "AUTH0_API_SECRET, --secret-file FILE or standard input"
local SECRET_SOURCES = M.SECRET_SOURCES

--- The text without surrounding white space.
function M.trim(s)
    return (match(s, "^%s*(.-)%s*$"))
end
local trim = M.trim

--- The token argument: the text itself, or "-" for standard input. Surrounding white space is
-- dropped.
function M.token(cmd, ctx, positional)
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

-- What is wrong with the secret, in terms of the command's options.
local function secret_problem(problem, message, source)
    if problem == "not_base64" then
        return "the secret from " .. source .. " is not base64 or base64url text; "
            .. "for a plain-text secret add --raw-secret"
    end
    return "the secret from " .. source .. ": " .. message
end

--- The key object made from the secret: --secret-file, else AUTH0_API_SECRET, else standard
-- input. With --raw-secret the text is used as bytes (one final line break dropped); otherwise
-- it is base64(url) and surrounding white space is dropped.
function M.key(cmd, ctx, opts)
    local secret, source
    local path = opts["secret-file"]
    if path then
        local f, err = ctx.open(path, "rb")
        -- Never the path: people paste the secret itself there by mistake. io.open's message
        -- starts with the path; only the reason after it is kept.
        if not f then
            usage(cmd, "cannot read the file given to --secret-file" .. reason_of(path, err))
        end
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
    local key, problem, message = keys.try(secret, opts["raw-secret"] and "raw" or "base64")
    if not key then usage(cmd, secret_problem(problem, message, source)) end
    return key
end

return M
