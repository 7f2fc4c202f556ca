--- The claims a guard puts in ngx.ctx. A cached token's claims are the verifier cache's own
-- table, which nobody else may hold, so each request needs its own copy; but most requests
-- through a gateway never read them (the decision and the upstream headers are made from the
-- cache's table). So the copy is made on the first read of the field:
--
--   put(ctx, field, claims, entry)   entry: the cache's entry (claims nil), else the claims
--
-- With an entry, ctx gets a metatable that holds the entry, and the field stays absent until
-- read: then `__index` makes the copy and stores it as a plain field, so every later read (and
-- a change to it) is the request's own table. Assigning the field first replaces the pending
-- copy. (A metatable per request, not a weak table keyed by ctx: inserting a new key in a weak
-- table on every request, and its rehashing, cost more than the table.)
-- What shows: pairs/next/rawget on ctx do not see the claims before their first read, and a
-- ctx that already has a metatable of someone else's gets the copy at once, as before.
-- On an inside-nginx guard the copy costs more than the rest of a cached decision (a table
-- per nested object of the claims, and their garbage).
local verifiers = require "auth0.apiv2.internal.verifier"

local M = {}

local type, rawset, rawget, getmetatable, setmetatable =
    type, rawset, rawget, getmetatable, setmetatable
local copy_of = verifiers.copy_of

-- The metatable of a ctx with a pending copy: { __index = lend_index, __newindex =
-- lend_newindex, field = the field, entry = the cache entry } (field nil once made).
local function lend_index(ctx, key)
    local mt = getmetatable(ctx)
    local field = mt.field
    if field == nil or key ~= field then return nil end
    local claims = copy_of(mt.entry)
    mt.field, mt.entry = nil, nil
    rawset(ctx, key, claims)
    return claims
end

local function lend_newindex(ctx, key, value)
    local mt = getmetatable(ctx)
    if mt.field ~= nil and key == mt.field then mt.field, mt.entry = nil, nil end
    rawset(ctx, key, value)
end

--- ctx[field] = the claims (now, or for an entry on first read).
-- @tparam table ctx the request's ngx.ctx
-- @tparam string field
-- @tparam table claims the claims when they are the caller's to give (nil with an entry)
-- @param entry the verifier cache's entry of the token (copy_of(entry) makes the copy), or nil
function M.put(ctx, field, claims, entry)
    local mt = getmetatable(ctx)
    if mt == nil then
        if entry == nil then
            rawset(ctx, field, claims)
            return
        end
        rawset(ctx, field, nil)
        setmetatable(ctx, { __index = lend_index, __newindex = lend_newindex, field = field,
                            entry = entry })
        return
    end
    if type(mt) == "table" and rawget(mt, "__index") == lend_index then
        local other = mt.field
        if other ~= nil and other ~= field then
            lend_index(ctx, other)              -- another guard's claims: theirs, made now
        end
        rawset(ctx, field, claims)
        mt.field, mt.entry = nil, nil
        if entry ~= nil then
            rawset(ctx, field, nil)
            mt.field, mt.entry = field, entry
        end
        return
    end
    if entry ~= nil then claims = copy_of(entry) end
    ctx[field] = claims
end

return M
