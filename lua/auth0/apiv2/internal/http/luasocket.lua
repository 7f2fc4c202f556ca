--- The HTTP client's transport outside nginx: LuaSocket, and LuaSec for https, both required
-- only when first needed. The chain is verified against the system's CAs (or `ca_file`) and
-- the name by certname (LuaSec does not check it).
local wire = require "auth0.apiv2.internal.http.wire"
local certname = require "auth0.apiv2.internal.http.certname"

local M = {}

local type, tostring, ipairs, pairs, pcall, require = type, tostring, ipairs, pairs, pcall,
    require
local find, gsub, sub = string.find, string.gsub, string.sub
local fail, host_matches = wire.fail, certname.host_matches
local MAX_REASON = 200   -- bytes of a loader's message kept in ours

-- Where Linux distributions and macOS keep the system's trusted CAs, for LuaSec.
local SYSTEM_CA_FILES = {
    "/etc/ssl/certs/ca-certificates.crt",    -- Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",      -- Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",                -- openSUSE
    "/etc/ssl/cert.pem",                     -- macOS, OpenBSD
}
local SYSTEM_CA_DIR = "/etc/ssl/certs"
-- TLS 1.2 or later, no compression; LuaSec knows only the options its OpenSSL has.
local TLS_OPTIONS = { "no_sslv2", "no_sslv3", "no_tlsv1", "no_tlsv1_1", "no_compression" }

local contexts = {}   -- LuaSec contexts by CA file: loading a CA bundle costs milliseconds

local function file_exists(path)
    local f = io.open(path, "rb")
    if f then f:close() end
    return f ~= nil
end

local function tls_context(ssl, ca_file)
    local cache_key = ca_file or "\0system"
    if contexts[cache_key] then return contexts[cache_key] end
    local params = { mode = "client", protocol = "any", verify = "peer", options = {} }
    for _, option in ipairs(TLS_OPTIONS) do
        if ssl.config and ssl.config.options and ssl.config.options[option] then
            params.options[#params.options + 1] = option
        end
    end
    if ca_file then
        params.cafile = ca_file
    else
        for _, path in ipairs(SYSTEM_CA_FILES) do
            if file_exists(path) then params.cafile = path break end
        end
        if not params.cafile then params.capath = SYSTEM_CA_DIR end
    end
    local ctx, err = ssl.newcontext(params)
    if not ctx then return nil, err end
    contexts[cache_key] = ctx
    return ctx
end

-- The dNSName and iPAddress entries of the certificate's subjectAltName (LuaSec's x509).
local function certificate_names(cert)
    local ok, extensions = pcall(cert.extensions, cert)
    local san = ok and type(extensions) == "table" and extensions["2.5.29.17"] or {}
    return { dns = san.dNSName or {}, ip = san.iPAddress or {} }
end

local function luasec_handshake(sock, u, req, where)
    local has_ssl, ssl = pcall(require, "ssl")
    if not has_ssl then
        sock:close()
        return fail("tls", "https needs " .. M.load_failure("LuaSec", "ssl", ssl))
    end
    local ctx, cerr = tls_context(ssl, req.ca_file)
    if not ctx then
        sock:close()
        return fail("tls", "cannot set up TLS: " .. tostring(cerr))
    end
    local conn, werr = ssl.wrap(sock, ctx)
    if not conn then
        sock:close()
        return fail("tls", "cannot set up TLS: " .. tostring(werr))
    end
    if not u.ip and conn.sni then conn:sni(u.host) end
    conn:settimeout(req.timeout / 1000)
    local ok, herr = conn:dohandshake()
    if not ok then
        conn:close()
        return fail(wire.is_timeout(herr) and "timeout" or "tls",
            "TLS handshake with " .. where .. " failed: " .. tostring(herr))
    end
    -- LuaSec checks the chain but not the name: without this, any trusted certificate would do.
    local cert = conn:getpeercertificate()
    if not cert or not host_matches(certificate_names(cert), u.host) then
        conn:close()
        return fail("tls", "TLS handshake with " .. where .. " failed: the certificate is not "
            .. "valid for " .. u.host)
    end
    return conn
end

