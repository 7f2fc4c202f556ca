-- Fake `ngx` tables for the unit specs: one whose cosocket replays a response (the HTTP
-- client inside OpenResty), and one nginx worker whose requests run as coroutines (the
-- client credentials single flight). The real nginx specs are spec/openresty/run.
local assert = require "luassert"   -- a module has no busted environment of its own
local h = require "spec.helpers"

local M = {}

-- An `ngx` whose cosocket replays `response` and records what the client did.
function M.cosocket(opts)
    local log = { sent = {}, slept = {} }
    local buffer
    local sock = {}
    function sock.settimeouts(_, ...) log.timeouts = { ... } return 1 end
    function sock.settimeout(_, ms)
        log.read_timeouts = log.read_timeouts or {}
        log.read_timeouts[#log.read_timeouts + 1] = ms
        return 1
    end
    function sock.connect(_, host, port)
        log.connect = { host, port }
        if opts.connect_error then return nil, opts.connect_error end
        return 1
    end
    function sock.sslhandshake(_, session, name, verify)
        log.handshake = { session, name, verify }
        if opts.handshake_error then return nil, opts.handshake_error end
        return {}
    end
    function sock.send(_, data) log.sent[#log.sent + 1] = data return #data end
    function sock.receive(_, pattern)
        if opts.tick then opts.tick() end   -- time passing while the server drips
        if pattern == "*l" then
            local i = buffer:find("\n", 1, true)
            if not i then
                local rest = buffer
                buffer = ""
                return nil, "closed", rest
            end
            local line = buffer:sub(1, i - 1):gsub("\r$", "")
            buffer = buffer:sub(i + 1)
            return line
        end
        if #buffer < pattern then
            local rest = buffer
            buffer = ""
            return nil, "closed", rest
        end
        local data = buffer:sub(1, pattern)
        buffer = buffer:sub(pattern + 1)
        return data
    end
    -- As a server that sends one line at a time: up to the next line break, at most n bytes
    -- (the client reads cosockets with receiveany).
    function sock.receiveany(_, n)
        if opts.tick then opts.tick() end   -- time passing while the server drips
        if buffer == "" then return nil, "closed" end
        local i = buffer:find("\n", 1, true) or #buffer
        if i > n then i = n end
        local data = buffer:sub(1, i)
        buffer = buffer:sub(i + 1)
        return data
    end
    function sock.close(_) log.closed = true return 1 end
    local ngx = {
        get_phase = function() return opts.phase or "content" end,
        socket = { tcp = function() buffer = opts.response or "" return sock end },
        sleep = function(s) log.slept[#log.slept + 1] = s end,
        now = opts.now or function() return 1000 end,
        time = function() return 1000 end,
    }
    return ngx, log
end

-- Runs each function in its own coroutine, resuming them in turn until all have finished
-- (or `max_rounds` rounds have passed); returns their results and the coroutines.
function M.run_concurrently(fns, max_rounds)
    local cos, results = {}, {}
    for i, f in ipairs(fns) do cos[i] = coroutine.create(f) end
    for _ = 1, max_rounds or 10000 do
        local running = false
        for i, co in ipairs(cos) do
            if coroutine.status(co) == "suspended" then
                local ok, a, b = coroutine.resume(co)
                assert(ok, a)
                if coroutine.status(co) == "dead" then
                    results[i] = { a, b }
                else
                    running = true
                end
            end
        end
        if not running then return results, cos end
    end
    return results, cos
end

-- A fake ngx.semaphore whose wait yields until a post, recording what happened.
function M.semaphore_module()
    local module = { made = 0, waits = 0, posts = 0 }
    function module.new(n)
        module.made = module.made + 1
        local sema = { resources = n }
        function sema.wait(self, timeout)
            assert.is_true(timeout > 0)
            module.waits = module.waits + 1
            while self.resources <= 0 do coroutine.yield() end
            self.resources = self.resources - 1
            return true
        end
        function sema.post(self, k)
            module.posts = module.posts + (k or 1)
            self.resources = self.resources + (k or 1)
        end
        return sema
    end
    return module
end

-- Installs a fake ngx (and, optionally, ngx.semaphore) while f runs.
function M.in_worker(opts, f)
    local slept = {}
    local ngx = {
        get_phase = function()
            if type(opts.phase) == "function" then return opts.phase() end
            return opts.phase or "content"
        end,
        socket = {},
        sleep = function(s)
            slept[#slept + 1] = s
            coroutine.yield()
        end,
        now = function() return opts.now and opts.now() or h.NOW end,
        time = function() return opts.now and opts.now() or h.NOW end,
    }
    rawset(_G, "ngx", ngx)
    package.loaded["ngx.semaphore"] = opts.semaphore
    local ok, err = pcall(f, slept)
    rawset(_G, "ngx", nil)
    package.loaded["ngx.semaphore"] = nil
    assert(ok, err)
end

return M
