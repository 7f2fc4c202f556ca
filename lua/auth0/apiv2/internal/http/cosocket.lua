--- The HTTP client's transport inside nginx: OpenResty's cosockets, which never block the
-- worker. TLS trust comes from nginx's `lua_ssl_trusted_certificate`.
local wire = require "auth0.apiv2.internal.http.wire"

local M = {}

local type, tostring, rawget = type, tostring, rawget
local fail = wire.fail

-- Phases where lua-nginx-module allows cosockets (and so ngx.sleep).
local COSOCKET_PHASES = {
    rewrite = true, access = true, content = true, timer = true,
    ssl_cert = true, ssl_session_fetch = true,
}

--- The `ngx` table when running inside nginx, else nil.
function M.nginx()
    local ngx = rawget(_G, "ngx")
    if type(ngx) == "table" then return ngx end
    return nil
end

--- Whether code runs inside nginx, and whether the current phase may use cosockets.
-- @treturn boolean inside nginx
-- @treturn boolean cosockets (and ngx.sleep) usable now
function M.in_nginx()
    local ngx = M.nginx()
    if not ngx then return false, false end
    local phase = ngx.get_phase and ngx.get_phase()
    return true, COSOCKET_PHASES[phase] == true and ngx.socket ~= nil
end

--- The reads of an answer over a cosocket: `receiveany`, which returns as soon as any bytes
-- arrive. `receive("*l")` or `receive(n)` would restart their timer after every partial read,
-- so a server dripping a byte every 0.7 s would hold a 1 s timeout open for as long as it
-- drips; one `receiveany` per step lets wire.exchange hold the whole answer to one timeout.
-- @param sock a connected cosocket
-- @treturn function fill(left_ms) -> bytes | nil, "closed" | "timeout" | error
function M.filler(sock)
    local chunk = wire.READ_CHUNK
    return function(left)
        sock:settimeout(left)
        return sock:receiveany(chunk)
    end
end

--- One request over a cosocket. Trust comes from nginx's `lua_ssl_trusted_certificate`;
-- sslhandshake's third argument turns on chain and host name verification.
-- @tparam table ngx
-- @tparam table req `method`, `timeout` (ms)
-- @tparam table u from url.parse_url
-- @tparam string text from wire.request_text
-- @tparam string where "host:port", for messages
-- With `req.keepalive` the connection comes from and goes back to nginx's pool for the scheme,
-- host and port (`setkeepalive`); a reused TLS connection skips the handshake. `fresh` is the
-- second try after a kept connection turned out closed.
function M.request(ngx, req, u, text, where, fresh)
    local sock, err = ngx.socket.tcp()
    if not sock then return fail("network", "cannot create a cosocket: " .. tostring(err)) end
    local ms = req.timeout
    if sock.settimeouts then sock:settimeouts(ms, ms, ms) else sock:settimeout(ms) end
    -- Without keepalive (or on the second try) a pool that never holds a connection, so the
    -- connect is a new one.
    local pool = u.scheme .. "://" .. u.host .. ":" .. u.port
        .. ((fresh or not req.keepalive) and "#new" or "")
    local ok, cerr = sock:connect(u.host, u.port, { pool = pool })
    if not ok then
        return wire.io_fail("connect to", where, cerr)
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
            return fail(wire.is_timeout(herr) and "timeout" or "tls",
                "TLS handshake with " .. where .. " failed: " .. tostring(herr))
        end
    end
    local keep = req.keepalive and not fresh and function(s)
        s:setkeepalive(wire.KEEPALIVE_IDLE * 1000, wire.POOL_SIZE)
    end or nil
    local response, message, code, stale = wire.exchange(sock, text, req.method or "GET", where, {
        step = ms,
        now = function()
            if ngx.update_time then ngx.update_time() end
            return ngx.now() * 1000
        end,
    }, M.filler(sock), keep)
    if not response and stale and reused then
        return M.request(ngx, req, u, text, where, true)
    end
    return response, message, code
end

return M
