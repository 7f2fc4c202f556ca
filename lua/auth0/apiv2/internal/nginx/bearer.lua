--- Where a request carries its bearer token (RFC 6750 §2): the Authorization header by default,
-- optionally a cookie or a query parameter. A reader is made once per guard; per request it
-- reads one nginx variable per configured source, with no pattern over the whole token (the
-- verifier checks the token's bytes strictly anyway).
-- luacheck: globals ngx
local options = require "auth0.apiv2.internal.options"

local M = {}

local type, error, setmetatable = type, error, setmetatable
local sub, find, lower, match, gsub, byte = string.sub, string.find, string.lower,
    string.match, string.gsub, string.byte

M.DEFAULT = { header = "Authorization" }
local SOURCES = { header = true, cookie = true, query = true }

-- "Bearer <token>" (scheme in any case, spaces around the token): the token; false when the
-- value is malformed; nil for another scheme (Basic ...), which is no bearer token at all.
local function from_scheme(value)
    local scheme = sub(value, 1, 7)
    if scheme ~= "Bearer " and lower(scheme) ~= "bearer " then
        if lower(value) == "bearer" then return false end
        return nil
    end
    local start = 8
    if byte(value, 8) == 32 then                -- (a pattern here is not compiled by LuaJIT)
        start = find(value, "[^ ]", 9)
        if not start then return false end
    elseif #value < 8 then
        return false
    end
    local jwt = sub(value, start)
    if find(jwt, " ", 1, true) then
        jwt = match(jwt, "^([^ ]+) +$")
        if not jwt then return false end       -- two words: "Bearer a b"
    end
    return jwt
end

-- The usual reader's verdict on a header value: the token; nil, "malformed"; or nil.
local function token_of(value)
    local jwt = from_scheme(value)
    if jwt then return jwt end
    if jwt == false then return nil, "malformed" end
    return nil
end
M.token_of = token_of

-- The readers direct_reader made (weak keys): the tests in nginx ask whether a guard has one.
local direct_readers = setmetatable({}, { __mode = "k" })

-- The usual reader inside nginx with lua-resty-core: the header read through the FFI call that
-- ngx.var makes (lua-resty-core's declaration), its bytes looked at in place, and only the
-- token made a Lua string. Through ngx.var the whole header became a string each request (a
-- new one: nothing keeps the last) and the token a second one cut from it, which the cache
-- then found by its content. Any value but "Bearer <token>" exactly (one space after the
-- scheme, none at the end: HTTP/2 keeps trailing spaces, HTTP/1 strips them) goes to
-- token_of as a string, so the verdicts are token_of's. nil where the FFI call is not there
-- (outside nginx, the stream subsystem, lua-resty-core not loaded: lua-nginx-module loads it
-- itself from 0.10.16 on, and loading it here would replace ngx.var under other code). (About
-- 270 instructions of a warm protect's 7,900: bench/openresty/wrk --instructions.)
local function direct_reader(header_var)
    if not (rawget(_G, "ngx") and ngx.config and ngx.config.subsystem == "http") then return nil end
    local loaded = package.loaded
    local base = loaded["resty.core.base"]
    if type(base) ~= "table" or not loaded["resty.core.var"] then return nil end
    -- resty.core.var loaded means LuaJIT's FFI and the function's declaration are there.
    local ffi = require "ffi"
    local var_get = ffi.C.ngx_http_lua_ffi_var_get
    local get_request, ffi_str = base.get_request, ffi.string
    local name_len = #header_var
    local lowcase = ffi.new("char[?]", name_len)
    local value = ffi.new("unsigned char *[1]")
    local value_len = ffi.new("size_t[1]")
    local err = ffi.new("char *[1]")
    local function read()
        local r = get_request()
        if not r then error("no request found") end
        local rc = var_get(r, header_var, name_len, lowcase, 0, value, value_len, err)
        if rc ~= 0 then
            if rc == -5 then return nil end             -- NGX_DECLINED: no such header
            error(ffi_str(err[0]))                      -- (as ngx.var raises it)
        end
        local p, n = value[0], tonumber(value_len[0])
        if n > 7 and p[0] == 66 and p[1] == 101 and p[2] == 97 and p[3] == 114 and p[4] == 101
            and p[5] == 114 and p[6] == 32 and p[7] ~= 32 and p[n - 1] ~= 32 then
            local jwt = ffi_str(p + 7, n - 7)           -- "Bearer " and a token: the token,
            if not find(jwt, " ", 1, true) then return jwt end   -- unless it is two words
        end
        return token_of(ffi_str(p, n))
    end
    direct_readers[read] = true
    return read
end

--- For the tests in nginx: the reader for a header variable that reads it in place, or nil;
-- whether a reader is one of those.
M.direct_reader = direct_reader
function M.is_direct(reader) return direct_readers[reader] == true end

local function var_name(prefix, name)
    return prefix .. gsub(lower(name), "-", "_")
end

local function check_name(fname, source, name)
    if type(name) ~= "string" or not match(name, "^[%w_%-]+$") then
        error(fname .. ": token." .. source .. " must be a header, cookie or parameter name, got "
            .. options.show(name), 4)
    end
end

--- Makes the reader of a guard.
-- @tparam string fname for messages
-- @tparam[opt] table sources `header` (a header name, default "Authorization"; false: none),
--   `cookie` (a cookie name), `query` (a query parameter name)
-- @treturn function() -> token | nil, kind where kind is nil (no token), "malformed" or
--   "multiple" (more than one source carried a token)
function M.reader(fname, sources)
    sources = sources or M.DEFAULT
    options.check(fname .. ": token", sources, SOURCES, 3)
    local header = sources.header
    if header == nil then header = "Authorization" end
    local header_var, scheme_required
    if header then
        check_name(fname, "header", header)
        header_var = var_name("http_", header)
        -- Authorization carries a scheme; a custom header may carry the bare token.
        scheme_required = lower(header) == "authorization"
    end
    local cookie_var, query_var
    if sources.cookie ~= nil then
        check_name(fname, "cookie", sources.cookie)
        cookie_var = "cookie_" .. sources.cookie
    end
    if sources.query ~= nil then
        check_name(fname, "query", sources.query)
        query_var = "arg_" .. sources.query
    end

    local var = ngx.var
    local unescape = ngx.unescape_uri
    if not cookie_var and not query_var and scheme_required then
        -- The usual case, on every request: one variable.
        local direct = direct_reader(header_var)
        if direct then return direct end
        return function()
            local value = var[header_var]
            if value == nil then return nil end
            return token_of(value)
        end
    end
    return function()
        local found, count, malformed
        if header_var then
            local value = var[header_var]
            if value ~= nil then
                local jwt = from_scheme(value)
                if jwt == nil and not scheme_required then jwt = value end
                if jwt then found, count = jwt, 1 elseif jwt == false then malformed = true end
            end
        end
        if cookie_var then
            local value = var[cookie_var]
            if value ~= nil and value ~= "" then found, count = value, (count or 0) + 1 end
        end
        if query_var then
            local value = var[query_var]
            if value ~= nil and value ~= "" and value ~= true then
                if find(value, "%", 1, true) then value = unescape(value) end
                found, count = value, (count or 0) + 1
            end
        end
        if count and count > 1 then return nil, "multiple" end
        if found then
            if find(found, "[%s]") then return nil, "malformed" end
            return found
        end
        if malformed then return nil, "malformed" end
        return nil
    end
end

return M
