--- Whether a server certificate's names cover the host asked for, for the LuaSocket
-- transport: LuaSec checks the chain of trust but not the name.
local url = require "auth0.apiv2.internal.http.url"

local M = {}

local ipairs = ipairs
local find, lower, match, gsub = string.find, string.lower, string.match, string.gsub
local is_ipv4 = url.is_ipv4


--- Whether a certificate's names cover `host` (RFC 6125): IP addresses only against iPAddress
-- entries, names only against dNSName entries, `*` only as the whole leftmost label, never the
-- common name.
-- @tparam table names `{ dns = { ... }, ip = { ... } }`
-- @tparam string host
function M.host_matches(names, host)
    host = gsub(lower(host), "%.$", "")
    if is_ipv4(host) or find(host, ":", 1, true) then
        for _, ip in ipairs(names.ip or {}) do
            if lower(ip) == host then return true end
        end
        return false
    end
    local parent = match(host, "^[^.]+%.(.+)$")
    for _, name in ipairs(names.dns or {}) do
        name = gsub(lower(name), "%.$", "")
        if name == host then return true end
        local base = match(name, "^%*%.(.+)$")
        -- "*.com" would cover a whole top-level domain: require two labels after the star.
        if base and parent == base and find(base, ".", 1, true) then return true end
    end
    return false
end

return M
