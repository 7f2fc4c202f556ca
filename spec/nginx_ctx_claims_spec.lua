-- The claims a guard puts in ngx.ctx (auth0.apiv2.internal.nginx.ctx_claims), with plain
-- tables for ngx.ctx: a cached token's copy is made on the first read of the field, and the
-- request sees the same as if it had been made at once (the real nginx: spec/openresty/guard).
local ctx_claims = require "auth0.apiv2.internal.nginx.ctx_claims"
local verifiers = require "auth0.apiv2.internal.verifier"
local token = require "auth0.apiv2.token"

local KEY = token.key(string.rep("c", 48), { encoding = "raw" })
local AUD = "CTXspecAUDIENCE0123456789abcdefg"

describe("claims in ngx.ctx", function()
    local verifier, jwt, fresh, entry

    before_each(function()
        jwt = token.new{ aud = AUD, scopes = { "read:users", "update:users" },
                         claims = { sub = "u1" } }:sign(KEY)
        fresh = token.verify(jwt, KEY, { audience = AUD })
        verifier = token.verifier{ key = KEY, audience = AUD, cache = 4 }
        verifiers.verified(verifier, jwt)                         -- a miss: now cached
        local _, _, _, shared = verifiers.verified(verifier, jwt)
        entry = assert(shared, "a cache hit hands out the entry")
    end)

    it("of a cached token: absent until read, then the request's own copy", function()
        local ctx = {}
        ctx_claims.put(ctx, "claims", nil, entry)
        assert.is_nil(rawget(ctx, "claims"))
        assert.is_nil(next(ctx), "pairs shows nothing before the first read")
        local claims = ctx.claims
        assert.are.same(fresh, claims)
        assert.are.equal(claims, rawget(ctx, "claims"), "made once, then a plain field")
        assert.are.equal(claims, ctx.claims)
        claims.sub, claims.scopes.users.actions[1] = "changed", "delete"
        assert.are.equal("delete", ctx.claims.scopes.users.actions[1])

        local next_ctx = {}                                       -- the next request
        ctx_claims.put(next_ctx, "claims", nil, entry)
        assert.are.same(fresh, next_ctx.claims)
        assert.are_not.equal(claims, next_ctx.claims)
        assert.are.same(fresh, verifier:verify(jwt), "the cache's own table is unchanged")
    end)

    it("while pending: the metatable shows a string, cannot be replaced, and goes with the read",
        function()
        local ctx = {}
        ctx_claims.put(ctx, "claims", nil, entry)
        assert.are.equal(ctx_claims.PENDING, getmetatable(ctx),
            "nothing reaches the cache's entry through getmetatable")
        assert.has_error(function() setmetatable(ctx, {}) end)
        assert.are.same(fresh, ctx.claims)                    -- still there
        assert.is_nil(getmetatable(ctx), "after the first read, a plain table again")
        local seen = {}
        for k in pairs(ctx) do seen[#seen + 1] = k end
        assert.are.same({ "claims" }, seen)
        setmetatable(ctx, {})                                 -- and yours to change
    end)

    it("assigned before the first read: the metatable goes too", function()
        local ctx = {}
        ctx_claims.put(ctx, "claims", nil, entry)
        ctx.other = 1                                         -- another field: still pending
        assert.are.equal(ctx_claims.PENDING, getmetatable(ctx))
        ctx.claims = { mine = true }
        assert.is_nil(getmetatable(ctx))
        assert.are.same({ mine = true }, ctx.claims)
    end)

    it("of a token that was not cached: a plain field at once", function()
        local ctx, claims = {}, { sub = "x" }
        ctx_claims.put(ctx, "claims", claims, nil)
        assert.are.equal(claims, rawget(ctx, "claims"))
        assert.is_nil(getmetatable(ctx))
    end)

    it("other fields of ctx read and write as before", function()
        local ctx = { before = 1 }
        ctx_claims.put(ctx, "claims", nil, entry)
        assert.are.equal(1, ctx.before)
        assert.is_nil(ctx.absent)
        ctx.later = 2
        assert.are.equal(2, rawget(ctx, "later"))
        assert.are.same(fresh, ctx.claims)
    end)

    it("assigned before the first read: the assignment wins, no copy", function()
        local ctx = {}
        ctx_claims.put(ctx, "claims", nil, entry)
        ctx.claims = "mine"
        assert.are.equal("mine", ctx.claims)
        ctx.claims = nil
        assert.is_nil(ctx.claims, "removed stays removed")
    end)

    it("a second put replaces the first, pending or read", function()
        local other = token.new{ aud = AUD, scopes = { "read:clients" } }:sign(KEY)
        verifiers.verified(verifier, other)
        local _, _, _, other_entry = verifiers.verified(verifier, other)
        local ctx = {}
        ctx_claims.put(ctx, "claims", nil, entry)
        ctx_claims.put(ctx, "claims", nil, other_entry)
        assert.are.same({ clients = { actions = { "read" } } }, ctx.claims.scopes)
        ctx_claims.put(ctx, "claims", nil, entry)                 -- after a read
        assert.are.same(fresh, ctx.claims)
        local given = { sub = "given" }
        ctx_claims.put(ctx, "claims", nil, other_entry)
        ctx_claims.put(ctx, "claims", given, nil)                 -- a miss after a pending hit
        assert.are.equal(given, ctx.claims)
    end)

    it("two guards with two fields: each gets its own claims", function()
        local ctx = {}
        ctx_claims.put(ctx, "first", nil, entry)
        ctx_claims.put(ctx, "second", nil, entry)
        assert.are.same(fresh, rawget(ctx, "first"), "the first is made when the second comes")
        assert.are.same(fresh, ctx.second)
        assert.are_not.equal(ctx.first, ctx.second)
    end)

    it("requests pending on one entry at once: each its own copy, one metatable made", function()
        local a, b, c = {}, {}, {}
        ctx_claims.put(a, "claims", nil, entry)
        ctx_claims.put(b, "claims", nil, entry)
        local note = rawget(entry, ctx_claims.NOTE)
        assert.is_table(note, "the entry keeps its pending metatable")
        assert.are.equal(note, debug.getmetatable(a))
        assert.are.equal(note, debug.getmetatable(b))
        b.claims = { sub = "assigned" }                           -- b's ends, a's goes on
        assert.are.equal(note, debug.getmetatable(a))
        assert.is_nil(debug.getmetatable(b))
        assert.are.equal("assigned", b.claims.sub)
        local claims_a = a.claims
        assert.are.same(fresh, claims_a)
        claims_a.sub = "changed"
        ctx_claims.put(c, "claims", nil, entry)
        assert.are.equal(note, debug.getmetatable(c), "reused, not made again")
        assert.are.same(fresh, c.claims)
        assert.are.same({ __index = note.__index, __newindex = note.__newindex,
                          __metatable = ctx_claims.PENDING, field = "claims",
                          make = verifiers.copy_of, a = entry },
                        note, "nothing was written to it")
        local other = {}                                          -- another field: its own
        ctx_claims.put(other, "auth", nil, entry)
        assert.are_not.equal(note, debug.getmetatable(other))
        assert.are.equal(note, rawget(entry, ctx_claims.NOTE))
        assert.are.same(fresh, other.auth)
    end)

    it("a ctx with a metatable of its own gets the copy at once, through its __newindex",
        function()
        local written = {}
        local ctx = setmetatable({}, { __newindex = function(t, k, v)
            written[k] = true
            rawset(t, k, v)
        end })
        ctx_claims.put(ctx, "claims", nil, entry)
        assert.is_true(written.claims)
        assert.are.same(fresh, rawget(ctx, "claims"))
    end)

    it("keep no request's ctx alive", function()
        local probe = setmetatable({}, { __mode = "k" })
        do
            local ctx = {}
            probe[ctx] = true
            ctx_claims.put(ctx, "claims", nil, entry)
        end
        collectgarbage()
        collectgarbage()
        assert.is_nil(next(probe))
    end)
end)
