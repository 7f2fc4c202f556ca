--- HTTP/1.1 on the wire, for both transports (LuaSocket/LuaSec and cosockets have the same
-- socket methods): the request's bytes, the answer read with bounds on every part (header
-- lines, 1xx answers, the body), the whole answer within one timeout, and the failures as
-- `nil, "http: ...", code`.
local M = {}

local type, tonumber, tostring, pairs, error = type, tonumber, tostring, pairs, error
local find, lower, match = string.find, string.lower, string.match
local concat = table.concat

local MAX_BODY = 16 * 1024 * 1024     -- bytes: a bigger answer is refused, not buffered
M.MAX_BODY = MAX_BODY
local MAX_HEADER_LINES = 200
local MAX_INTERIM = 10           -- 1xx answers before the real one: a bound, not a wait
local READ_CHUNK = 16384
local USER_AGENT = "auth0-apiv2-lua"

--- A failure as the HTTP client returns it.
-- @treturn nil
-- @treturn string "http: " .. message
-- @treturn string code: timeout, connection_refused, tls, network, protocol, unavailable
function M.fail(code, message)
    return nil, "http: " .. message, code
end
local fail = M.fail

-- LuaSec reports a read or write that timed out as "wantread" or "wantwrite".
local TIMEOUT_WORDS = { timeout = true, wantread = true, wantwrite = true }

--- Whether a socket error means a timeout.
function M.is_timeout(err)
    return TIMEOUT_WORDS[err] == true
end

-- The error code of a socket error string (LuaSocket and cosockets use the same words).
local function socket_code(err)
    if TIMEOUT_WORDS[err] then return "timeout" end
    if find(tostring(err), "refused", 1, true) then return "connection_refused" end
    return "network"
end

local TOKEN_CHARS = "^[%w!#$%%&'*+.^_`|~-]+$"

--- The request's bytes: request line, headers (Host, User-Agent, Content-Length and
-- Connection set here) and body.
-- @raise (at the level of http.request's caller) on a malformed method, body or header
function M.request_text(req, u)
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
    lines[#lines + 1] = "Connection: close"
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
        if total > MAX_BODY then return nil, "response body too large", "protocol" end
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
            if total > MAX_BODY then return nil, "response body too large", "protocol" end
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
        if length > MAX_BODY then return nil, "response body too large", "protocol" end
        if length == 0 then return "" end
        local data, err = sock:receive(length)
        if not data then return nil, err end
        return data
    end
    return read_until_close(sock)
end

-- Reads one response from a connected socket (LuaSocket, LuaSec or cosocket: same methods).
local function read_response(sock, method)
    for _ = 1, MAX_INTERIM do
        local line, err = sock:receive("*l")
        if not line then return nil, err end
        local status = tonumber(match(line, "^HTTP/1%.[01] (%d%d%d)"))
        if not status then return nil, "malformed status line", "protocol" end
        local headers, herr, hcode = read_headers(sock)
        if not headers then return nil, herr, hcode end
        if status >= 200 then               -- 1xx answers are interim: the real one follows
            local body, berr, bcode = read_body(sock, method, status, headers)
            if not body then return nil, berr, bcode end
            return { status = status, headers = headers, body = body }
        end
    end
    return nil, "too many interim (1xx) answers", "protocol"
end

--- A failed send, receive or connect; every kind of timeout reads "timeout".
function M.io_fail(action, where, err, code)
    code = code or socket_code(err)
    local reason = code == "timeout" and "timeout" or tostring(err)
    return fail(code, action .. " " .. where .. ": " .. reason)
end

-- The whole response must arrive within one timeout of the request being sent, not only each
-- read: a server that drips a byte now and then cannot hold a request (or a nginx worker's
-- pending token fetch) open for longer. `clock` is { now = function, step = timeout } in the
-- socket's own unit (seconds for LuaSocket, milliseconds for cosockets).
local function bounded(sock, clock)
    local deadline = clock.now() + clock.step
    return {
        receive = function(_, pattern)
            local left = deadline - clock.now()
            if left <= 0 then return nil, "timeout" end
            sock:settimeout(left < clock.step and left or clock.step)
            return sock:receive(pattern)
        end,
    }
end

--- Sends the request on a connected socket and reads the whole answer within the timeout
-- (see bounded); closes the socket.
function M.exchange(sock, text, method, where, clock)
    local ok, err = sock:send(text)
    if not ok then
        sock:close()
        return M.io_fail("send to", where, err)
    end
    local response, rerr, code = read_response(bounded(sock, clock), method)
    sock:close()
    if not response then return M.io_fail("read from", where, rerr, code) end
    return response
end

return M
