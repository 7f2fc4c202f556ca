--- The `scopes` option of token.new: checks scope syntax and turns any accepted form into the
-- ordered entity -> actions set that the token's `scopes` claim holds.
local json = require "auth0.apiv2.internal.json"
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, pairs, ipairs, next = type, pairs, ipairs, next
local find, match, format = string.find, string.match, string.format
local concat, sort = table.concat, table.sort

local ACTION = "^[a-z][a-z0-9_]*$"
local SCOPE = "^([a-z][a-z0-9_]*):([a-z][a-z0-9_:]*)$"

-- Entities may hold colons (a scope splits at its FIRST colon), but never empty parts or a
-- part that does not start with a letter.
local function valid_entity(entity)
    if type(entity) ~= "string" then return false end
    if match(entity, "^[a-z][a-z0-9_]*$") then return true end   -- the common case
    return match(entity, "^[a-z][a-z0-9_:]*$") ~= nil and not find(entity, ":[^a-z]")
        and not find(entity, ":$")
end

local show = options.show
local name_of = options.name
M.show = show

--- Whether a scope's entity is one of the current_user family, which Auth0 grants only to a
-- logged-in user's own token.
function M.is_current_user(entity)
    return find(entity, "current_user", 1, true) ~= nil
end

--- Splits "action:entity" at its first colon; nil when the syntax is wrong.
function M.split(scope)
    if type(scope) ~= "string" then return nil end
    local action, entity = match(scope, SCOPE)
    if not action or not valid_entity(entity) then return nil end
    return action, entity
end

