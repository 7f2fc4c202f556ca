-- auth0.apiv2.internal.explorer (the offline token generator page) and scripts/gen-explorer.
-- The page itself runs in a browser in spec/explorer/test_explorer.py (make test-explorer).
local explorer = require "auth0.apiv2.internal.explorer"
local scopes = require "auth0.apiv2.scopes"
local data = require "auth0.apiv2.internal.scopes_data"
local h = require "spec.helpers"

local function catalog_of(page)
    local text = page:match('<script type="application/json" id="catalog">(.-)</script>')
    return text, require("cjson").decode(text)
end

describe("explorer.page", function()
    local page = explorer.page()

    it("embeds the whole catalog, with each endpoint's least privileged scope", function()
        local text, catalog = catalog_of(page)
        assert.is_nil(text:find("<", 1, true))
        assert.are.equal(#data.scopes, #catalog.scopes)
        assert.are.equal(#data.endpoints, #catalog.endpoints)
        for _, e in ipairs(catalog.endpoints) do
            local list = assert(scopes.for_endpoint(e[1] .. " " .. e[2]))
            assert.are.same(list, e[3])
            local least = #list > 0 and scopes.least_privileged(list) or nil
            if least then assert.are.equal(least, e[4]) else assert.are.equal(require("cjson").null, e[4]) end
        end
        for _, s in ipairs(catalog.scopes) do
            assert.are.equal(scopes.is_special(s[1]) and 1 or 0, s[3])
        end
    end)

    it("forbids every connection and lets only its own script and style run", function()
        local csp = page:match('<meta http%-equiv="Content%-Security%-Policy" content="([^"]*)">')
        assert.is_string(csp)
        for _, rule in ipairs{ "default-src 'none'", "connect-src 'none'", "form-action 'none'",
                               "base-uri 'none'", "img-src 'none'" } do
            assert.is_truthy(csp:find(rule, 1, true), rule)
        end
        assert.is_truthy(csp:find("script%-src 'sha256%-[%w+/]+=*'"))
        assert.is_truthy(csp:find("style%-src 'sha256%-[%w+/]+=*'"))
        assert.is_nil(csp:find("unsafe", 1, true))
        assert.is_nil(page:find("https?://"))           -- nothing to fetch, not even a link
        assert.is_nil(page:find(" on%a+=\""))           -- no inline handlers (the CSP blocks them)
        assert.are.equal(2, select(2, page:gsub("<script", "")))
    end)

    it("is what auth0-apiv2 explorer prints", function()
        local out, ok = h.run(h.lua_command() .. " bin/auth0-apiv2 explorer")
        assert.is_true(ok)
        assert.are.equal(page, out)
        local _, refused = h.run(h.lua_command() .. " bin/auth0-apiv2 explorer extra 2>&1")
        assert.is_false(refused)
    end)
end)

describe("scripts/gen-explorer", function()
    it("--check passes: the packed page is what explorer/ holds", function()
        local out, ok = h.run("scripts/gen-explorer --check 2>&1")
        assert.is_true(ok, out)
    end)
end)
