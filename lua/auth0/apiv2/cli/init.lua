--- The `auth0-apiv2` command: sign, decode, verify and revoke Auth0 APIv2 tokens, list revoked
-- ones and browse the scope catalog. `bin/auth0-apiv2` only calls `main`; specs may call it
-- in-process with their own standard streams and environment. Each command is a module
-- `auth0.apiv2.cli.cmd.<name>` holding its `options` and its `run(ctx, opts, positional)`.
--
-- Exit codes: 0 success; 1 the operation failed (invalid token, refused or failed request,
-- nothing matched); 2 usage error (bad arguments, missing or malformed secret); 3 a bug.
-- Secrets are never taken from the command line, and no secret reaches any output.
local apiv2 = require "auth0.apiv2"
local failure = require "auth0.apiv2.cli.failure"
local args = require "auth0.apiv2.cli.args"
local output = require "auth0.apiv2.cli.output"
local help = require "auth0.apiv2.cli.help"

local M = {}

local type, error, tostring, require = type, error, tostring, require
local gsub, match, sub = string.gsub, string.match, string.sub

M.OK, M.FAILED, M.USAGE, M.BUG = failure.OK, failure.FAILED, failure.USAGE, failure.BUG
local OK, PROGRAM, usage, compact = failure.OK, failure.PROGRAM, failure.usage, output.compact
local visible = output.visible   -- what reaches a terminal shows its control bytes

--- Pretty JSON text of a value: keys sorted by bytes, two-space indent, no final newline.
M.pretty = output.pretty

-- The commands, each in auth0.apiv2.cli.cmd.<name> (loaded when run).
local COMMANDS = {
    sign = true, decode = true, verify = true, revoke = true, blacklist = true, scopes = true,
    api = true,
    explorer = true,
}

-- A command's module, with the options every command takes.
local function load_command(name)
    local command = require("auth0.apiv2.cli.cmd." .. name)
    command.options.json = "flag"
    command.options.help = "flag"
    return command
end

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
            ctx.stdout:write(help[""], "\n")
            return OK
        elseif a == "--version" then
            global.version = true
        elseif a == "--json" then
            global.json = true
        else
            local shown = args.shown_option(match(a, "^[^=]*"))
            usage(nil, shown and ("unknown option " .. shown .. " before the command")
                or "unknown option before the command")
        end
        i = i + 1
    end
    if global.version then
        ctx.stdout:write(global.json and compact{ version = apiv2._VERSION }
            or (PROGRAM .. " " .. apiv2._VERSION), "\n")
        return OK
    end
    local name = argv[i]
    if name == nil then usage(nil, "a command is required") end
    if name == "help" then
        local topic = argv[i + 1]
        if topic ~= nil and not COMMANDS[topic] then usage(nil, "no such command") end
        ctx.stdout:write(help[topic or ""], "\n")
        return OK
    end
    if not COMMANDS[name] then
        local shown = args.shown_option("--" .. tostring(name))
        usage(nil, shown and ("unknown command " .. sub(shown, 3)) or "unknown command")
    end
    if wants_help(argv, i + 1) then
        ctx.stdout:write(help[name], "\n")
        return OK
    end
    local command = load_command(name)
    local opts, positional = args.parse(name, argv, i + 1, command.options)
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
    if failure.is_stop(result) then
        if result.json then ctx.stdout:write(output.json_visible(result.json), "\n") end
        ctx.stderr:write(visible((gsub(result.message, "[\r\n]+", " "))), "\n")
        return result.code
    end
    ctx.stderr:write(PROGRAM, ": internal error: ",
        visible((gsub(failure.clean(result), "[\r\n]+", " "))), "\n")
    return failure.BUG
end

return M
