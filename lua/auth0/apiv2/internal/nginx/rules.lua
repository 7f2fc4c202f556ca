--- The scope rule of a protected location: what `guard:protect{...}` and `guard:check{...}` are
-- given, checked against a verified token's claims.
--   { scopes = { "read:users", ... } }          every one of them
--   { any = { "update:users", ... } }           at least one
--   { endpoint = "PATCH /users/{id}" }          any scope the catalog lists for the endpoint
--   { methods = { GET = {...}, PATCH = {...} } } by request method (HEAD falls back to GET);
--                                               other methods: 405
--   {}                                          any valid token
-- A rule is usually a table literal in access_by_lua_block, so a new table on every request:
-- nothing is cached by table identity; the catalog's answer for an endpoint is cached by its
-- text (rules come from nginx.conf, so there are few).
local scopes_catalog = require "auth0.apiv2.scopes"
local verify = require "auth0.apiv2.internal.verify"
local options = require "auth0.apiv2.internal.options"
local granted = require "auth0.apiv2.internal.granted"

local M = {}

local type, next, pairs, error, getmetatable = type, next, pairs, error, getmetatable
local concat, sort = table.concat, table.sort
local has_scope = verify.has_scope

local KINDS = { scopes = true, any = true, endpoint = true, methods = true }
local ANY = {}                  -- the rule of `methods = { GET = true }` (never handed out)
local ENDPOINT_CACHE_MAX = 1000

local endpoint_scopes, endpoint_count = {}, 0

-- A list of scope strings, read raw (as the verifier's C pass reads it): a table with a
-- metatable raises, since its `#` and indexes could say another thing than its raw contents
-- (a read-only proxy would look empty to one reader and full to the other).
local function check_list(fname, name, list)
    if type(list) ~= "table" then error(fname .. ": " .. name .. " must be a list of scopes", 4) end
    if getmetatable(list) ~= nil then
        error(fname .. ": " .. name .. " must be a plain table (no metatable)", 4)
    end
    -- One scope, the usual rule, told without the loop below (see check_kinds).
    if type(list[1]) == "string" and list[2] == nil and #list == 1 then return list end
    for i = 1, #list do
        if type(list[i]) ~= "string" then
            error(fname .. ": " .. name .. " must be a list of scope strings", 4)
        end
    end
    return list
end

local function for_endpoint(fname, endpoint)
    local list = endpoint_scopes[endpoint]
    if list then return list end
    if type(endpoint) ~= "string" then error(fname .. ": endpoint must be a string", 4) end
    local found, err = scopes_catalog.for_endpoint(endpoint)
    if not found then
        error(fname .. ": " .. err .. " " .. options.show(endpoint), 4)
    end
    if #found == 0 then
        error(fname .. ": the catalog lists no scope for " .. options.show(endpoint), 4)
    end
    if endpoint_count < ENDPOINT_CACHE_MAX then
        endpoint_scopes[endpoint], endpoint_count = found, endpoint_count + 1
    end
    return found
end

-- The names a rule may hold: one kind at most (methods' entries are rules without methods).
local function check_kinds(fname, rule, nested)
    -- The usual rule, one known kind, told without the loop below: a loop on the path of
    -- every request ends LuaJIT's trace of that path there.
    local only = next(rule)
    if KINDS[only] and not (nested and only == "methods") and next(rule, only) == nil then
        return only
    end
    local kind
    for name in next, rule do
        if not KINDS[name] or (nested and name == "methods") then
            error(fname .. ": unknown rule " .. options.show(name), 4)
        end
        if kind then error(fname .. ": give one of scopes, any, endpoint, methods", 4) end
        kind = name
    end
    return kind
end

--- The rule for this request's method.
-- @param method the request's method, or a function that returns it (called only for a
--   `methods` rule: reading the method is an FFI call into nginx most rules do not need)
-- @return the rule (a table), or nil and the value of an `Allow` header
-- @raise on a malformed rule
function M.select(fname, rule, method)
    if type(rule) ~= "table" then
        error(fname .. ": expected a rule table ({ scopes = {...} }, ...)", 3)
    end
    local kind = check_kinds(fname, rule, false)
    if kind ~= "methods" then return rule end
    local methods = rule.methods
    if type(methods) ~= "table" then error(fname .. ": methods must be a table", 3) end
    if type(method) == "function" then method = method() end
    local chosen = methods[method]
    if chosen == nil and method == "HEAD" then chosen = methods.GET end
    if chosen == nil then
        local allowed = {}
        for name in pairs(methods) do allowed[#allowed + 1] = name end
        if methods.GET ~= nil and methods.HEAD == nil then allowed[#allowed + 1] = "HEAD" end
        sort(allowed)
        return nil, concat(allowed, ", ")
    end
    if chosen == true then return ANY end
    if type(chosen) ~= "table" then
        error(fname .. ": methods." .. options.show(method) .. " must be a rule table", 3)
    end
    check_kinds(fname, chosen, true)
    return chosen
end

--- A rule (as M.select returned it) as its scope lists: the rule's `scopes` as `all`, its
-- `any` or its endpoint's scopes as `any`; false for none. The guard takes them before it
-- reads the token, so a malformed rule raises on every request, whatever the token; the
-- verifier's pass checks them without the claims table (verifier.checked, then
-- M.allowed_by), and M.grants checks them against claims.
-- @return all, any
-- @raise on a malformed rule
function M.lists(fname, rule)
    local list = rule.scopes
    if list ~= nil then return check_list(fname, "scopes", list), false end
    local one_of = rule.any
    if one_of == nil and rule.endpoint ~= nil then one_of = for_endpoint(fname, rule.endpoint) end
    if one_of ~= nil then return false, check_list(fname, "any", one_of) end
    return false, false
end

--- Whether the claims grant the lists of M.lists.
-- @return true, or false and the scopes to name in the refusal (a space-separated string)
--   and whether any one of them would do
function M.grants(all, any, claims)
    if all then
        -- One scope, the usual rule, told without a loop (see check_kinds).
        if all[2] == nil and #all == 1 then
            if has_scope(claims, all[1]) then return true end
            return false, all[1], false
        end
        for i = 1, #all do
            if not has_scope(claims, all[i]) then return false, concat(all, " "), false end
        end
        return true
    end
    if any then
        for i = 1, #any do
            if has_scope(claims, any[i]) then return true end
        end
        return false, concat(any, " "), true
    end
    return true
end

--- Whether the claims satisfy a rule (as M.select returned it): M.grants of its M.lists.
-- @raise on a malformed rule
function M.allows(fname, rule, claims)
    local all, any = M.lists(fname, rule)
    return M.grants(all, any, claims)
end

--- What M.allows says, from the lists of M.lists and what the pass found missing: true, or
-- false, the scopes to name and whether any one would do (an empty `any` refuses, as there).
function M.allowed_by(all, any, missing)
    if all then
        if missing then return false, concat(all, " "), false end
        return true
    end
    if any and (missing or #any == 0) then return false, concat(any, " "), true end
    return true
end

--- The scopes a token grants, space-separated, for an upstream header (the library's one
-- reader: the `scopes` object, entities sorted, then the flat `scope` string's words).
-- @treturn string
function M.granted(claims)
    return concat(granted.list(claims), " ")
end

return M
