--- HTTP/1.1 on the wire, for both transports (LuaSocket/LuaSec and cosockets have the same
-- socket methods): the request's bytes, the answer read with bounds on every part (header
-- lines, 1xx answers, the body), the whole answer within one timeout, and the failures as
-- `nil, "http: ...", code`.
local M = {}

local type, tonumber, tostring, pairs, error, setmetatable =
    type, tonumber, tostring, pairs, error, setmetatable
local byte, find, lower, match, sub = string.byte, string.find, string.lower, string.match,
    string.sub
local concat = table.concat

local MAX_BODY = 16 * 1024 * 1024     -- bytes: a bigger answer is refused, not buffered
M.MAX_BODY = MAX_BODY
local MAX_HEADER_LINES = 200
-- Bytes of one status, header, chunk-size or trailer line, and of a whole header block: far
-- above what Auth0 sends (nginx's own default is 8 KiB per line), far below what would hurt.
local MAX_LINE = 32 * 1024
local MAX_HEADER_BYTES = 64 * 1024
M.MAX_LINE, M.MAX_HEADER_BYTES = MAX_LINE, MAX_HEADER_BYTES
local MAX_INTERIM = 10           -- 1xx answers before the real one: a bound, not a wait
M.READ_CHUNK = 16384             -- bytes asked of the socket at a time
local CR, SPACE, TAB = 13, 32, 9
local USER_AGENT = "auth0-apiv2-lua"

--- A failure as the HTTP client returns it.
-- @treturn nil
-- @treturn string "http: " .. message
-- @treturn string code: timeout, connection_refused, tls, network, protocol, unavailable
M.KEEPALIVE_IDLE = 20             -- s an idle kept-alive connection is kept
M.POOL_SIZE = 16                  -- idle connections kept per scheme, host and port

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
    if not req.keepalive then lines[#lines + 1] = "Connection: close" end
    return concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

---------------------------------------------------------------- reading, within bounds

-- An answer is read through a buffer filled by the transport's `fill(left)`, which returns
-- whatever bytes arrive (at least one) within `left` (the socket's unit), or nil and "closed"
-- or "timeout". Lines are found with one plain search from where the last search stopped,
-- so each byte is looked at a bounded number of times: linear, whatever the server sends.
local Reader = {}
Reader.__index = Reader

local function new_reader(fill, clock)
    return setmetatable({ fill = fill, clock = clock, buf = "", pos = 1,
        deadline = clock.now() + clock.step }, Reader)
end

-- More bytes into the buffer (dropping what was consumed), or nil and an error.
function Reader:more()
    local left = self.deadline - self.clock.now()
    if left <= 0 then return nil, "timeout" end
    local data, err = self.fill(left < self.clock.step and left or self.clock.step)
    if not data then return nil, err end
    self.buf = sub(self.buf, self.pos) .. data
    self.pos = 1
    return true
end

--- The next line without its CR LF (or LF), at most `limit` bytes, or nil, err, code.
function Reader:line(limit, what)
    local from = self.pos
    while true do
        local nl = find(self.buf, "\n", from, true)
        if nl then
            local line_end = nl - 1
            if line_end >= self.pos and byte(self.buf, line_end) == CR then
                line_end = line_end - 1
            end
            if line_end - self.pos + 1 > limit then break end
            local line = sub(self.buf, self.pos, line_end)
            self.pos = nl + 1
            return line
        end
        if #self.buf - self.pos + 1 > limit then break end
        local searched = #self.buf - self.pos + 1   -- no line break in these: skip them next
        local ok, err = self:more()
        if not ok then return nil, err end
        from = self.pos + searched
    end
    return nil, what .. " longer than " .. limit .. " bytes", "protocol"
end

--- Exactly n bytes, or nil and an error.
function Reader:bytes(n)
    local parts, have = {}, 0
    while true do
        local available = #self.buf - self.pos + 1
        if available >= n - have then
            local stop = self.pos + (n - have) - 1
            parts[#parts + 1] = sub(self.buf, self.pos, stop)
            self.pos = stop + 1
            return concat(parts)
        end
        parts[#parts + 1] = sub(self.buf, self.pos)
        have = have + available
        self.buf, self.pos = "", 1
        local ok, err = self:more()
        if not ok then return nil, err end
    end
end

--- Everything up to the close, at most `limit` bytes, or nil, err, code.
function Reader:rest(limit)
    local parts, total = {}, 0
    while true do
        local data = sub(self.buf, self.pos)
        self.buf, self.pos = "", 1
        total = total + #data
        if total > limit then return nil, "response body too large", "protocol" end
        parts[#parts + 1] = data
        local ok, err = self:more()
        if not ok then
            if err == "closed" then return concat(parts) end
            return nil, err
        end
    end
end

-- Header name and value of a line, in linear time: a pattern such as "^(.-):%s*(.-)%s*$"
-- retries at every space, which is quadratic in a run of them.
local function split_header(line)
    local colon = find(line, ":", 1, true)
    if not colon or colon == 1 then return nil end
    local name = sub(line, 1, colon - 1)
    if find(name, "[%s%c]") then return nil end
    local first = find(line, "[^ \t]", colon + 1) or #line + 1
    local last = #line
    while last >= first do
        local c = byte(line, last)
        if c ~= SPACE and c ~= TAB then break end
        last = last - 1
    end
    return lower(name), sub(line, first, last)
end

-- A header block (or the trailers) up to the empty line: at most MAX_HEADER_LINES lines of
-- MAX_LINE bytes, MAX_HEADER_BYTES in all.
local function read_headers(reader, what)
    local headers, total = {}, 0
    for _ = 1, MAX_HEADER_LINES do
        local line, err, code = reader:line(MAX_LINE, what .. " line")
        if not line then return nil, err, code end
        if line == "" then return headers end
        total = total + #line
        if total > MAX_HEADER_BYTES then
            return nil, what .. "s longer than " .. MAX_HEADER_BYTES .. " bytes", "protocol"
        end
        local name, value = split_header(line)
        if not name then return nil, "malformed " .. what .. " line", "protocol" end
        headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
    return nil, "too many " .. what .. " lines", "protocol"
end

local function read_chunked(reader)
    local parts, total = {}, 0
    while true do
        local line, err, code = reader:line(MAX_LINE, "chunk size line")
        if not line then return nil, err, code end
        local digits = match(line, "^(%x+)")
        if not digits or #digits > 8 then return nil, "malformed chunk size", "protocol" end
        local size = tonumber(digits, 16)
        if size == 0 then
            local _, terr, tcode = read_headers(reader, "trailer")
            if terr then return nil, terr, tcode end
            return concat(parts)
        end
        total = total + size
        if total > MAX_BODY then return nil, "response body too large", "protocol" end
        local data, derr = reader:bytes(size)
        if not data then return nil, derr end
        parts[#parts + 1] = data
        local crlf, cerr, ccode = reader:line(1, "chunk")
        if not crlf then
            if ccode then return nil, "malformed chunk", "protocol" end
            return nil, cerr
        end
        if crlf ~= "" then return nil, "malformed chunk", "protocol" end
    end
end

local function read_body(reader, method, status, headers)
    if method == "HEAD" or status == 204 or status == 304 then return "" end
    if find(lower(headers["transfer-encoding"] or ""), "chunked", 1, true) then
        return read_chunked(reader)
    end
    local length = headers["content-length"]
    if length then
        length = match(length, "^%d+$") and #length <= 10 and tonumber(length)
        if not length then return nil, "malformed content-length", "protocol" end
        if length > MAX_BODY then return nil, "response body too large", "protocol" end
        if length == 0 then return "" end
        return reader:bytes(length)
    end
    return reader:rest(MAX_BODY)
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

-- Reads one response (1xx interim answers skipped); the second value says whether the
-- connection may be used again.
local function read_response(reader, method)
    for _ = 1, MAX_INTERIM do
        local line, err, code = reader:line(MAX_LINE, "status line")
        if not line then return nil, err, code end
        local version, digits = match(line, "^HTTP/(1%.[01]) (%d%d%d)")
        local status = tonumber(digits)
        if not status then return nil, "malformed status line", "protocol" end
        local headers, herr, hcode = read_headers(reader, "header")
        if not headers then return nil, herr, hcode end
        if status >= 200 then               -- 1xx answers are interim: the real one follows
            local body, berr, bcode = read_body(reader, method, status, headers)
            if not body then return nil, berr, bcode end
            return { status = status, headers = headers, body = body },
                reusable(version, headers, method, status)
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

--- Sends the request on a connected socket and reads the whole answer within ONE timeout of
-- the request being sent, not one per read: a server that drips a byte now and then cannot
-- hold a request (or a nginx worker's pending token fetch, or a blacklist refresh) open for
-- longer. Closes the socket.
-- @param sock a connected socket with `send` and `close`
-- @tparam string text the request's bytes
-- @tparam string method
-- @tparam string where "host:port", for messages
-- @tparam table clock `{ now = function, step = timeout }` in the socket's own unit
--   (seconds for LuaSocket, milliseconds for cosockets)
-- @tparam function fill `fill(left)`: the bytes that arrive within `left` (at least one), or
--   nil and "closed" or "timeout" (each transport has its own)
-- @tparam[opt] function keep takes the socket instead of closing it, when the answer allows
--   another request on the connection (keep-alive) and nothing beyond it was read
-- @return the response, or nil, message, code and, as a fourth value, `true` when the server
--   closed the connection before answering anything: on a kept-alive connection it had
--   closed it while idle, and the request may be sent again on a new one
function M.exchange(sock, text, method, where, clock, fill, keep)
    local ok, err = sock:send(text)
    if not ok then
        sock:close()
        local _, message, code = M.io_fail("send to", where, err)
        return nil, message, code, true
    end
    local got = false
    local reader = new_reader(function(left)
        local data, ferr = fill(left)
        if data and data ~= "" then got = true end
        return data, ferr
    end, clock)
    local response, rerr, code = read_response(reader, method)
    local again = response and rerr and reader.pos > #reader.buf   -- rerr: "reusable" here
    if again and keep then keep(sock) else sock:close() end
    if not response then
        local _, message, fcode = M.io_fail("read from", where, rerr, code)
        return nil, message, fcode, not got and code == nil and rerr == "closed"
    end
    return response
end

return M
