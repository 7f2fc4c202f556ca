--- Sign and verify throughput, the same cases inside nginx and on the luajit command line.
-- bench/openresty/run loads this module in both places: inside nginx from a content handler
-- (bench/openresty/nginx.conf), outside with `luajit bench/openresty/cases.lua N`.
-- Each run of N steps is timed twice: on the wall clock (nginx: ngx.update_time + ngx.now;
-- luajit: clock_gettime(CLOCK_MONOTONIC) through the FFI) and in CPU time (os.clock, the
-- process's: an nginx worker runs Lua on one thread). Each figure is the best of RUNS runs,
-- after a warm-up. CPU time suffers less from other load on the machine.
-- luacheck: globals ngx
local token = require "auth0.apiv2.token"

local M = {}

M.RUNS = 5
local SECRET = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
local AUD = "DEMOapiKEY0123456789abcdefghijkl"
local SCOPES = { "read:users", "update:users", "read:clients", "blacklist:tokens" }
local REVOKED = 1000            -- entries in the revocation store of "verify+revoked"

local key = token.key(SECRET)   -- once, as a server (or an nginx worker) would

-- The revocation store: a lua_shared_dict inside nginx, a Lua table outside.
local function revocation_store()
    local dict = rawget(_G, "ngx") and ngx.shared and ngx.shared.bench_revoked
    if dict then
        for i = 1, REVOKED do dict:set(#AUD .. ":" .. AUD .. "revoked-" .. i, true) end
        return function(aud, jti) return dict:get(#aud .. ":" .. aud .. jti) ~= nil end
    end
    local set = {}
    for i = 1, REVOKED do set[#AUD .. ":" .. AUD .. "revoked-" .. i] = true end
    return function(aud, jti) return set[#aud .. ":" .. aud .. jti] ~= nil end
end

-- The cases, in output order: `prepare` returns the timed step, which returns a truthy value.
M.CASES = {
    {
        name = "sign",
        about = "t:sign(key), one token object re-signed",
        prepare = function()
            local t = token.new{ aud = AUD, lifetime = 3600, scopes = SCOPES }
            return function() return t:sign(key) end
        end,
    },
    {
        name = "new+sign",
        about = "token.new{...}:sign(key), the object built every time",
        prepare = function()
            return function()
                return token.new{ aud = AUD, lifetime = 3600, scopes = SCOPES }:sign(key)
            end
        end,
    },
    {
        name = "verify",
        about = "token.verify(jwt, key, {audience, scopes}), options built every time",
        prepare = function()
            local jwt = token.new{ aud = AUD, lifetime = 3600, scopes = SCOPES }:sign(key)
            return function()
                return token.verify(jwt, key, { audience = AUD, scopes = { "read:users" } })
            end
        end,
    },
    {
        name = "verify+rev",
        about = "verify as the gateway does, with is_revoked (nginx: lua_shared_dict; "
            .. "luajit: a Lua table)",
        prepare = function()
            local jwt = token.new{ aud = AUD, lifetime = 3600, scopes = SCOPES }:sign(key)
            local is_revoked = revocation_store()
            return function()
                local claims = token.verify(jwt, key, { audience = AUD, leeway = 5,
                    is_revoked = is_revoked })
                return claims and token.has_scope(claims, "read:users")
            end
        end,
    },
}

--- Runs the cases; returns a list of { name, wall, cpu, about } (steps per second).
-- @tparam number n steps per timed run
-- @tparam function clock seconds on the wall clock
function M.run(n, clock)
    local cpu_clock = os.clock
    local out = {}
    for _, case in ipairs(M.CASES) do
        local step = case.prepare()
        for _ = 1, math.max(1000, math.floor(n / 10)) do
            if not step() then error(case.name .. ": the step failed") end
        end
        local wall, cpu = math.huge, math.huge
        for _ = 1, M.RUNS do
            collectgarbage()
            local t0, c0 = clock(), cpu_clock()
            for _ = 1, n do step() end
            local c, t = cpu_clock() - c0, clock() - t0
            if t < wall then wall = t end
            if c < cpu then cpu = c end
        end
        out[#out + 1] = { name = case.name, wall = n / wall, cpu = n / cpu, about = case.about }
    end
    return out
end

--- The results as lines "<case> <per second, wall> <per second, CPU> <about>".
function M.format(results)
    local lines = {}
    for i, r in ipairs(results) do
        lines[i] = string.format("%s %.0f %.0f %s", r.name, r.wall, r.cpu, r.about)
    end
    return table.concat(lines, "\n") .. "\n"
end

--- The clock inside nginx: the cached time, updated first (ms resolution).
function M.nginx_clock()
    ngx.update_time()
    return ngx.now()
end

--- The clock on the luajit command line: CLOCK_MONOTONIC through the FFI.
function M.monotonic_clock()
    local ffi = require "ffi"
    pcall(ffi.cdef, [[
        typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
        int clock_gettime(int clk_id, bench_timespec *tp);
    ]])
    local ts = ffi.new("bench_timespec")
    return function()
        ffi.C.clock_gettime(1, ts)     -- CLOCK_MONOTONIC on Linux
        return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
    end
end

-- `luajit bench/openresty/cases.lua N`: the figures outside nginx.
if not rawget(_G, "ngx") and arg and arg[0] and arg[0]:match("cases%.lua$") then
    io.write(M.format(M.run(tonumber(arg[1]) or 100000, M.monotonic_clock())))
end

return M