--- Why a module could not be loaded, for a message: "is not installed" only when Lua found
-- no file for it; otherwise Lua's own reason (e.g. "undefined symbol: lua_gettop" from a host
-- linked without -Wl,-E), on one line and bounded.
-- @tparam string library "LuaSocket"
-- @tparam string module "socket"
-- @param err what pcall(require, module) returned
function M.load_failure(library, module, err)
    local text = tostring(err)
    if find(text, "module '" .. module .. "' not found", 1, true) then
        return library .. " (module '" .. module .. "') is not installed"
    end
    text = gsub(gsub(text, "%s*\n%s*", "; "), "%c", " ")
    if #text > MAX_REASON then text = sub(text, 1, MAX_REASON) .. "..." end
    return library .. " (module '" .. module .. "') cannot be loaded: " .. text
end

-- The reads of an answer over LuaSocket or LuaSec: whatever is already there (a zero
-- timeout), else a wait in socket.select for the time left (select asks LuaSec's `dirty`
-- for bytes it holds decrypted). A receive with a timeout would wait for its whole count, and
-- in LuaSocket's default mode restart that wait after each partial read.
function M.filler(socket, sock)
    local chunk, select = wire.READ_CHUNK, socket.select
    return function(left)
        sock:settimeout(0)
        local data, err, partial = sock:receive(chunk)
        data = data or partial
        if data and data ~= "" then return data end
        if err == "closed" then return nil, "closed" end
        if not wire.is_timeout(err) then return nil, err end
        local readable, _, serr = select({ sock }, nil, left)
        if not readable or not readable[1] then
            return nil, serr == "timeout" and "timeout" or (serr or "timeout")
        end
        return ""   -- readable now: the next fill reads it
    end
end

local idle = {}   -- kept-alive connections: pool key -> { { sock, since }, ... }

-- An idle connection of the pool that is still open, or nil.
local function take_idle(key, now)
    local list = idle[key]
    while list and #list > 0 do
        local entry = list[#list]
        list[#list] = nil
        local sock = entry[1]
        if now - entry[2] < wire.KEEPALIVE_IDLE then
            -- A closed connection reads "closed" at once; an open, idle one times out.
            sock:settimeout(0)
            local data, err, partial = sock:receive(1)
            if not data and (err == "timeout" or err == "wantread") and (partial or "") == "" then
                return sock
            end
        end
        sock:close()
    end
    return nil
end

local function keeper(key, now)
    return function(sock)
        local list = idle[key] or {}
        idle[key] = list
        if #list >= wire.POOL_SIZE then
            sock:close()
            return
        end
        list[#list + 1] = { sock, now() }
    end
end

--- Closes every idle kept-alive connection of this module (nginx keeps its own pools).
function M.close_idle()
    for key, list in pairs(idle) do
        for _, entry in ipairs(list) do entry[1]:close() end
        idle[key] = nil
    end
end

--- One request over LuaSocket, with LuaSec for https. With `req.keepalive` the connection
-- comes from and goes back to this module's pool for the scheme, host, port and CA file.
-- @tparam table req `method`, `timeout` (ms), `ca_file`
-- @tparam table u from url.parse_url
-- @tparam string text from wire.request_text
-- @tparam string where "host:port", for messages
function M.request(req, u, text, where)
    local has_socket, socket = pcall(require, "socket")
    if not has_socket then return fail("network", M.load_failure("LuaSocket", "socket", socket)) end
    local clock = { step = req.timeout / 1000, now = socket.gettime }
    local keep
    if req.keepalive then
        local key = u.scheme .. "://" .. u.host .. ":" .. u.port .. "\0" .. (req.ca_file or "")
        keep = keeper(key, socket.gettime)
        local reused = take_idle(key, socket.gettime())
        if reused then
            local response, message, code, stale = wire.exchange(reused, text,
                req.method or "GET", where, clock, M.filler(socket, reused), keep)
            if response or not stale then return response, message, code end
        end
    end
    local sock, err = (u.ipv6 and socket.tcp6 or socket.tcp)()
    if not sock then return fail("network", "cannot create a socket: " .. tostring(err)) end
    sock:settimeout(req.timeout / 1000)
    local ok, cerr = sock:connect(u.host, u.port)
    if not ok then
        sock:close()
        return wire.io_fail("connect to", where, cerr)
    end
    if u.scheme == "https" then
        local code
        sock, err, code = luasec_handshake(sock, u, req, where)
        if not sock then return nil, err, code end
    end
    local response, message, code = wire.exchange(sock, text, req.method or "GET", where, clock,
        M.filler(socket, sock), keep)
    return response, message, code
end

return M
