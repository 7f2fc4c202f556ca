-- The key helper behind token.key: the codes it gives callers that explain a bad secret in
-- their own terms (the command line), so that none of them reads message text.
local keys = require "auth0.apiv2.internal.key"
local h = require "spec.helpers"

describe("key.try", function()
    it("makes a key object of a good secret", function()
        local key = assert(keys.try(h.SECRET, "base64"))
        assert.is_true(keys.is_key(key))
        key:wipe()
    end)

    it("says not_base64 for text that is not base64", function()
        local key, code, message = keys.try("not*base64*at*all*not*base64*at*all*!!", "base64")
        assert.is_nil(key)
        assert.are.equal("not_base64", code)
        assert.are.equal("secret is not base64 or base64url text; for a plain-text secret use "
            .. "token.key(secret, { encoding = \"raw\" })", message)
    end)

    it("says too_short for a key under 32 bytes", function()
        local key, code, message = keys.try(string.rep("k", 20), "raw")
        assert.is_nil(key)
        assert.are.equal("too_short", code)
        assert.are.equal("key is 20 bytes, at least 32 are required", message)
    end)

    it("is what token.key raises with, behind the function's name", function()
        local token = require "auth0.apiv2.token"
        local _, _, message = keys.try(string.rep("k", 20), "raw")
        assert.has_error(function() token.key(string.rep("k", 20), { encoding = "raw" }) end,
            "token.key: " .. message)
    end)
end)
