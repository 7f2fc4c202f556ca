-- Starts and stops spec/server/hostile_http.py (a hostile or broken HTTP server on 127.0.0.1;
-- the request path picks the answer, see the script's docstring).
local cjson = require "cjson"
local socket = require "socket"

local M = {}

local function hex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
M.hex = hex

--- Starts a server; returns { url = "http://127.0.0.1:PORT", pid = "N", ready = FILE }.
function M.start()
    local ready = os.tmpname()
    os.remove(ready)
    os.execute("/usr/bin/python3 spec/server/hostile_http.py --ready-file " .. ready
        .. " >/dev/null 2>&1 &")
    local deadline = socket.gettime() + 10
    while socket.gettime() < deadline do
        local f = io.open(ready, "rb")
        if f then
            local info = cjson.decode(f:read("*a"))
            f:close()
            return { url = ("http://127.0.0.1:%d"):format(info.port),
                     pid = ("%d"):format(info.pid), ready = ready }
        end
        socket.sleep(0.02)
    end
    error("hostile_http.py did not start")
end

--- Stops it (SIGTERM to its pid) and waits for its ready file to go.
function M.stop(server)
    if not server then return end
    os.execute("kill " .. server.pid .. " 2>/dev/null")
    local deadline = socket.gettime() + 3
    while socket.gettime() < deadline do
        local f = io.open(server.ready, "rb")
        if not f then return end
        f:close()
        socket.sleep(0.02)
    end
end

--- The URL of a /raw answer: these exact bytes, then the connection closes.
function M.raw_url(server, bytes)
    return server.url .. "/raw/" .. hex(bytes)
end

--- A whole HTTP/1.1 response with a JSON body.
function M.json_response(status, body)
    return ("HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        .. "Connection: close\r\n\r\n%s"):format(status, #body, body)
end

return M
