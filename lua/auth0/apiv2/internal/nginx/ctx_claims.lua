--- The claims a guard puts in ngx.ctx. A cached token's claims are the verifier cache's own
-- table, which nobody else may hold, so each request needs its own copy; but most requests
-- through a gateway never read them (the decision and the upstream headers are made from the
-- cache's table). So the copy is made on the first read of the field:
--
--   put(ctx, field, claims, entry)   entry: the cache's entry (claims nil), else the claims
--   put_checked(ctx, field, jwt)   a token the verifier checked without building its claims
--                                  (verifier.checked): they are built on first read
--
-- With an entry, ctx gets a metatable that holds the entry, and the field stays absent until
-- read: then `__index` makes the copy, stores it as a plain field and takes the metatable off
-- again, so from then on ctx is a plain table and the claims the request's own. Assigning the
-- field first does the same without a copy. (A metatable on ctx, not a weak table keyed by
-- ctx: a new weak key per request, and its rehashing, cost more; and one metatable per cache
-- entry, kept in the entry, not a new one per request.)
-- Until then the metatable is protected (`__metatable`): getmetatable(ctx) shows only a
-- string, so nobody reaches the cache's entry through it or shares it with another table,
-- and setmetatable(ctx, ...) raises instead of dropping the claims unseen. So this needs the
-- debug library (to read and remove its own metatable); without it the copy is made at once.
-- What shows: pairs/next/rawget on ctx do not see the claims before their first read, and a
-- ctx that already has a metatable of someone else's gets the copy at once, as before.
-- On an inside-nginx guard the copy costs more than the rest of a cached decision (a table
-- per nested object of the claims, and their garbage).
local verifiers = require "auth0.apiv2.internal.verifier"

local M = {}

local type, rawset, rawget, getmetatable, setmetatable =
    type, rawset, rawget, getmetatable, setmetatable
local copy_of, claims_of = verifiers.copy_of, verifiers.claims_of

-- What getmetatable(ctx) shows while a copy is pending.
M.PENDING = "auth0.apiv2: ngx.ctx claims pending (see docs/nginx.md)"
-- The key under which a cache entry holds its pending metatable (a table of this module's
-- own, as the revocation store keys its memo: no other note or field can be under it).
M.NOTE = {}

local debug_lib = rawget(_G, "debug")
local real_metatable = type(debug_lib) == "table" and debug_lib.setmetatable
    and debug_lib.getmetatable or nil
local set_real_metatable = real_metatable and debug_lib.setmetatable

-- The metatable of a ctx with a pending copy: { __index = lend_index, __newindex =
-- lend_newindex, __metatable = M.PENDING, field = the field, make = a function, a, b, c =
-- its arguments }: make(a, b, c) makes the claims. Taking it off a ctx ends that ctx's
-- pending copy (the metatable may be on other requests' ctx as well, and is never changed).
local function lend_index(ctx, key)
    local mt = real_metatable(ctx)
    if key ~= mt.field then return nil end
    local claims = mt.make(mt.a, mt.b, mt.c)   -- first: were it to raise, reads raise again
    set_real_metatable(ctx, nil)
    rawset(ctx, key, claims)
    return claims
end

local function lend_newindex(ctx, key, value)
    if key == real_metatable(ctx).field then set_real_metatable(ctx, nil) end
    rawset(ctx, key, value)
end

-- The metatable of a pending copy of a cache entry's claims under this field: made once per
-- cache entry and kept in it (a caller's note, which the verifier lets its callers keep), not
-- per request; a new table per request, and its garbage, cost as much as the copy's other
-- work. Sharing it between requests is safe: nothing writes to it after this, and a request's
-- pending copy ends by taking it off that request's ctx.
local function entry_metatable(field, entry)
    local mt = rawget(entry, M.NOTE)
    if mt and mt.field == field then return mt end
    mt = { __index = lend_index, __newindex = lend_newindex, __metatable = M.PENDING,
           field = field, make = copy_of, a = entry }
    -- The first field's is kept: two guards putting one verifier's claims under two fields
    -- make the other's per request.
    if rawget(entry, M.NOTE) == nil then rawset(entry, M.NOTE, mt) end
    return mt
end

-- ctx[field] = what mt makes (mt nil: claims), now or on first read.
local function put(ctx, field, claims, mt)
    local shown = getmetatable(ctx)
    if shown == M.PENDING and real_metatable then
        local pending = real_metatable(ctx)
        if type(pending) == "table" and rawget(pending, "__index") == lend_index then
            -- A second put (a second guard, or the same twice): another field's claims are
            -- made now, this field's pending copy dropped; then ctx is plain again.
            if pending.field ~= field then lend_index(ctx, pending.field) end
            set_real_metatable(ctx, nil)
            shown = nil
        end
    end
    if mt ~= nil and (shown ~= nil or not real_metatable) then
        claims, mt = mt.make(mt.a, mt.b, mt.c), nil
    end
    if shown ~= nil then
        ctx[field] = claims
    elseif mt == nil then
        rawset(ctx, field, claims)
    else
        rawset(ctx, field, nil)
        setmetatable(ctx, mt)
    end
end

--- ctx[field] = the claims (now, or for an entry on first read).
-- @tparam table ctx the request's ngx.ctx
-- @tparam string field
-- @tparam table claims the claims, when there is no entry
-- @param entry the verifier cache's entry of the token (copy_of(entry) makes the copy), or nil
function M.put(ctx, field, claims, entry)
    put(ctx, field, claims, entry ~= nil and entry_metatable(field, entry) or nil)
end

--- ctx[field] = the claims of a token verifier.checked passed, built on first read
-- (verifier.claims_of: the pass's parse of the same bytes).
-- @tparam table ctx the request's ngx.ctx
-- @tparam string field
-- @tparam string jwt the token
function M.put_checked(ctx, field, jwt)
    put(ctx, field, nil, { __index = lend_index, __newindex = lend_newindex,
                           __metatable = M.PENDING, field = field, make = claims_of, a = jwt })
end

return M
