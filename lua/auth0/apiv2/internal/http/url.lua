--- URLs for the HTTP client: splitting an http(s) URL, and percent-encoding (RFC 3986).
local M = {}

local type, tonumber = type, tonumber
local find, format, lower, match, sub, gsub, byte = string.find, string.format,
    string.lower, string.match, string.sub, string.gsub, string.byte

--- Whether host is a dotted IPv4 address.
function M.is_ipv4(host)
    return match(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil
end
local is_ipv4 = M.is_ipv4

local function escape_byte(c)
    return format("%%%02X", byte(c))
end

--- Percent-encodes every byte but RFC 3986's unreserved characters (letters, digits, `-._~`),
-- for a path segment, a query name or value, or a form field.
-- @tparam string s
-- @treturn string e.g. `auth0%7C123` for `auth0|123`
function M.escape(s)
    return (gsub(s, "[^%w%-._~]", escape_byte))
end

--- Splits an http(s) URL into its parts.
-- @tparam string url
-- @treturn table `scheme`, `host` (lower case, IPv6 without brackets), `port`, `target`
--   (path and query), `host_header`, `ip` (a literal address), `ipv6`
-- @treturn[2] nil
-- @treturn[2] string what is wrong with it
function M.parse_url(url)
    if type(url) ~= "string" then return nil, "url must be a string" end
    local scheme, authority, rest = match(url, "^(%a[%w+.-]*)://([^/?#]*)(.*)$")
    scheme = scheme and lower(scheme)
    if scheme ~= "http" and scheme ~= "https" then
        return nil, "url must start with http:// or https://"
    end
    if find(authority, "@", 1, true) then return nil, "url must not carry user information" end
    local host, port = match(authority, "^%[([%x:.]+)%]:?(%d*)$")
    local ipv6 = host ~= nil
    if not host then host, port = match(authority, "^([%w.-]+):?(%d*)$") end
    if not host or host == "" or (not ipv6 and not match(host, "^[%w]")) then
        return nil, "url has no valid host"
    end
    port = port ~= "" and tonumber(port) or (scheme == "https" and 443 or 80)
    if port < 1 or port > 65535 then return nil, "url has an invalid port" end
    local target = gsub(rest, "#.*$", "")
    if target == "" then target = "/" end
    if sub(target, 1, 1) == "?" then target = "/" .. target end
    if find(target, "[%c ]") then return nil, "url contains spaces or control characters" end
    local default_port = (scheme == "https" and 443 or 80)
    local host_header = ipv6 and ("[" .. host .. "]") or host
    if port ~= default_port then host_header = host_header .. ":" .. port end
    return {
        scheme = scheme, host = lower(host), port = port, target = target,
        host_header = host_header, ip = ipv6 or is_ipv4(host), ipv6 = ipv6,
    }
end

return M