-- Adds (entity, action) to the ordered set unless already there.
local function add(entities, entity, action)
    local e = entities[entity]
    if not e then
        e = { name = entity, actions = {} }
        entities[entity] = e
        entities[#entities + 1] = e
    end
    local actions = e.actions
    for i = 1, #actions do
        if actions[i] == action then return end
    end
    actions[#actions + 1] = action
end

-- Number of keys if t is a sequence 1..n, else nil.
local function array_length(t)
    local n = 0
    for _ in pairs(t) do n = n + 1 end
    if n == #t then return n end
    return nil
end

local function check_current_user(fname, entity, action, allow_current_user)
    if not allow_current_user and M.is_current_user(entity) then
        error(format("%s: scope %s is a current_user scope: Auth0 grants it only to a "
            .. "logged-in user's own token, never to one built by server code "
            .. "(pass allow_current_user = true to override)", fname,
            show(action .. ":" .. entity)), 3)
    end
end

local function add_strings(fname, list, entities, allow_current_user)
    for i = 1, #list do
        local scope = list[i]
        local action, entity = M.split(scope)
        if not action then
            error(format("%s: malformed scope %s at scopes[%d]: expected action:entity in "
                .. "lower case, e.g. read:users", fname, show(scope), i), 3)
        end
        check_current_user(fname, entity, action, allow_current_user)
        add(entities, entity, action)
    end
end

local function add_entities(fname, map, entities, allow_current_user)
    local names = {}
    for entity in pairs(map) do
        if not valid_entity(entity) then
            error(format("%s: malformed scope entity %s: expected lower case, e.g. users",
                fname, show(entity)), 3)
        end
        names[#names + 1] = entity
    end
    sort(names, json.bytes_less)   -- a Lua table has no order: make one
    for _, entity in ipairs(names) do
        local actions = map[entity]
        if type(actions) == "table" and actions.actions ~= nil then
            if next(actions, next(actions)) ~= nil or type(actions.actions) ~= "table" then
                error(format("%s: scopes.%s must be a list of actions or { actions = {...} }",
                    fname, name_of(entity)), 3)
            end
            actions = actions.actions
        end
        if type(actions) ~= "table" or not array_length(actions) or #actions == 0 then
            error(format("%s: scopes.%s must be a non-empty list of actions", fname,
                name_of(entity)), 3)
        end
        for _, action in ipairs(actions) do
            if type(action) ~= "string" or not match(action, ACTION) then
                error(format("%s: malformed action %s in scopes.%s: expected lower case, "
                    .. "e.g. read", fname, show(action), name_of(entity)), 3)
            end
            check_current_user(fname, entity, action, allow_current_user)
            add(entities, entity, action)
        end
    end
end

--- Normalises a scopes option.
-- @param scopes nil, a list of "action:entity" strings, or a table entity -> list of actions
--   (or entity -> { actions = list }); entities of that map form are sorted by name.
-- @tparam string fname the public function named in errors
-- @tparam boolean allow_current_user
-- @treturn table list of { name = entity, actions = { ... } } (also indexed by entity name)
-- @raise on any malformed scope or a current_user scope that is not allowed
function M.parse(scopes, fname, allow_current_user)
    -- The list part holds the entities in order; the hash part finds them by name.
    local entities = {}
    if scopes == nil then return entities end
    if type(scopes) ~= "table" then
        error(fname .. ": scopes must be a table", 3)
    end
    local first = next(scopes)
    if first == nil then return entities end
    if type(first) == "number" or scopes[1] ~= nil then
        if not array_length(scopes) then
            error(fname .. ": scopes must be either a list of scope strings or a table of "
                .. "entities", 3)
        end
        add_strings(fname, scopes, entities, allow_current_user)
    else
        add_entities(fname, scopes, entities, allow_current_user)
    end
    return entities
end

-- Parsed lists of scope strings, so that a server building tokens from the same few scope
-- lists does not parse them again: a trie over the list's strings (no joined key, so two
-- different lists can never meet in one entry), cleared when it grows past CACHE_MAX.
local CACHE_MAX = 1024
local RESULT = {}   -- the trie node key under which a complete list's result is kept
local cache, cached = { {}, {} }, 0

--- Like parse followed by to_json, for lists of scope strings, with a cache.
-- @treturn table entities (shared: callers must not change it)
-- @treturn string its JSON
-- @raise like parse
function M.parse_to_json(scopes, fname, allow_current_user)
    local node = type(scopes) == "table" and cache[allow_current_user and 2 or 1]
    local n = node and #scopes or 0
    if n > 0 then
        local count = 0
        for _ in pairs(scopes) do count = count + 1 end
        if count ~= n then node = nil end
        for i = 1, n do
            if not node then break end
            node = node[scopes[i]]
        end
        local hit = node and node[RESULT]
        if hit then return hit[1], hit[2] end
    end
    local entities = M.parse(scopes, fname, allow_current_user)
    local text = M.to_json(entities)
    if n > 0 then   -- parse accepted a list of n strings: remember it
        if cached >= CACHE_MAX then cache, cached = { {}, {} }, 0 end
        node = cache[allow_current_user and 2 or 1]
        for i = 1, n do
            local child = node[scopes[i]]
            if not child then
                child = {}
                node[scopes[i]] = child
            end
            node = child
        end
        node[RESULT] = { entities, text }
        cached = cached + 1
    end
    return entities, text
end

--- Adds more "action:entity" strings to a parsed set (token.new's `endpoints`).
-- @raise like parse
function M.add_strings(entities, list, fname, allow_current_user)
    add_strings(fname, list, entities, allow_current_user)
    return entities
end

--- The `scopes` claim as JSON: {"entity":{"actions":["a",...]},...} in the set's order.
function M.to_json(entities)
    local parts = {}
    for i, e in ipairs(entities) do
        -- names and actions passed the syntax check: plain ASCII that needs no escaping
        parts[i] = '"' .. e.name .. '":{"actions":["' .. concat(e.actions, '","') .. '"]}'
    end
    return "{" .. concat(parts, ",") .. "}"
end

--- The set as "action:entity" strings, entities in order.
function M.to_strings(entities)
    local out = {}
    for _, e in ipairs(entities) do
        for _, a in ipairs(e.actions) do out[#out + 1] = a .. ":" .. e.name end
    end
    return out
end

return M
