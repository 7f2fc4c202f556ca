-- Sets a user's app_metadata.plan through the Management API, with a token from the client
-- credentials grant, then reads the user back.
--
--   AUTH0_DOMAIN=tenant.auth0.com AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... \
--     lua examples/management.lua 'auth0|123' pro
--
-- AUTH0_BASE_URL (e.g. http://127.0.0.1:8080/api/v2, the local server of spec/server) replaces
-- the API's URL (the token endpoint is then beside it), and AUTH0_CA_FILE the system's CAs.
-- The client needs update:users_app_metadata (or update:users) and read:users.
local management = require "auth0.apiv2.management"

local domain, base_url = os.getenv("AUTH0_DOMAIN"), os.getenv("AUTH0_BASE_URL")
local client_id, client_secret = os.getenv("AUTH0_CLIENT_ID"), os.getenv("AUTH0_CLIENT_SECRET")
local user_id, plan = arg[1], arg[2]
if not (domain and client_id and client_secret and user_id and plan) then
    io.stderr:write("usage: AUTH0_DOMAIN=... AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... "
        .. "lua examples/management.lua USER_ID PLAN\n")
    os.exit(2)
end

-- Make the client once and keep it: it keeps the token until 10 s before it expires.
local mgmt = management.new{
    domain = domain, base_url = base_url, ca_file = os.getenv("AUTH0_CA_FILE"),
    client_id = client_id, client_secret = client_secret,
    timeout = 5000, retries = 3,
}

-- The user id is URL-encoded into the path: auth0|123 becomes auth0%7C123.
local user, err = mgmt:request("PATCH", "/users/{id}", { id = user_id },
    { app_metadata = { plan = plan } })
if not user then
    -- e.g. "management.request: 403 insufficient_scope: ... (the endpoint needs one of: ...)"
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
end

user, err = mgmt:request("GET", "/users/{id}", { id = user_id }, nil,
    { fields = "user_id,email,app_metadata", include_fields = true })
if not user then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
end
print(("%s (%s): plan %s"):format(user.user_id, tostring(user.email),
    tostring(user.app_metadata and user.app_metadata.plan)))
