--- How a command ends: the exit codes, and the early endings raised inside a command (a usage
-- error, a failed operation) that cli.main turns into an exit code and one line on stderr.
local options = require "auth0.apiv2.internal.options"

local M = {}

local error, pcall, setmetatable, getmetatable = error, pcall, setmetatable, getmetatable

M.OK, M.FAILED, M.USAGE, M.BUG = 0, 1, 2, 3
M.PROGRAM = "auth0-apiv2"
local PROGRAM = M.PROGRAM

-- Raised inside a command and turned into an exit code by main: never escapes the command.
local Stop = {}
Stop.__index = Stop

--- Whether a raised value is an early ending (and not a bug).
function M.is_stop(value)
    return getmetatable(value) == Stop
end

--- Ends the command with `code`, `message` for stderr and, with --json, `json_text` for stdout.
function M.stop(code, message, json_text)
    error(setmetatable({ code = code, message = message, json = json_text }, Stop), 0)
end
local stop = M.stop

--- A usage error: exit 2, one line on stderr naming the command's help.
function M.usage(cmd, message)
    local where = cmd and (PROGRAM .. " " .. cmd) or PROGRAM
    stop(M.USAGE, where .. ": " .. message .. " (see " .. where .. " --help)")
end
local usage = M.usage

--- The operation failed: exit 1.
function M.fail(cmd, message, json_text)
    stop(M.FAILED, PROGRAM .. " " .. cmd .. ": " .. message, json_text)
end

--- A library error message without the "file:line: " position Lua put in front of it.
M.clean = options.without_position
local clean = M.clean

--- Calls a library function that raises on misuse; its message becomes a usage error.
function M.checked(cmd, f, ...)
    local result = { pcall(f, ...) }
    if not result[1] then usage(cmd, clean(result[2])) end
    return result[2], result[3], result[4]
end

return M
