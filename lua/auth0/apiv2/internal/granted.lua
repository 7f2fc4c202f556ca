--- The one reader of the scopes a token's claims grant: the classic `scopes` object
-- (`{ users = { actions = { "read" } } }`, as Auth0's APIv2 tokens carry them) and a flat
-- `scope` string of space-separated words (RFC 6749 section 3.3, as newer tokens carry them).
local json = require "auth0.apiv2.internal.json"

local M = {}

local type, pairs, ipairs, rawget = type, pairs, ipairs, rawget
local find, sub, gmatch = string.find, string.sub, string.gmatch
local sort = table.sort
local bytes_less = json.bytes_less

-- The words of a flat scope claim: separated by spaces, as RFC 6749 says (not by any white
-- space, so a scope cannot be smuggled in after a tab).
local SCOPE_WORD = "[^ ]+"

-- A scope's action and entity (split at the first colon), or false without a colon;
-- remembered, since the scopes asked about come from code and configuration (a gateway asks
-- the same few on every request). Bounded: past MEMO_MAX scopes, new ones are split each time.
local MEMO_MAX = 1024
local split_memo, split_count = {}, 0
local function split(scope)
    local parts = split_memo[scope]
    if parts ~= nil then return parts end
    local colon = find(scope, ":", 1, true)
    parts = colon and { sub(scope, 1, colon - 1), sub(scope, colon + 1) } or false
    if split_count < MEMO_MAX then
        split_memo[scope], split_count = parts, split_count + 1
    end
    return parts
end

-- Whether the list holds action, as ipairs would find it (up to the first nil). The first two
-- are written out: a token names one or two actions per entity, and a loop on a gateway's
-- path per request ends LuaJIT's trace of that path there.
-- (ipairs reads raw on Lua 5.1, 5.2 and LuaJIT, through __index on 5.3+: so does this.)
local element = (_VERSION == "Lua 5.1" or _VERSION == "Lua 5.2") and rawget
    or function(t, i) return t[i] end
local function has_action(actions, action)
    local a = element(actions, 1)
    if a == action then return true end
    if a == nil then return false end
    a = element(actions, 2)
    if a == action then return true end
    local i = 2
    while a ~= nil do
        i = i + 1
        a = element(actions, i)
        if a == action then return true end
    end
    return false
end

--- Whether the claims grant scope ("action:entity").
-- @tparam table claims
-- @tparam string scope
-- @treturn boolean
function M.has(claims, scope)
    local scopes = claims.scopes
    if type(scopes) == "table" then
        local parts = split(scope)
        local entity = parts and scopes[parts[2]]
        local actions = type(entity) == "table" and entity.actions
        if type(actions) == "table" and has_action(actions, parts[1]) then return true end
    end
    if type(claims.scope) == "string" then
        for s in gmatch(claims.scope, SCOPE_WORD) do
            if s == scope then return true end
        end
    end
    return false
end

--- Every scope the claims grant, as "action:entity" strings: the `scopes` object (entities
-- sorted by name, actions in order), then the `scope` string's words; no duplicates.
-- @tparam table claims
-- @treturn table
function M.list(claims)
    local out, seen = {}, {}
    local function add(s)
        if not seen[s] then
            seen[s] = true
            out[#out + 1] = s
        end
    end
    local map = claims.scopes
    if type(map) == "table" then
        local entities = {}
        for entity in pairs(map) do
            if type(entity) == "string" then entities[#entities + 1] = entity end
        end
        sort(entities, bytes_less)
        for _, entity in ipairs(entities) do
            local actions = type(map[entity]) == "table" and map[entity].actions
            if type(actions) == "table" then
                for _, action in ipairs(actions) do
                    if type(action) == "string" then add(action .. ":" .. entity) end
                end
            end
        end
    end
    if type(claims.scope) == "string" then
        for s in gmatch(claims.scope, SCOPE_WORD) do add(s) end
    end
    return out
end

return M
