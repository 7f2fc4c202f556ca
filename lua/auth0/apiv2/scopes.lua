--- The Management API v2 scope catalog: which scopes authorise an endpoint, what a scope means,
-- and which one to grant. It is advice: Auth0's list grows, so a scope it does not know may still
-- be valid. The data is generated into `auth0.apiv2.internal.scopes_data` by scripts/gen-scopes.
local data = require "auth0.apiv2.internal.scopes_data"
local scopeset = require "auth0.apiv2.internal.scopeset"
local json = require "auth0.apiv2.internal.json"

local M = {}

local type, ipairs, error, tonumber = type, ipairs, error, tonumber
local find, lower, upper, match, gsub, char, sub =
    string.find, string.lower, string.upper, string.match, string.gsub, string.char, string.sub
local byte = string.byte
local sort = table.sort
local SLASH = 47
local bytes_less = json.bytes_less   -- byte order, whatever the C locale says
local split, is_current_user = scopeset.split, scopeset.is_current_user

local descriptions, all, entities = {}, {}, {}
do
    local seen = {}
    for i, row in ipairs(data.scopes) do
        local scope = row[1]
        descriptions[scope] = row[2]
        all[i] = scope
        local _, entity = split(scope)
        if not seen[entity] then
            seen[entity] = true
            entities[#entities + 1] = entity
        end
    end
    sort(all, bytes_less)
    sort(entities, bytes_less)
end

-- Endpoint templates: exact["PATCH /users/{id}"], and by_shape["PATCH 3"] listing the templates
-- of that method and segment count, in the data's order, for matching concrete paths.
local exact, by_shape = {}, {}
do
    for i, row in ipairs(data.endpoints) do
        local t = { order = i, source = row[3], segments = {}, is_param = {}, scopes = {} }
        for segment in (sub(row[2], 2) .. "/"):gmatch("([^/]*)/") do
            t.segments[#t.segments + 1] = segment
            t.is_param[#t.segments] = find(segment, "^{.+}$") ~= nil
        end
        for j = 4, #row do t.scopes[#t.scopes + 1] = row[j] end
        exact[row[1] .. " " .. row[2]] = t
        local shape = row[1] .. " " .. #t.segments
        by_shape[shape] = by_shape[shape] or {}
        by_shape[shape][#by_shape[shape] + 1] = t
    end
end

local function copy(list)
    local out = {}
    for i, v in ipairs(list) do out[i] = v end
    return out
end

local function check_string(fname, name, value)
    if type(value) ~= "string" then
        error("scopes." .. fname .. ": " .. name .. " must be a string", 3)
    end
end

local function decode(segment)
    return (gsub(segment, "%%(%x%x)", function(hex) return char(tonumber(hex, 16)) end))
end

-- Whether template a is more specific than b (both match the same path): at the first
-- segment where they differ, a literal beats a {param}, so /users/{id}/roles never shadows a
-- literal route. Same shape (e.g. /clients/{client_id} from 2024 and /clients/{id} from 2026):
-- the newer source wins, then the data's order.
local function more_specific(a, b)
    for i = 1, #a.segments do
        if a.is_param[i] ~= b.is_param[i] then return not a.is_param[i] end
    end
    return a.source > b.source
end

local function find_template(method, path)
    local t = exact[method .. " " .. path]
    if t then return t end
    local segments = {}
    for segment in (sub(path, 2) .. "/"):gmatch("([^/]*)/") do
        segments[#segments + 1] = decode(segment)   -- split first: %2F stays inside its segment
    end
    local best
    for _, candidate in ipairs(by_shape[method .. " " .. #segments] or {}) do
        local ok = true
        for i, segment in ipairs(segments) do
            if candidate.is_param[i] then
                ok = segment ~= ""
            else
                ok = segment == candidate.segments[i]
            end
            if not ok then break end
        end
        if ok and (not best or more_specific(candidate, best)) then best = candidate end
    end
    return best
end

--- Endpoints longer than this (bytes) are refused: no Auth0 path comes near it, and matching
-- a longer one would only cost time.
M.MAX_ENDPOINT = 8192

-- "/users///" -> "/users", "/" stays "/": one backward scan (a pattern such as "(.)/+$"
-- retries at every slash, which is quadratic in their number).
local function strip_final_slashes(path)
    local last = #path
    while last > 1 and byte(path, last) == SLASH do last = last - 1 end
    return sub(path, 1, last)
end

--- The scopes any one of which authorises an endpoint.
-- @tparam string endpoint "METHOD PATH": the method in any letter case; the path a template
--   ("/users/{id}") or concrete ("/users/auth0%7C123", "/users/auth0|123"), with or without the
--   "/api/v2" prefix (or a whole "https://DOMAIN/api/v2/..." URL), a query string or a final "/"
-- @treturn table the scopes, in the catalog's order (empty when the catalog lists none)
-- @treturn[2] nil
-- @treturn[2] string "malformed endpoint", "unknown endpoint" or "endpoint too long" (over
--   `MAX_ENDPOINT` bytes)
-- @raise when endpoint is not a string
function M.for_endpoint(endpoint)
    check_string("for_endpoint", "endpoint", endpoint)
    if #endpoint > M.MAX_ENDPOINT then return nil, "endpoint too long" end
    local method, path = match(endpoint, "^%s*(%a+)%s+(%S+)%s*$")
    if not method then return nil, "malformed endpoint" end
    path = match(gsub(path, "^[hH][tT][tT][pP][sS]?://[^/]*", ""), "^[^?#]*")
    if sub(path, 1, 1) ~= "/" then return nil, "malformed endpoint" end
    if path == "/api/v2" or find(path, "^/api/v2/") then path = sub(path, 8) end
    path = strip_final_slashes(path)
    local t = find_template(upper(method), path)
    if not t then return nil, "unknown endpoint" end
    return copy(t.scopes)
end

--- The one scope to grant out of those that authorise an endpoint.
-- The rule: current_user scopes are never chosen (Auth0 grants them only to a logged-in user's
-- own token). Of the rest, a scope whose entity extends another one's entity with "_" grants a
-- part of it (users_app_metadata of users, logs_users of logs), so it is narrower; the result
-- is the first scope, in the list's order, that no other in the list is narrower than. Without
-- such pairs that is the list's first grantable scope: the catalog cannot rank unrelated entities.
-- @tparam table list scope strings, as `for_endpoint` returns them
-- @treturn string the scope
-- @treturn[2] nil
-- @treturn[2] string "no scopes listed" or "only current_user scopes"
-- @raise when list is not a list of action:entity strings
function M.least_privileged(list)
    if type(list) ~= "table" then
        error("scopes.least_privileged: list must be a table of scope strings", 2)
    end
    local grantable, scope_of = {}, {}   -- entities in the list's order; entity -> first scope
    for i, scope in ipairs(list) do
        local _, entity = split(scope)
        if not entity then
            error("scopes.least_privileged: malformed scope " .. scopeset.show(scope)
                .. " at list[" .. i .. "]", 2)
        end
        if not is_current_user(entity) and not scope_of[entity] then
            grantable[#grantable + 1] = entity
            scope_of[entity] = scope
        end
    end
    if #list == 0 then return nil, "no scopes listed" end
    if #grantable == 0 then return nil, "only current_user scopes" end
    for _, entity in ipairs(grantable) do
        local narrowest = true
        for _, other in ipairs(grantable) do
            if sub(other, 1, #entity + 1) == entity .. "_" then
                narrowest = false
                break
            end
        end
        if narrowest then return scope_of[entity] end
    end
end

--- What a scope allows, as the catalog describes it.
-- @tparam string scope e.g. "read:users"
-- @treturn string|nil the description, nil for a scope the catalog does not know
-- @raise when scope is not a string
function M.describe(scope)
    check_string("describe", "scope", scope)
    return descriptions[scope]
end

--- Whether the catalog knows a scope.
-- @tparam string scope
-- @treturn boolean
-- @raise when scope is not a string
function M.is_known(scope)
    check_string("is_known", "scope", scope)
    return descriptions[scope] ~= nil
end

--- Whether a scope is of the current_user family (every entity containing "current_user"),
-- which Auth0 grants only to a logged-in user's own token.
-- @tparam string scope e.g. "read:current_user"
-- @treturn boolean false also for a malformed scope
-- @raise when scope is not a string
function M.is_special(scope)
    check_string("is_special", "scope", scope)
    local _, entity = split(scope)
    return entity ~= nil and is_current_user(entity)
end

--- Every scope the catalog knows.
-- @treturn table a new list, sorted by bytes
function M.all()
    return copy(all)
end

--- Every entity (the part of a scope after its first colon) the catalog knows.
-- @treturn table a new list, sorted by bytes
function M.entities()
    return copy(entities)
end

--- The scopes whose name or description contains a word, in any letter case (plain text, not a
-- Lua pattern).
-- @tparam string word
-- @treturn table a new list, sorted by bytes; empty when nothing matches
-- @raise when word is not a string
function M.search(word)
    check_string("search", "word", word)
    word = lower(word)
    local out = {}
    for _, scope in ipairs(all) do
        if find(lower(scope), word, 1, true) or find(lower(descriptions[scope]), word, 1, true) then
            out[#out + 1] = scope
        end
    end
    return out
end

return M
