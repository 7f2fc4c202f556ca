-- Signing throughput of auth0.apiv2.token on whichever interpreter runs this file.
-- From the repo root:
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/5.4/?.so;;' \
--     lua5.4 bench/sign.lua [N [case ...]]
-- Prints one line per case: "<case> <tokens/s> tokens/s <what it measures>", the best of RUNS
-- runs of N tokens after a warm-up. bench/run compares these with bench/baseline.c.
local token = require "auth0.apiv2.token"

local N = tonumber(arg and arg[1]) or 100000
local RUNS = 5
local clock = os.clock   -- CPU time: the loop is single-threaded and never sleeps

local SECRET = "VV5TxRFEE7_BaTBjVAiHYvTQPE0P454LnsMxvSM80RxLX-6OmCiemWBLYYDBo3cE"
local AUD = "DEMOapiKEY0123456789abcdefghijkl"
local HEADER_B64 = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"

-- Every case signs with a key decoded once, as a server holding its API secret would.
local key = token.key(SECRET)

-- The cases, in output order. `prepare` does the untimed set-up and returns the step that is
-- timed: one call makes one token and returns it (checked during the warm-up). A new case (say,
-- "verify") is one more entry here.
local CASES = {
    {
        name = "sign",
        about = "t:sign(key), one token object re-signed",
        prepare = function()
            local t = token.new{
                aud = AUD, lifetime = 3600,
                scopes = { "read:users", "update:users", "read:clients", "blacklist:tokens" },
            }
            return function() return t:sign(key) end
        end,
    },
    {
        name = "new+sign",
        about = "token.new{...}:sign(key), the object built every time",
        prepare = function()
            -- The options table is built inside the step too, as a caller writing it inline
            -- would.
            return function()
                return token.new{
                    aud = AUD, lifetime = 3600,
                    scopes = { "read:users", "update:users", "read:clients", "blacklist:tokens" },
                }:sign(key)
            end
        end,
    },
    {
        name = "verify",
        about = "token.verify(jwt, key, { audience, scopes }) into a claims table",
        prepare = function()
            local jwt = token.new{
                aud = AUD, lifetime = 3600,
                scopes = { "read:users", "update:users", "read:clients", "blacklist:tokens" },
            }:sign(key)
            local opts = { audience = AUD, scopes = { "read:users" } }
            return function() return token.verify(jwt, key, opts) end
        end,
        check = function(claims) return type(claims) == "table" and claims.aud == AUD end,
    },
    {
        name = "vverify",
        about = "token.verifier{ key, audience, scopes }:verify(jwt) into claims, no cache",
        prepare = function()
            local jwt = token.new{ aud = AUD, lifetime = 3600, scopes = { "read:users" } }:sign(key)
            local v = token.verifier{ key = key, audience = AUD, scopes = { "read:users" } }
            return function() return v:verify(jwt) end
        end,
        check = function(claims) return type(claims) == "table" and claims.aud == AUD end,
    },
    {
        name = "check",
        about = "token.verifier{ key, audience, scopes }:check(jwt), no claims, no cache",
        prepare = function()
            local jwt = token.new{ aud = AUD, lifetime = 3600, scopes = { "read:users" } }:sign(key)
            local v = token.verifier{ key = key, audience = AUD, scopes = { "read:users" } }
            return function() return v:check(jwt) end
        end,
        check = function(ok) return ok == true end,
    },
    {
        name = "cached",
        about = "the same :check(jwt) with cache = 1024, 256 tokens seen before",
        prepare = function()
            local t = token.new{ aud = AUD, lifetime = 3600, scopes = { "read:users" } }
            local v = token.verifier{ key = key, audience = AUD, scopes = { "read:users" },
                                      cache = 1024 }
            local pool = {}
            for i = 1, 256 do pool[i] = t:sign(key); assert(v:check(pool[i])) end
            local i = 0
            return function()
                i = i % 256 + 1
                return v:check(pool[i])
            end
        end,
        check = function(ok) return ok == true end,
    },
}

-- Seconds of CPU time for n steps.
local function time(step, n)
    collectgarbage()   -- each run starts from the same heap; its own garbage is part of its cost
    local t0 = clock()
    for _ = 1, n do step() end
    return clock() - t0
end

local function bench(case)
    local step = case.prepare()
    -- The warm-up lets LuaJIT compile its traces and checks that the step does make tokens.
    for _ = 1, math.max(1000, math.floor(N / 10)) do
        local result, err = step()
        local ok
        if case.check then
            ok = case.check(result)
        else
            ok = type(result) == "string" and result:sub(1, #HEADER_B64 + 1) == HEADER_B64 .. "."
        end
        if not ok then error(case.name .. ": unexpected result: " .. tostring(err or result)) end
    end
    local best = math.huge
    for _ = 1, RUNS do best = math.min(best, time(step, N)) end
    return N / best
end

-- Optional case names after N select cases (handy when profiling one of them).
local wanted = {}
for i = 2, arg and #arg or 0 do wanted[arg[i]] = true end

local jit = rawget(_G, "jit")
print(string.format("# %s, N = %d, best of %d", jit and jit.version or _VERSION, N, RUNS))
for _, case in ipairs(CASES) do
    if next(wanted) == nil or wanted[case.name] then
        print(string.format("%-10s %10.0f tokens/s  %s", case.name, bench(case), case.about))
    end
end
