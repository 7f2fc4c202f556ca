--- Private deep copies of decoded claims (JSON values: tables without cycles, json.null kept
-- as the one shared sentinel), for the verifier cache, which must never hand out its own table.
--
--   copy(value)       walks the value: a copy made once
--   own(claims)       the plan of claims nobody else holds (fresh from the verifier's pass),
--                     which the cache then keeps as they are (its tables in an order to
--                     rebuild): once per cached token
--   replay(plan)      a new copy of the kept claims, without walking: on every cache hit
--
-- Why a plan: a gateway hands a copy of the cached claims to each request. Walking them with
-- `next` grows each new table key by key (rehashing as it goes) and, on LuaJIT, recursion
-- over `next` makes poor traces. LuaJIT's `table.clone` (OpenResty's luajit2) copies a whole
-- table at its final size in one call; the plan says which of the copies replace which
-- nested tables, in pre-order, so each parent is copied before its children. Without
-- `table.clone` (PUC Lua, plain LuaJIT) replay walks like copy.
--
-- Why replay has no loop for usual claims: a loop inside a request's path ends LuaJIT's trace
-- of that path there (the loop gets a trace of its own, entered and left on every request),
-- and inside nginx that cost more than the copying itself. So the plan also holds a replay
-- written out for its shape (which copy is whose child), made once per shape with `load`:
-- claims of a tenant's tokens come in few shapes (one per number of scope entities, about).
local json = require "auth0.apiv2.internal.json"

local M = {}

local type, next = type, next
local load_text = rawget(_G, "loadstring") or load
local null = json.null

local has_clone, clone = pcall(require, "table.clone")
if not has_clone then clone = nil end

local function copy(value)
    if type(value) ~= "table" or value == null then return value end
    local out = {}
    for k, v in next, value do out[k] = copy(v) end
    return out
end
M.copy = copy

-- The plan of the table value: each of its nested tables in pre-order (the table, its
-- parent's index and its key). `index`: value's own index in the plan.
local function own_table(p, value, index)
    for k, v in next, value do
        if type(v) == "table" and v ~= null then
            local n = p.n + 1
            p.n = n
            p[3 * n - 2], p[3 * n - 1], p[3 * n] = v, index, k
            own_table(p, v, n)
        end
    end
end

-- The written-out replays, by shape (the parents' indexes, in plan order: a tree of tables
-- by parent index, the replay under `fn`, so that finding one makes no string), bounded:
-- past SHAPES_MAX shapes, or past WRITTEN_MAX tables in one plan, replay loops instead.
local SHAPES_MAX, WRITTEN_MAX = 256, 64
local written, shapes = {}, 0

-- A replay of the plans of p's shape: local t1 = clone(p[1]); local t2 = clone(p[4]);
-- t<parent>[p[6]] = t2; ... return t1 (the parents are fixed by the shape, the keys and
-- the tables to copy are read from the plan).
local function written_replay(p)
    local n = p.n
    if n > WRITTEN_MAX then return nil end
    local node = written
    for i = 2, n do
        local parent = p[3 * i - 1]
        local child = node[parent]
        if child == nil then
            if shapes >= SHAPES_MAX then return nil end
            child = {}
            node[parent] = child
        end
        node = child
    end
    local fn = node.fn
    if fn ~= nil or shapes >= SHAPES_MAX then return fn end
    local src = { "local clone = ...\nreturn function(p)\nlocal t1 = clone(p[1])" }
    for i = 2, n do
        local j = 3 * i
        src[#src + 1] = "local t" .. i .. " = clone(p[" .. (j - 2) .. "]) t" .. p[j - 1]
            .. "[p[" .. j .. "]] = t" .. i
    end
    src[#src + 1] = "return t1\nend"
    fn = load_text(table.concat(src, "\n"), "=claims_copy(" .. n .. " tables)")(clone)
    node.fn, shapes = fn, shapes + 1
    return fn
end

--- @tparam table claims a table nobody else holds or will change (the verifier's pass made
--   it): the cache keeps it as it is
-- @return its plan, for replay
function M.own(claims)
    local p = { claims, 0, false, n = 1 }
    if clone then
        own_table(p, claims, 1)
        p.replay = written_replay(p)
    end
    return p
end

-- The copies of one replay, by plan index (replay never yields: one scratch list will do;
-- emptied after each use so that it keeps nothing alive).
local made = {}

--- @param p a plan from M.own
-- @treturn table a new deep copy of the claims the plan was made from
function M.replay(p)
    if not clone then return copy(p[1]) end
    local replay = p.replay
    if replay then return replay(p) end
    local out = clone(p[1])
    local n = p.n
    if n == 1 then return out end
    made[1] = out
    for i = 2, n do
        local j = 3 * i
        local t, parent = clone(p[j - 2]), made[p[j - 1]]
        parent[p[j]] = t
        made[i] = t
    end
    for i = 1, n do made[i] = nil end
    return out
end

return M
