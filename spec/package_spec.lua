-- The rock: every Lua file is installed, and the C core and Lua modules share one version.
local h = require "spec.helpers"

local function load_rockspec(path)
    path = path or "auth0-apiv2-scm-1.rockspec"
    local env = {}
    local chunk
    if setfenv then
        chunk = assert(loadstring(h.read(path)))
        setfenv(chunk, env)
    else
        chunk = assert(load(h.read(path), "rockspec", "t", env))
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
        for path in out:gmatch("[^\n]+") do   -- the C tests live in ctest/
            assert.is_true(sources[path], path .. " is not in the core's sources")
        end
    end)
end)

describe("the release rockspec", function()
    it("is the scm rockspec with the release's version and tag (scripts/release-rockspec)",
        function()
        local version = require("auth0.apiv2")._VERSION
        local release = load_rockspec("rockspecs/auth0-apiv2-" .. version .. "-1.rockspec")
        local scm = load_rockspec()
        assert.are.equal(version .. "-1", release.version)
        assert.are.same({ url = scm.source.url, tag = "v" .. version }, release.source)
        release.version, release.source, scm.version, scm.source = nil, nil, nil, nil
        assert.are.same(scm, release)
    end)

    it("has no hard dependency but Lua: lua-cjson is optional", function()
        assert.are.same({ "lua >= 5.1, < 5.5" }, load_rockspec().dependencies)
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

describe("the C core", function()
    it("is loaded through auth0.apiv2.internal.core, which refuses a core of another release",
        function()
        local loaded = package.loaded
        local saved_core, saved_loader = loaded["auth0.apiv2.core"], loaded["auth0.apiv2.internal.core"]
        loaded["auth0.apiv2.core"] = { _VERSION = "0.0.0" }
        loaded["auth0.apiv2.internal.core"] = nil
        local ok, err = pcall(require, "auth0.apiv2.internal.core")
        loaded["auth0.apiv2.core"], loaded["auth0.apiv2.internal.core"] = saved_core, saved_loader
        assert.is_false(ok)
        assert.are.equal("auth0.apiv2 " .. require("auth0.apiv2")._VERSION
            .. " found auth0.apiv2.core 0.0.0: reinstall the rock", err)
    end)

    it("is required by no Lua file but auth0.apiv2.internal.core", function()
        local out = assert(h.run("grep -rlE 'auth0[.]apiv2[.]core[\"'\"'\"']' lua bin examples bench "
            .. "--include='*.lua' --include=auth0-apiv2 | sort"))
        assert.are.equal("lua/auth0/apiv2/internal/core.lua\n", out)
    end)

    it("and the private helpers are required by nothing outside the library", function()
        local out = h.run("grep -rlE 'auth0[.]apiv2[.]internal' bin examples bench "
            .. "--include='*.lua' --include=auth0-apiv2")
        assert.are.equal("", out)
    end)
end)
