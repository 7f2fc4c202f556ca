--- The verified-token cache of a verifier: at most `size` entries whatever arrives, found by
-- the exact token bytes. Two generations instead of a linked list: new entries go to `young`;
-- when it holds half the size, it becomes `old` and the previous `old` is dropped; a hit in
-- `old` moves the entry back to `young`. So an entry used within the last size/2 insertions
-- is never evicted (LRU-like), every operation is one or two table lookups, and the memory is
-- bounded by `size` entries plus the two tables.
local M = {}

local floor, setmetatable, pairs = math.floor, setmetatable, pairs

local Cache = {}
Cache.__index = Cache

--- @tparam integer size at least 1
function M.new(size)
    local half = size >= 2 and floor(size / 2) or 1
    return setmetatable({ young = {}, old = {}, count = 0, half = half, keep_old = size >= 2 },
        Cache)
end

function Cache:get(key)
    local entry = self.young[key]
    if entry ~= nil then return entry end
    entry = self.old[key]
    if entry ~= nil then
        self.old[key] = nil
        self:put(key, entry)
    end
    return entry
end

function Cache:put(key, entry)
    local young = self.young
    if young[key] == nil then
        if self.count >= self.half then
            self.old = self.keep_old and young or {}
            young = {}
            self.young = young
            self.count = 0
        end
        self.count = self.count + 1
    end
    young[key] = entry
end

function Cache:delete(key)
    if self.young[key] ~= nil then
        self.young[key] = nil
        self.count = self.count - 1
    end
    self.old[key] = nil
end

--- Drops every entry.
function Cache:clear()
    self.young, self.old, self.count = {}, {}, 0
end

--- The number of entries (for specs and status pages).
function Cache:size()
    local n = self.count
    for _ in pairs(self.old) do n = n + 1 end
    return n
end

return M
