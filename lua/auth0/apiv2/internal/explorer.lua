--- The offline token generator page (`auth0-apiv2 explorer`, `make explorer`): the packed page
-- (auth0.apiv2.internal.explorer_page, made by scripts/gen-explorer from explorer/) with the
-- scope catalog embedded, from the same data as auth0.apiv2.scopes.
local data = require "auth0.apiv2.internal.scopes_data"
local scopes = require "auth0.apiv2.scopes"
local json = require "auth0.apiv2.internal.json"
local page = require "auth0.apiv2.internal.explorer_page"

local M = {}

local ipairs, error = ipairs, error
local find, gsub = string.find, string.gsub

local function list_or_empty(list)
    if #list == 0 then return json.empty_array end
    return list
end

-- { scopes = { {scope, description, 1 when current_user else 0} }, endpoints = { {method, path,
-- {scopes}, least privileged scope or null} } }, in the catalog's order.
local function catalog()
    local out = { scopes = {}, endpoints = {} }
    for i, row in ipairs(data.scopes) do
        out.scopes[i] = { row[1], row[2], scopes.is_special(row[1]) and 1 or 0 }
    end
    for i, row in ipairs(data.endpoints) do
        local list = {}
        for j = 4, #row do list[#list + 1] = row[j] end
        local least = #list > 0 and scopes.least_privileged(list) or nil
        out.endpoints[i] = { row[1], row[2], list_or_empty(list), least or json.null }
    end
    return out
end

--- The whole page: one self-contained HTML document.
-- @treturn string the HTML
function M.page()
    local text, err = json.encode(catalog(), "catalog")
    if not text then error("explorer: " .. err) end
    -- Inside <script type="application/json">, "</script" or "<!--" would end the block early:
    -- "<" only occurs inside JSON strings, where \u003c means the same.
    text = gsub(text, "<", "\\u003c")
    local at = find(page, "@CATALOG@", 1, true)
    return page:sub(1, at - 1) .. text .. page:sub(at + #"@CATALOG@")
end

return M
