--- The one HTTP/1.1 client of auth0.apiv2, TLS always verified. Inside nginx it uses
-- OpenResty's cosockets (and never LuaSocket, which would block the worker); elsewhere
-- LuaSocket and LuaSec, required only when first needed. `transport` replaces both.
-- With `keepalive`, connections are kept open after a complete answer and used again for the
-- same scheme, host and port (and CA file): LuaSocket in a pool of this module, cosockets in
-- nginx's per-worker pools (`setkeepalive`), so a bulk loop over HTTPS pays one handshake.
local M = {}

local type, tonumber, tostring, pairs, ipairs, error, rawget, pcall, require =
    type, tonumber, tostring, pairs, ipairs, error, rawget, pcall, require
local find, format, lower, match, sub, gsub, byte = string.find, string.format,
    string.lower, string.match, string.sub, string.gsub, string.byte
local concat = table.concat
local huge = math.huge

M.DEFAULT_TIMEOUT = 5000          -- ms, for each of connect, send and read
M.MAX_BODY = 16 * 1024 * 1024     -- bytes: a bigger answer is refused, not buffered
local MAX_HEADER_LINES = 200
local MAX_INTERIM = 10           -- 1xx answers before the real one: a bound, not a wait
local READ_CHUNK = 16384
local USER_AGENT = "auth0-apiv2-lua"
M.KEEPALIVE_IDLE = 20             -- s an idle kept-alive connection is kept
M.POOL_SIZE = 16                  -- idle connections kept per scheme, host and port

-- Phases where lua-nginx-module allows cosockets (and so ngx.sleep).
local COSOCKET_PHASES = {
    rewrite = true, access = true, content = true, timer = true,
    ssl_cert = true, ssl_session_fetch = true,
}

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

local function fail(code, message)
    return nil, "http: " .. message, code
end

-- LuaSec reports a read or write that timed out as "wantread" or "wantwrite".
local TIMEOUT_WORDS = { timeout = true, wantread = true, wantwrite = true }

-- The error code of a socket error string (LuaSocket and cosockets use the same words).
local function socket_code(err)
    if TIMEOUT_WORDS[err] then return "timeout" end
    if find(tostring(err), "refused", 1, true) then return "connection_refused" end
    return "network"
end

---------------------------------------------------------------- URLs and host names

