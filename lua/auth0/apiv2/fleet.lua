--- Revoke tokens fleet-wide from outside nginx (scripts, the CLI): writes the revocation into
-- the Redis that the gateways' `nginx.revocations{ redis = ... }` stores share, so that every
-- node refuses the token within milliseconds. Plain Lua over lua-redis (module `redis`,
-- LuaSocket); the layout in Redis is described in docs/fleet.md.
--
--     local fleet = require "auth0.apiv2.fleet"
--     local f = fleet.new{ host = "10.0.0.5", port = 6379 }
--     local id, err = f:revoke(aud, jti, exp)
--
-- Redis errors are values (`nil, "fleet.revoke: redis: ..."`); misuse raises.
local wire = require "auth0.apiv2.internal.fleet_wire"
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, pcall, error, setmetatable, tostring = type, pcall, error, setmetatable, tostring
local floor = math.floor

M.DEFAULT_TIMEOUT = 2000   -- ms, for connecting and each command

local NEW_OPTIONS = {
    host = true, port = true, password = true, db = true, prefix = true, timeout = true,
    maxlen = true, client = true, now = true, redis = true,
}

-- Debian packages lua-redis for Lua 5.1-5.3 only; the module is plain Lua and runs on 5.4 as
-- it is, so when `require` finds nothing we load it from the 5.3 tree.
local function load_redis()
    local ok, mod = pcall(require, "redis")
    if ok then return mod end
    for _, path in ipairs{ "/usr/local/share/lua/5.3/redis.lua", "/usr/share/lua/5.3/redis.lua" } do
        local chunk = loadfile(path)
        if chunk then
            local loaded, lmod = pcall(chunk, "redis")
            if loaded and type(lmod) == "table" then return lmod end
        end
    end
    return nil, "lua-redis (module 'redis') is not installed: apt-get install lua-redis"
end

-- lua-redis raises "redis error: ..." and "could not connect to ...": keep the message, not
-- the file:line in front of it.
local message_of = options.without_position

local Fleet = {}
Fleet.__index = Fleet

--- Makes a publisher for the fleet's Redis (no connection yet: the first revoke connects).
-- @tparam table opts `host` (default "127.0.0.1"), `port` (6379), `password`, `db`, `prefix`
--   ("auth0:"), `timeout` (ms, default 2000), `maxlen` (entries the log keeps, default
--   100000), or `client`: a connected lua-redis client to use instead; `redis`: the lua-redis
--   module itself (default: `require "redis"`); `now`: function returning seconds
-- @return the publisher
-- @raise on an unknown or ill-typed option
function M.new(opts)
    opts = opts == nil and {} or options.check("fleet.new", opts, NEW_OPTIONS, 2)
    local function want(name, kind)
        if opts[name] ~= nil and type(opts[name]) ~= kind then
            error("fleet.new: " .. name .. " must be a " .. kind, 3)
        end
    end
    want("host", "string") want("password", "string") want("prefix", "string")
    want("port", "number") want("db", "number") want("timeout", "number")
    want("maxlen", "number") want("now", "function") want("redis", "table")
    if opts.client ~= nil and type(opts.client) ~= "table" then
        error("fleet.new: client must be a connected lua-redis client", 2)
    end
    local timeout = opts.timeout or M.DEFAULT_TIMEOUT
    if timeout <= 0 then error("fleet.new: timeout must be positive (ms)", 2) end
    local self = {
        host = opts.host or "127.0.0.1", port = opts.port or 6379, db = opts.db,
        timeout = timeout, maxlen = floor(opts.maxlen or wire.DEFAULT_MAXLEN),
        keys = wire.keys(opts.prefix or wire.DEFAULT_PREFIX),
        client = opts.client, module = opts.redis, now = opts.now or os.time,
        -- A closure, so that printing or dumping the object shows no password.
        password = opts.password and function() return opts.password end,
    }
    return setmetatable(self, Fleet)
end

function Fleet:__tostring()
    return "auth0.apiv2.fleet (" .. self.host .. ":" .. tostring(self.port) .. ", "
        .. self.keys.prefix .. ")"
end

local function connect(self)
    if self.client then return self.client end
    local redis = self.module
    if not redis then
        local err
        redis, err = load_redis()
        if not redis then return nil, err end
    end
    local ok, client = pcall(redis.connect, { host = self.host, port = self.port,
        timeout = self.timeout / 1000 })
    if not ok then return nil, message_of(client) end
    local done, err = pcall(function()
        if self.password then client:auth(self.password()) end
        if self.db then client:select(self.db) end
    end)
    if not done then
        pcall(client.quit, client)
        return nil, message_of(err)
    end
    self.client = client
    return client
end

--- Revokes (aud, jti) on every node: records the entry (expiring a while after `exp`, kept
-- without expiry when there is none), appends it to the log and publishes it, in one step
-- (a script run by Redis).
-- @tparam string aud the token's aud ("" when it has none)
-- @tparam string jti
-- @tparam[opt] number exp the token's exp
-- @treturn string the id of the log entry ("1764624000000-0"), or "expired" when the token
--   expired more than 10 minutes ago (nothing to refuse, nothing written)
-- @return[2] nil
-- @return[2] string "fleet.revoke: redis: <reason>"
-- @raise when aud, jti or exp are of the wrong type or too long
function Fleet:revoke(aud, jti, exp)
    local bad = wire.check(aud, jti, exp)
    if bad then error("fleet.revoke: " .. bad, 2) end
    local now = self.now()
    local ttl = wire.ttl(exp, now)
    if not ttl then return "expired" end
    local client, cerr = connect(self)
    if not client then return nil, "fleet.revoke: redis: " .. cerr end
    local message = wire.encode(aud, jti, exp, now * 1000)
    local ok, id = pcall(client.eval, client, wire.REVOKE_SCRIPT, 2,
        self.keys.entries .. wire.entry_id(aud, jti), self.keys.log,
        message, ttl, self.maxlen, self.keys.channel)
    if not ok then
        self:close()
        return nil, "fleet.revoke: redis: " .. message_of(id)
    end
    return id
end

--- Whether Redis holds (aud, jti) as revoked.
-- @treturn boolean
-- @return[2] nil
-- @return[2] string "fleet.is_revoked: redis: <reason>"
-- @raise when aud or jti are of the wrong type
function Fleet:is_revoked(aud, jti)
    local bad = wire.check(aud, jti)
    if bad then error("fleet.is_revoked: " .. bad, 2) end
    local client, cerr = connect(self)
    if not client then return nil, "fleet.is_revoked: redis: " .. cerr end
    local ok, n = pcall(client.exists, client, self.keys.entries .. wire.entry_id(aud, jti))
    if not ok then
        self:close()
        return nil, "fleet.is_revoked: redis: " .. message_of(n)
    end
    return n == true or n == 1
end

--- Closes the connection (the next call connects again). A client given to `new` is closed too.
function Fleet:close()
    local client = self.client
    self.client = nil
    if client then pcall(client.quit, client) end
end

M.parse_address = wire.parse_address

return M
