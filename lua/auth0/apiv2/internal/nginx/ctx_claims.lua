--- The claims a guard puts in ngx.ctx. A cached token's claims are the verifier cache's own
-- table, which nobody else may hold, so each request needs its own copy; but most requests
-- through a gateway never read them (the decision and the upstream headers are made from the
-- cache's table). So the copy is made on the first read of the field:
--
--   put(ctx, field, claims, entry)   entry: the cache's entry (claims nil), else the claims
--
-- With an entry, ctx gets this module's metatable and the field stays absent until read: then
-- `__index` makes the copy and stores it as a plain field, so every later read (and a change
-- to it) is the request's own table. Assigning the field first replaces the pending copy.
-- What shows: pairs/next/rawget on ctx do not see the claims before their first read, and a
-- ctx that already has a metatable of someone else's gets the copy at once, as before.
-- On an inside-nginx guard the copy costs more than the rest of a cached decision (a table
-- per nested object of the claims, and their garbage).
local verifiers = require "auth0.apiv2.internal.verifier"

local M = {}

local rawset, getmetatable, setmetatable = rawset, getmetatable, setmetatable
local copy_of = verifiers.copy_of

-- ctx -> the cache entry whose copy is pending, and the field it goes to. Weak keys: a ctx
-- is dropped with its request; nothing here keeps a request's table alive.
local WEAK = { __mode = "k" }
local pending_entry = setmetatable({}, WEAK)
local pending_field = setmetatable({}, WEAK)

local LENDING = {}

function LENDING.__index(ctx, key)
    if key == nil or key ~= pending_field[ctx] then return nil end
    local entry = pending_entry[ctx]
    pending_entry[ctx], pending_field[ctx] = nil, nil
    local claims = copy_of(entry)
    rawset(ctx, key, claims)
    return claims
end

function LENDING.__newindex(ctx, key, value)
    if key ~= nil and key == pending_field[ctx] then
        pending_entry[ctx], pending_field[ctx] = nil, nil
    end
    rawset(ctx, key, value)
end

--- ctx[field] = the claims (now, or for an entry on first read).
-- @tparam table ctx the request's ngx.ctx
-- @tparam string field
-- @tparam table claims the claims when they are the caller's to give (nil with an entry)
-- @param entry the verifier cache's entry of the token (copy_of(entry) makes the copy), or nil
function M.put(ctx, field, claims, entry)
    local mt = getmetatable(ctx)
    if mt == nil or mt == LENDING then
        local other = pending_field[ctx]
        if other ~= nil and other ~= field then
            LENDING.__index(ctx, other)         -- another guard's claims: theirs, made now
        end
        if entry ~= nil then
            rawset(ctx, field, nil)
            pending_entry[ctx], pending_field[ctx] = entry, field
            if mt == nil then setmetatable(ctx, LENDING) end
            return
        end
        if other == field then pending_entry[ctx], pending_field[ctx] = nil, nil end
        rawset(ctx, field, claims)
        return
    end
    if entry ~= nil then claims = copy_of(entry) end
    ctx[field] = claims
end

return M