local function is_ipv4(host)
    return match(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil
end

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

---------------------------------------------------------------- the wire format

local TOKEN_CHARS = "^[%w!#$%%&'*+.^_`|~-]+$"

local function request_text(req, u)
    local method = req.method or "GET"
    if type(method) ~= "string" or not match(method, "^%u+$") then
        error("http.request: method must be an upper-case word", 3)
    end
    local body = req.body
    if body ~= nil and type(body) ~= "string" then
        error("http.request: body must be a string", 3)
    end
    local lines = { method .. " " .. u.target .. " HTTP/1.1", "Host: " .. u.host_header }
    local has_agent = false
    for name, value in pairs(req.headers or {}) do
        if type(name) ~= "string" or not match(name, TOKEN_CHARS) then
            error("http.request: invalid header name " .. tostring(name), 3)
        end
        value = tostring(value)
        if find(value, "[\r\n%z]") then
            error("http.request: header " .. name .. " contains a line break", 3)
        end
        local lname = lower(name)
        if lname == "host" or lname == "content-length" or lname == "connection"
            or lname == "transfer-encoding" then
            error("http.request: header " .. name .. " is set by http.request", 3)
        end
        if lname == "user-agent" then has_agent = true end
        lines[#lines + 1] = name .. ": " .. value
    end
    if not has_agent then lines[#lines + 1] = "User-Agent: " .. USER_AGENT end
    if body or method == "POST" or method == "PUT" or method == "PATCH" then
        lines[#lines + 1] = "Content-Length: " .. #(body or "")
    end
    if not req.keepalive then lines[#lines + 1] = "Connection: close" end
    return concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

local function read_headers(sock)
    local headers = {}
    for _ = 1, MAX_HEADER_LINES do
        local line, err = sock:receive("*l")
        if not line then return nil, err end
        if line == "" then return headers end
        local name, value = match(line, "^([^:%s]+):%s*(.-)%s*$")
        if not name then return nil, "malformed header line", "protocol" end
        name = lower(name)
        headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
    return nil, "too many header lines", "protocol"
end

local function read_chunked(sock)
    local parts, total = {}, 0
    while true do
        local line, err = sock:receive("*l")
        if not line then return nil, err end
        local size = tonumber(match(line, "^%s*(%x+)") or "", 16)
        if not size then return nil, "malformed chunk size", "protocol" end
        if size == 0 then
            for _ = 1, MAX_HEADER_LINES do           -- trailers, up to the empty line
                line, err = sock:receive("*l")
                if not line then return nil, err end
                if line == "" then return concat(parts) end
            end
            return nil, "too many trailer lines", "protocol"
        end
        total = total + size
        if total > M.MAX_BODY then return nil, "response body too large", "protocol" end
        local data, derr = sock:receive(size)
        if not data then return nil, derr end
        parts[#parts + 1] = data
        local crlf, cerr = sock:receive("*l")
        if not crlf then return nil, cerr end
        if crlf ~= "" then return nil, "malformed chunk", "protocol" end
    end
end

local function read_until_close(sock)
    local parts, total = {}, 0
    while true do
        local data, err, partial = sock:receive(READ_CHUNK)
        data = data or partial
        if data and data ~= "" then
            total = total + #data
            if total > M.MAX_BODY then return nil, "response body too large", "protocol" end
            parts[#parts + 1] = data
        end
        if err == "closed" then return concat(parts) end
        if err then return nil, err end
    end
end

local function read_body(sock, method, status, headers)
    if method == "HEAD" or status == 204 or status == 304 then return "" end
    if find(lower(headers["transfer-encoding"] or ""), "chunked", 1, true) then
        return read_chunked(sock)
    end
    local length = headers["content-length"]
    if length then
        length = match(length, "^%d+$") and tonumber(length)
        if not length then return nil, "malformed content-length", "protocol" end
        if length > M.MAX_BODY then return nil, "response body too large", "protocol" end
        if length == 0 then return "" end
        local data, err = sock:receive(length)
        if not data then return nil, err end
        return data
    end
    return read_until_close(sock)
end

-- Whether the connection may carry another request after this answer: its body was framed
-- (a length, chunks, or no body) and the server did not ask to close.
local function reusable(version, headers, method, status)
    local connection = lower(headers["connection"] or "")
    if find(connection, "close", 1, true) then return false end
    if version == "1.0" and not find(connection, "keep-alive", 1, true) then return false end
    return method == "HEAD" or status == 204 or status == 304 or headers["content-length"] ~= nil
        or find(lower(headers["transfer-encoding"] or ""), "chunked", 1, true) ~= nil
end

-- Reads one response from a connected socket (LuaSocket, LuaSec or cosocket: same methods);
-- the second value says whether the connection may be used again.
local function read_response(sock, method)
    for _ = 1, MAX_INTERIM do
        local line, err = sock:receive("*l")
        if not line then return nil, err end
        local version, code = match(line, "^HTTP/(1%.[01]) (%d%d%d)")
        local status = tonumber(code)
        if not status then return nil, "malformed status line", "protocol" end
        local headers, herr, hcode = read_headers(sock)
        if not headers then return nil, herr, hcode end
        if status >= 200 then               -- 1xx answers are interim: the real one follows
            local body, berr, bcode = read_body(sock, method, status, headers)
            if not body then return nil, berr, bcode end
            return { status = status, headers = headers, body = body },
                reusable(version, headers, method, status)
        end
    end
    return nil, "too many interim (1xx) answers", "protocol"
end

-- A failed send, receive or connect; every kind of timeout reads "timeout".
local function io_fail(action, where, err, code)
    code = code or socket_code(err)
    local reason = code == "timeout" and "timeout" or tostring(err)
    return fail(code, action .. " " .. where .. ": " .. reason)
end

-- Sends the request on a connected socket and reads the answer; closes the socket.
-- The whole response must arrive within one timeout of the request being sent, not only each
-- read: a server that drips a byte now and then cannot hold a request (or a nginx worker's
-- pending token fetch) open for longer. `clock` is { now = function, step = timeout } in the
-- socket's own unit (seconds for LuaSocket, milliseconds for cosockets).
local function bounded(sock, clock)
    local deadline = clock.now() + clock.step
    local reader = { got = false }
    reader.receive = function(_, pattern)
        local left = deadline - clock.now()
        if left <= 0 then return nil, "timeout" end
        sock:settimeout(left < clock.step and left or clock.step)
        local data, err, partial = sock:receive(pattern)
        if data or (partial and partial ~= "") then reader.got = true end
        return data, err, partial
    end
    return reader
end

-- Sends the request and reads the answer; then hands the socket to `keep` (when the answer
-- allows it) or closes it. A fourth value `true` after a failure says the server closed the
-- connection before answering anything: on a kept-alive connection, the server had closed it
-- while idle, and the request may be sent again on a new one.
local function exchange(sock, text, method, where, clock, keep)
    local ok, err = sock:send(text)
    if not ok then
        sock:close()
        local _, message, code = io_fail("send to", where, err)
        return nil, message, code, true
    end
    local reader = bounded(sock, clock)
    local response, rerr, code = read_response(reader, method)
    local again = response and rerr     -- on success the second value says "reusable"
    if again and keep then keep(sock) else sock:close() end
    if not response then
        local _, message, fcode = io_fail("read from", where, rerr, code)
        return nil, message, fcode, not reader.got and code == nil and rerr ~= "timeout"
    end
    return response
end

---------------------------------------------------------------- OpenResty cosockets

--- The `ngx` table when running inside nginx, else nil.
local function nginx()
    local ngx = rawget(_G, "ngx")
    if type(ngx) == "table" then return ngx end
    return nil
end

--- Whether code runs inside nginx, and whether the current phase may use cosockets.
-- @treturn boolean inside nginx
-- @treturn boolean cosockets (and ngx.sleep) usable now
function M.in_nginx()
    local ngx = nginx()
    if not ngx then return false, false end
    local phase = ngx.get_phase and ngx.get_phase()
    return true, COSOCKET_PHASES[phase] == true and ngx.socket ~= nil
end

-- Trust comes from nginx's `lua_ssl_trusted_certificate`; sslhandshake's third argument turns
-- on chain and host name verification.
local function cosocket_request(ngx, req, u, text, where, fresh)
    local sock, err = ngx.socket.tcp()
    if not sock then return fail("network", "cannot create a cosocket: " .. tostring(err)) end
    local ms = req.timeout
    if sock.settimeouts then sock:settimeouts(ms, ms, ms) else sock:settimeout(ms) end
    local pool = u.scheme .. "://" .. u.host .. ":" .. u.port .. (fresh and "#fresh" or "")
    local ok, cerr = sock:connect(u.host, u.port, { pool = pool })
    if not ok then
        return io_fail("connect to", where, cerr)
    end
    local reused = req.keepalive and sock.getreusedtimes and (sock:getreusedtimes() or 0) > 0
    if u.scheme == "https" and not reused then
        if u.ip then
            -- nginx checks a certificate against host NAMES only (and would send the address
            -- as SNI, which RFC 6066 forbids): verification could never pass, so say why.
            sock:close()
            return fail("tls", "TLS to " .. where .. ": inside nginx HTTPS needs a host name "
                .. "(with a resolver directive), not an IP address")
        end
        local session, herr = sock:sslhandshake(nil, u.host, true)
        if not session then
            sock:close()
            return fail(TIMEOUT_WORDS[herr] and "timeout" or "tls",
                "TLS handshake with " .. where .. " failed: " .. tostring(herr))
        end
    end
    local keep = req.keepalive and not fresh and function(s)
        s:setkeepalive(M.KEEPALIVE_IDLE * 1000, M.POOL_SIZE)
    end or nil
    local response, message, code, stale = exchange(sock, text, req.method or "GET", where, {
        step = ms,
        now = function()
            if ngx.update_time then ngx.update_time() end
            return ngx.now() * 1000
        end,
    }, keep)
    if not response and stale and reused then
        return cosocket_request(ngx, req, u, text, where, true)
    end
    return response, message, code
end

---------------------------------------------------------------- LuaSocket + LuaSec

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
        return fail("tls", "https needs LuaSec (module 'ssl'), which is not installed")
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
        return fail(TIMEOUT_WORDS[herr] and "timeout" or "tls",
            "TLS handshake with " .. where .. " failed: " .. tostring(herr))
    end
    -- LuaSec checks the chain but not the name: without this, any trusted certificate would do.
    local cert = conn:getpeercertificate()
    if not cert or not M.host_matches(certificate_names(cert), u.host) then
        conn:close()
        return fail("tls", "TLS handshake with " .. where .. " failed: the certificate is not "
            .. "valid for " .. u.host)
    end
    return conn
end

local idle = {}   -- kept-alive LuaSocket/LuaSec connections: pool key -> { { sock, since }, ... }

-- An idle connection of the pool that is still open, or nil.
local function take_idle(key, now)
    local list = idle[key]
    while list and #list > 0 do
        local entry = list[#list]
        list[#list] = nil
        local sock = entry[1]
        if now - entry[2] < M.KEEPALIVE_IDLE then
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
        if #list >= M.POOL_SIZE then sock:close() return end
        list[#list + 1] = { sock, now() }
    end
end

--- Closes every idle kept-alive connection of this module (LuaSocket; nginx keeps its own).
function M.close_idle()
    for key, list in pairs(idle) do
        for _, entry in ipairs(list) do entry[1]:close() end
        idle[key] = nil
    end
end

local function luasocket_request(req, u, text, where)
    local has_socket, socket = pcall(require, "socket")
    if not has_socket then
        return fail("network", "LuaSocket (module 'socket') is not installed")
    end
    local clock = { step = req.timeout / 1000, now = socket.gettime }
    local key, keep
    if req.keepalive then
        key = u.scheme .. "://" .. u.host .. ":" .. u.port .. "\0" .. (req.ca_file or "")
        keep = keeper(key, socket.gettime)
        local reused = take_idle(key, socket.gettime())
        if reused then
            local response, message, code, stale = exchange(reused, text, req.method or "GET",
                where, clock, keep)
            if response or not stale then return response, message, code end
        end
    end
    local sock, err = (u.ipv6 and socket.tcp6 or socket.tcp)()
    if not sock then return fail("network", "cannot create a socket: " .. tostring(err)) end
    sock:settimeout(req.timeout / 1000)
    local ok, cerr = sock:connect(u.host, u.port)
    if not ok then
        sock:close()
        return io_fail("connect to", where, cerr)
    end
    if u.scheme == "https" then
        local code
        sock, err, code = luasec_handshake(sock, u, req, where)
        if not sock then return nil, err, code end
    end
    local response, message, code = exchange(sock, text, req.method or "GET", where, clock, keep)
    return response, message, code
end

---------------------------------------------------------------- the entry point

-- A transport's answer, checked and with lower-case header names.
local function normalise(response)
    if type(response) ~= "table" or type(response.status) ~= "number" then
        return fail("protocol", "the transport returned no response")
    end
    local headers = {}
    for name, value in pairs(response.headers or {}) do headers[lower(name)] = value end
    return { status = response.status, headers = headers, body = response.body or "" }
end

--- Sends one request and reads the whole answer. No retries here (see auth0.apiv2.retry).
-- @tparam table req `method` ("GET"), `url` (http or https), `headers` (name -> value),
--   `body` (string), `timeout` (ms for each of connect, send and read; default 5000),
--   `ca_file` (PEM file of trusted CAs for LuaSec; inside nginx `lua_ssl_trusted_certificate`
--   applies instead), `keepalive` (keep the connection for the next request to the same
--   place), `transport` (function(req) -> response | nil, err: replaces the network)
-- @treturn table `{ status = 204, headers = { ["content-type"] = ... }, body = "" }`
-- @treturn[2] nil
-- @treturn[2] string what failed, e.g. "http: connect to 127.0.0.1:9: connection refused"
-- @treturn[2] string a code: timeout, connection_refused, tls, network, protocol, unavailable
-- @raise when the request itself is malformed (url, method, headers, timeout)
function M.request(req)
    if type(req) ~= "table" then error("http.request: request must be a table", 2) end
    local timeout = req.timeout
    if timeout == nil then timeout = M.DEFAULT_TIMEOUT end
    if type(timeout) ~= "number" or timeout <= 0 or timeout == huge or timeout ~= timeout then
        error("http.request: timeout must be a positive number of milliseconds", 2)
    end
    if req.ca_file ~= nil and type(req.ca_file) ~= "string" then
        error("http.request: ca_file must be a string", 2)
    end
    local u, uerr = M.parse_url(req.url)
    if not u then error("http.request: " .. uerr, 2) end
    local text = request_text(req, u)
    if req.transport ~= nil then
        if type(req.transport) ~= "function" then
            error("http.request: transport must be a function", 2)
        end
        local copy = {}
        for k, v in pairs(req) do copy[k] = v end
        copy.method, copy.timeout, copy.transport = req.method or "GET", timeout, nil
        local response, err, code = req.transport(copy)
        if not response then return nil, tostring(err or "transport failed"), code end
        return normalise(response)
    end
    local plain = { method = req.method, timeout = timeout, ca_file = req.ca_file,
        keepalive = req.keepalive }
    local where = format("%s:%d", u.ipv6 and ("[" .. u.host .. "]") or u.host, u.port)
    local ngx = nginx()
    if ngx then
        local _, usable = M.in_nginx()
        if not usable then
            local phase = ngx.get_phase and ngx.get_phase() or "unknown"
            return fail("unavailable", "cosockets are not available in nginx's " .. phase
                .. " phase (use a timer, or the rewrite, access or content phase)")
        end
        return cosocket_request(ngx, plain, u, text, where)
    end
    return luasocket_request(plain, u, text, where)
end

return M
