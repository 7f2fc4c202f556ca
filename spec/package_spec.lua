-- The rock: every Lua file is installed, and the C core and Lua modules share one version.
local h = require "spec.helpers"

local function load_rockspec()
    local env = {}
    local chunk
    if setfenv then
        chunk = assert(loadstring(h.read("auth0-apiv2-scm-1.rockspec")))
        setfenv(chunk, env)
    else
        chunk = assert(load(h.read("auth0-apiv2-scm-1.rockspec"), "rockspec", "t", env))
    end
    chunk()
    return env
end

describe("the rockspec", function()
    local spec = load_rockspec()

    it("lists every Lua file under lua/ as a module", function()
        local listed = {}
        for name, source in pairs(spec.build.modules) do
            if type(source) == "string" then listed[source] = name end
        end
        local out = assert(h.run("find lua -name '*.lua' | sort"))
        local count = 0
        for path in out:gmatch("[^\n]+") do
            local module = path:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", "")
                :gsub("/", ".")
            assert.are.equal(module, listed[path], path .. " is not in build.modules")
            count = count + 1
        end
        assert.is_true(count > 0)
    end)

    it("builds every C source of the core", function()
        local sources = {}
        for _, s in ipairs(spec.build.modules["auth0.apiv2.core"].sources) do sources[s] = true end
        local out = assert(h.run("ls csrc/*.c"))
        for path in out:gmatch("[^\n]+") do
            if not path:match("^csrc/test_") then
                assert.is_true(sources[path], path .. " is not in the core's sources")
            end
        end
    end)
end)

describe("the version", function()
    it("is the same in the Lua modules, the C core and the changelog", function()
        local apiv2 = require "auth0.apiv2"
        local core = require "auth0.apiv2.core"
        assert.are.equal(apiv2._VERSION, core._VERSION)
        assert.is_truthy(h.read("CHANGELOG.md"):find("## " .. apiv2._VERSION, 1, true))
    end)
end)
