-- Revokes one APIv2 token of your tenant, then lists the tenant's revoked tokens.
--
--   AUTH0_DOMAIN=tenant.auth0.com AUTH0_API_KEY=... AUTH0_API_SECRET=... \
--     lua examples/revoke.lua TOKEN_TO_REVOKE
--
-- AUTH0_BASE_URL (e.g. http://127.0.0.1:8080/api/v2, the local server of spec/server) replaces
-- the domain, and AUTH0_CA_FILE the system's trusted CAs.
local token = require "auth0.apiv2.token"
local blacklist = require "auth0.apiv2.blacklist"

local domain, base_url = os.getenv("AUTH0_DOMAIN"), os.getenv("AUTH0_BASE_URL")
local api_key, secret = os.getenv("AUTH0_API_KEY"), os.getenv("AUTH0_API_SECRET")
local victim = arg[1]
if not ((domain or base_url) and api_key and secret and victim) then
    io.stderr:write("usage: AUTH0_DOMAIN=... AUTH0_API_KEY=... AUTH0_API_SECRET=... "
        .. "lua examples/revoke.lua TOKEN\n")
    os.exit(2)
end

-- The helper signs its own short-lived blacklist:tokens token with the key.
local key = token.key(secret)
local bl = blacklist.new{
    domain = domain, base_url = base_url, ca_file = os.getenv("AUTH0_CA_FILE"),
    key = key, aud = api_key,
    timeout = 5000, retries = 3,
}

local ok, err = bl:revoke(victim)
if not ok then
    io.stderr:write(tostring(err), "\n")    -- e.g. "blacklist.revoke: 403 insufficient_scope: ..."
    os.exit(1)
end
print("revoked")

local list, lerr = bl:list{ aud = api_key }
if not list then
    io.stderr:write(tostring(lerr), "\n")
    os.exit(1)
end
for _, entry in ipairs(list) do
    print(("revoked: aud %s jti %s"):format(entry.aud, entry.jti))
end
key:wipe()
