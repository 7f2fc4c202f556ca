--- The fleet's layout in Redis, one copy shared by the nginx backend (auth0.apiv2.nginx.fleet)
-- and the plain-Lua publisher (auth0.apiv2.fleet).
--
-- Under a prefix (default "auth0:"):
--   <prefix>rev:<#aud>:<aud><jti>  one string per revoked (aud, jti); its value is the entry's
--                                  message (below); it expires KEEP_AFTER_EXP s after the
--                                  token's exp, and never when the token has no exp
--   <prefix>log                    a Redis Stream of the same messages (field "e"), trimmed with
--                                  XADD MAXLEN ~: the ordered log the nodes catch up from
--   <prefix>revoked                the pub/sub channel of the fast path (same messages)
--   <prefix>lease                  SET NX PX: the node that polls Auth0's blacklist
--   <prefix>polled                 SET NX PX: at most one poll of Auth0 per interval, fleet-wide
--
-- Why a Stream rather than a sorted set with a counter: Redis gives each entry a unique,
-- increasing id itself (no INCR + ZADD to keep in step), `XRANGE key (last +` reads exactly what
-- a node missed since the id it saw last, and `MAXLEN ~` trims whole blocks cheaply. When a
-- node's last id is older than the stream's first (trimmed, or Redis restarted empty), it falls
-- back to a full scan of the entry keys, which the log cannot lose.
--
-- A message: "<exp or -> <ms> <#aud>:<aud><jti>" (ms: when it was revoked, for the lag figure).
-- Lengths make it unambiguous whatever bytes aud and jti hold.
local M = {}

local type, tonumber = type, tonumber
local floor = math.floor
local sub, match, format = string.sub, string.match, string.format

M.DEFAULT_PREFIX = "auth0:"
M.KEEP_AFTER_EXP = 600     -- s an entry outlives its token's exp (more than any leeway)
M.MAX_FIELD = 1024         -- bytes of aud or jti; longer ones are refused, not truncated
M.DEFAULT_MAXLEN = 100000  -- entries the log keeps (approximately)

function M.keys(prefix)
    return {
        prefix = prefix,
        entries = prefix .. "rev:",
        log = prefix .. "log",
        channel = prefix .. "revoked",
        lease = prefix .. "lease",
        polled = prefix .. "polled",
    }
end

--- Checks an (aud, jti, exp) triple; returns nil or a message.
function M.check(aud, jti, exp)
    if type(aud) ~= "string" then return "aud must be a string" end
    if type(jti) ~= "string" or jti == "" then return "jti must be a non-empty string" end
    if #aud > M.MAX_FIELD or #jti > M.MAX_FIELD then
        return "aud and jti must be at most " .. M.MAX_FIELD .. " bytes"
    end
    if exp ~= nil and (type(exp) ~= "number" or exp ~= exp or exp == math.huge
                       or exp == -math.huge) then
        return "exp must be a finite number"
    end
    return nil
end

--- The id of (aud, jti) inside a key: the same in Redis and in the node's dict.
function M.entry_id(aud, jti)
    return #aud .. ":" .. aud .. jti
end

--- Seconds the entry should live from `now`: 0 for "no expiry", nil when already past.
function M.ttl(exp, now)
    if exp == nil then return 0 end
    local ttl = floor(exp - now) + M.KEEP_AFTER_EXP
    if ttl <= 0 then return nil end
    return ttl
end

function M.encode(aud, jti, exp, ms)
    return format("%s %d %d:%s%s", exp == nil and "-" or format("%d", floor(exp)),
        floor(ms), #aud, aud, jti)
end

--- aud, jti, exp (or nil), ms | nil when the message is not one of ours.
function M.decode(message)
    if type(message) ~= "string" then return nil end
    local exp, ms, len, pos = match(message, "^(%-?[%d]+) (%d+) (%d+):()")
    if not exp then
        ms, len, pos = match(message, "^%- (%d+) (%d+):()")
        if not ms then return nil end
    end
    len = tonumber(len)
    if len > M.MAX_FIELD then return nil end
    local aud = sub(message, pos, pos + len - 1)
    local jti = sub(message, pos + len)
    if #aud ~= len or jti == "" or #jti > M.MAX_FIELD then return nil end
    return aud, jti, exp and tonumber(exp) or nil, tonumber(ms)
end

-- Records one revocation: the entry (TTL or none), the log, the channel, in one step.
-- KEYS: entry, log. ARGV: message, ttl (0: none), maxlen, channel. Returns the stream id.
M.REVOKE_SCRIPT = [[
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return id
]]

-- Writes what is new among entries read from Auth0 (no exp: they never expire here):
-- SET NX, and only for a new entry XADD and PUBLISH. KEYS: log. ARGV: entries prefix, maxlen,
-- channel, then pairs of (entry id, message). Returns how many were new.
M.SEED_SCRIPT = [[
local new = 0
for i = 4, #ARGV, 2 do
  if redis.call('SET', ARGV[1] .. ARGV[i], ARGV[i + 1], 'NX') then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 1])
    redis.call('PUBLISH', ARGV[3], ARGV[i + 1])
    new = new + 1
  end
end
return new
]]

-- Takes or renews the lease. KEYS: lease. ARGV: holder id, ms. Returns 1 when held.
M.LEASE_SCRIPT = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
]]

-- Gives the lease up if held. KEYS: lease. ARGV: holder id.
M.RELEASE_SCRIPT = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
]]

--- Compares two stream ids ("ms-seq"): -1, 0 or 1.
function M.compare_ids(a, b)
    local am, as = match(a, "^(%d+)%-(%d+)$")
    local bm, bs = match(b, "^(%d+)%-(%d+)$")
    am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
    if am ~= bm then return am < bm and -1 or 1 end
    if as ~= bs then return as < bs and -1 or 1 end
    return 0
end

--- "HOST:PORT" (or "[v6]:PORT", or HOST alone: port 6379) → host, port | nil, message.
function M.parse_address(text)
    if type(text) ~= "string" or text == "" then return nil, "expected HOST:PORT" end
    local host, port = match(text, "^%[([^%]]+)%]:(%d+)$")
    if not host then host, port = match(text, "^([^:]+):(%d+)$") end
    if not host then
        if match(text, "^[^:]+$") then return text, 6379 end
        return nil, "expected HOST:PORT, got '" .. sub(text, 1, 64) .. "'"
    end
    port = tonumber(port)
    if port < 1 or port > 65535 then return nil, "port must be 1..65535" end
    return host, port
end

return M
