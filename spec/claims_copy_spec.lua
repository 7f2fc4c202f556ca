-- The deep copies the verifier cache hands out (auth0.apiv2.internal.claims_copy): a replay of
-- a plan (of claims the cache keeps as they are) is the same as a
-- walked copy, shares no table with the original, and keeps json.null (on LuaJIT with
-- table.clone, and without it on PUC Lua).
local claims_copy = require "auth0.apiv2.internal.claims_copy"
local json = require "auth0.apiv2.internal.json"

-- Every table reachable from t, each once.
local function tables_of(t, out)
    out = out or {}
    if type(t) == "table" and t ~= json.null and not out[t] then
        out[t] = true
        for _, v in pairs(t) do tables_of(v, out) end
    end
    return out
end

local function shares_no_table(a, b)
    local of_a = tables_of(a)
    for t in pairs(tables_of(b)) do
        if of_a[t] then return false end
    end
    return true
end

-- A plan of the claims themselves, kept as they are (the cache holds the pass's own table).
local PLANS = {
    own = function(claims) return claims_copy.own(claims) end,
}

for way, plan_of in pairs(PLANS) do
    describe("claims copies, plans by " .. way, function()
        local samples = {
            {},
            { sub = "u1", exp = 2, aud = "A" },
            { aud = { "A", "B" }, scopes = { users = { actions = { "read", "update" } },
                                             clients = { actions = { "read" } } } },
            { deep = { { a = { { b = { json.null, { c = {} } } } } } }, n = json.null, list = {} },
            { [1] = "array", [2] = { x = 1 }, [3] = { 1, 2, { 3 } } },
        }
        for i, claims in ipairs(samples) do
            it("replay and copy agree, sharing nothing (sample " .. i .. ")", function()
                local p = plan_of(claims)
                for _ = 1, 2 do                              -- a plan serves every replay
                    local replayed = claims_copy.replay(p)
                    assert.are.same(claims, replayed)
                    assert.are.same(claims_copy.copy(claims), replayed)
                    assert.is_true(shares_no_table(claims, replayed))
                end
            end)
        end

        it("a change to a replayed copy reaches neither the original nor the next copy", function()
            local claims = { scopes = { users = { actions = { "read" } } }, aud = { "A" } }
            local p = plan_of(claims)
            local first = claims_copy.replay(p)
            first.scopes.users.actions[1], first.aud[2], first.extra = "delete", "B", true
            assert.are.same({ scopes = { users = { actions = { "read" } } }, aud = { "A" } }, claims)
            assert.are.same(claims, claims_copy.replay(p))
        end)

        it("many shapes and very large claims: past the written-out replays, still copies",
            function()
            -- Over 300 shapes of up to 64 nested tables (more shapes than are written out), and
            -- plans of 65 to 300 tables (more than one written-out replay holds).
            local function check(n, step)
                local claims = { sub = "u" }
                local at = claims
                for i = 1, n do
                    local child = { i = i }
                    if i % 3 == 0 then at.list = { child } else at["k" .. i] = child end
                    if i % step == 0 then at = child end
                end
                local p = plan_of(claims)
                local replayed = claims_copy.replay(p)
                assert.are.same(claims, replayed)
                assert.is_true(shares_no_table(claims, replayed))
            end
            for n = 1, 64 do
                for step = 1, 5 do check(n, step) end
            end
            for n = 65, 300, 47 do check(n, 2) end
        end)

        it("keeps json.null itself (the one sentinel), inside arrays and objects", function()
            local replayed = claims_copy.replay(plan_of({ a = json.null, b = { json.null } }))
            assert.are.equal(json.null, replayed.a)
            assert.are.equal(json.null, replayed.b[1])
        end)
    end)
end
