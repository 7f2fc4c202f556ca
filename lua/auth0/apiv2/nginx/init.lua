--- auth0.apiv2.nginx: protect an OpenResty API with Auth0 APIv2 tokens.
--
--   init_by_lua_block {
--       local nginx = require "auth0.apiv2.nginx"
--       local token = require "auth0.apiv2.token"
--       guard = nginx.guard{
--           verifier = token.verifier{ key = token.key(nginx.env("AUTH0_API_SECRET")),
--                                      audience = nginx.env("AUTH0_API_KEY"), cache = 10000 },
--           revocations = nginx.revocations{ dict = "auth0_revoked" },
--           metrics = "auth0_metrics",
--       }
--   }
--   init_worker_by_lua_block { guard:start() }
--   access_by_lua_block { guard:protect{ scopes = { "read:users" } } }
--
-- docs/nginx.md has the whole story; this file only gathers the entry points.
-- luacheck: globals ngx
local options = require "auth0.apiv2.internal.options"
-- Everything a guard may need later is loaded now, with this module: in init_by_lua, that is
-- in the master, before the workers fork. Workers run as another user (nobody, when nginx
-- starts as root), who may not be able to read the tree at all (luarocks --local as root
-- installs under /root); and a require on the request path would read files mid-request.
local guard = require "auth0.apiv2.nginx.guard"
local revocations = require "auth0.apiv2.nginx.revocations"
require "auth0.apiv2.nginx.redis"   -- the fleet backend (its client library is found later)
require "auth0.apiv2.scopes"        -- the catalog, for protect{ endpoint = ... }

local M = {}

local type, error, rawget = type, error, rawget
local os_getenv = os.getenv

--- An environment variable that nginx passed on, or a clear error when it did not.
-- nginx hands its workers (and init_by_lua) only the variables named by `env` directives in
-- the main block of nginx.conf: without `env AUTH0_API_SECRET;` os.getenv sees nothing, and a
-- guard made from it would refuse every request.
-- @tparam string name
-- @tparam[opt] string default returned when the variable is unset or empty
-- @treturn string the value
-- @raise when the variable is unset or empty and there is no default
function M.env(name, default)
    if type(name) ~= "string" or name == "" then
        error("auth0.apiv2.nginx.env: name must be a non-empty string", 2)
    end
    local value = os_getenv(name)
    if value == nil or value == "" then
        if default ~= nil then return default end
        local where = rawget(_G, "ngx") and " (nginx passes only the variables named by `env`"
            .. " directives: add `env " .. name .. ";` to the main block of nginx.conf, outside"
            .. " http {})" or ""
        error("auth0.apiv2.nginx: the environment variable " .. options.show(name)
            .. " is not set" .. where, 2)
    end
    return value
end

--- A guard (auth0.apiv2.nginx.guard.new): `guard:protect{...}`, `guard:check{...}`,
-- `guard:serve_metrics()`, `guard:start()`.
function M.guard(opts)
    return guard.new(opts)
end

--- The revocation store (auth0.apiv2.nginx.revocations.new).
function M.revocations(opts)
    return revocations.new(opts)
end

return M
