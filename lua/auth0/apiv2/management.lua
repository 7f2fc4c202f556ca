--- Calls to Auth0's Management API v2 (`https://DOMAIN/api/v2`). The bearer token comes from
-- the client credentials grant (`POST /oauth/token`; kept, and fetched again 10 s before it
-- expires, concurrent callers in one nginx worker sharing one pending request), from a key
-- (a self-signed APIv2 token, as tenants made before 2017 use), or from the caller. Failures
-- are values: `nil, err` with `err` a table (status, error_code, message, ...) that `tostring`
-- makes readable; no secret or token ever appears in one, nor in `tostring(mgmt)`.
local token = require "auth0.apiv2.token"
local json = require "auth0.apiv2.internal.json"
local url = require "auth0.apiv2.internal.http.url"
local http = require "auth0.apiv2.internal.http"
local options = require "auth0.apiv2.internal.options"
local keys = require "auth0.apiv2.internal.key"
local retry = require "auth0.apiv2.internal.retry"
local errors = require "auth0.apiv2.internal.errors"
local connection = require "auth0.apiv2.internal.connection"
local bearer = require "auth0.apiv2.internal.bearer"
local call = require "auth0.apiv2.internal.call"
local credentials = require "auth0.apiv2.internal.credentials"
local scopes = require "auth0.apiv2.scopes"
local blacklist = require "auth0.apiv2.blacklist"
local pacing = require "auth0.apiv2.internal.pacing"
local pager = require "auth0.apiv2.internal.pager"
local jobs = require "auth0.apiv2.internal.jobs"
local numbers = require "auth0.apiv2.internal.numbers"
local shared_token = require "auth0.apiv2.internal.shared_token"

local M = {}

local type, pairs, ipairs, tostring, error, setmetatable, pcall =
    type, pairs, ipairs, tostring, error, setmetatable, pcall
local find, format, gsub, gmatch, match, sub, upper = string.find, string.format,
    string.gsub, string.gmatch, string.match, string.sub, string.upper
local concat, sort = table.concat, table.sort
local floor, huge = math.floor, math.huge
local escape, new_error, excerpt_of = url.escape, errors.new_error, errors.excerpt_of
local bytes_less = json.bytes_less
local show, name_of = options.show, options.name   -- values in messages, bounded

M.DEFAULT_TIMEOUT_MS = connection.DEFAULT_TIMEOUT_MS    -- for each of connect, send and read
M.DEFAULT_MAX_WAIT_MS = connection.DEFAULT_MAX_WAIT_MS  -- the longest single wait before a retry
-- The names of 0.1.0, also in milliseconds.
M.DEFAULT_TIMEOUT, M.DEFAULT_MAX_WAIT = M.DEFAULT_TIMEOUT_MS, M.DEFAULT_MAX_WAIT_MS
M.DEFAULT_RETRIES = retry.DEFAULT_RETRIES
M.RENEW_BEFORE = credentials.RENEW_BEFORE_S  -- s: a client credentials token is replaced
                                             -- this long before it expires
M.TOKEN_LIFETIME = 300    -- s, of the tokens minted in key + aud + scopes mode
M.POLL_INTERVAL = credentials.POLL_INTERVAL_S  -- s between looks at a pending token request
local MAX_EXACT = 2 ^ 53  -- numbers below this are written as integers in paths and queries

local NEW_OPTIONS = {
    domain = true, base_url = true, client_id = true, client_secret = true, key = true,
    aud = true, scopes = true, token = true, timeout = true, retries = true, max_wait = true,
    ca_file = true, transport = true, sleep = true, now = true,
    keepalive = true, pace = true, wait_for_reset = true, shared_dict = true,
}
-- What mgmt:blacklist() passes on to blacklist.new.
local SHARED_OPTIONS = { "timeout", "retries", "max_wait", "ca_file", "transport", "sleep", "now" }

-- ------------------------------------------------------------- construction

local Management = {}
Management.__index = Management

local function check_string(name, value)
    if type(value) ~= "string" or value == "" then
        error("management.new: " .. name .. " must be a non-empty string", 3)
    end
end

-- Which credentials the options give; raises unless exactly one kind.
local function credentials_kind(opts)
    local kinds = {}
    if opts.client_id ~= nil or opts.client_secret ~= nil then
        kinds[#kinds + 1] = "client credentials"
    end
    if opts.key ~= nil or opts.aud ~= nil or opts.scopes ~= nil then
        kinds[#kinds + 1] = "minted tokens"
    end
    if opts.token ~= nil then kinds[#kinds + 1] = "bearer token" end
    if #kinds ~= 1 then
        error("management.new: give " .. (#kinds == 0 and "" or "only ") .. "one of: client_id "
            .. "and client_secret, key with aud and scopes, or token", 3)
    end
    return kinds[1]
end

--- Makes a Management API client for one tenant. Make it once (per nginx worker: at module
-- level or in init_worker), not per request: the token it fetches is kept in the client.
-- @tparam table opts
--   `domain` ("tenant.auth0.com"), and/or `base_url` (the API's URL, default
--   "https://DOMAIN/api/v2"; `http://` allowed, for tests and proxies);
--   credentials, one of:
--   `client_id`, `client_secret`: the client credentials grant at "https://DOMAIN/oauth/token"
--     (with base_url, beside it: base_url must then end in /api/v2), with the audience
--     "https://DOMAIN/api/v2/" (so `domain` is required, even with base_url);
--   `key` (a key object from token.key), `aud` (the tenant's API key), `scopes`: the client
--     signs its own APIv2 token with these scopes, valid 300 s, renewed a minute before;
--   `token`: a bearer token, or a function returning one (or nil and an error);
--   `timeout` (ms, default 5000), `retries` (0..10, default 3), `max_wait` (ms, default
--   10000), `ca_file`, `transport`, `sleep` (function(seconds)), `now` (function: seconds)
-- @return the client
-- @raise on a missing, unknown or ill-typed option
function M.new(opts)
    options.check("management.new", opts, NEW_OPTIONS, 2)
    local kind = credentials_kind(opts)
    local conn = connection.new("management.new", opts)
    local forget = function() end
    if opts.keepalive ~= nil and type(opts.keepalive) ~= "boolean" then
        error("management.new: keepalive must be a boolean", 2)
    end
    if opts.pace ~= nil and type(opts.pace) ~= "boolean" then
        error("management.new: pace must be a boolean", 2)
    end
    local budget = opts.wait_for_reset
    if budget ~= nil and (type(budget) ~= "number" or budget ~= budget or budget < 0
        or budget == huge) then
        error("management.new: wait_for_reset must be a non-negative number of seconds", 2)
    end
    conn.keepalive = opts.keepalive ~= false
    if opts.pace or (budget and budget > 0) then
        conn.policy.pacer = pacing.new{ pace = opts.pace, wait_for_reset = budget,
            now = conn.policy.now, sleep = conn.policy.sleep, max_wait = conn.policy.max_wait }
    end
    local dict
    if opts.shared_dict ~= nil then
        if kind ~= "client credentials" then
            error("management.new: shared_dict goes with client_id and client_secret", 2)
        end
        dict = shared_token.dict("management.new", opts.shared_dict)
    end
    if kind == "client credentials" then
        check_string("client_id", opts.client_id)
        check_string("client_secret", opts.client_secret)
        if not opts.domain then
            error("management.new: client credentials need domain (the token's audience is "
                .. "https://DOMAIN/api/v2/), also with base_url", 2)
        end
        local root = "https://" .. opts.domain
        if opts.base_url then
            root = match(conn.base_url, "^(.*)/api/v2$")
            if not root then
                error("management.new: with client credentials, base_url must end in /api/v2 "
                    .. "(/oauth/token is beside it)", 2)
            end
        end
        conn.bearer, forget = credentials.source(conn, root .. "/oauth/token",
            "https://" .. opts.domain .. "/api/v2/", opts.client_id, opts.client_secret, dict)
    elseif kind == "minted tokens" then
        if not keys.is_key(opts.key) then
            error("management.new: key must be a key object from token.key", 2)
        end
        check_string("aud", opts.aud)
        if type(opts.scopes) ~= "table" then
            error("management.new: scopes must be a table, e.g. { \"read:users\" }", 2)
        end
        local ok, template = pcall(token.new,
            { aud = opts.aud, scopes = opts.scopes, lifetime = M.TOKEN_LIFETIME })
        if not ok then
            error("management.new: " .. options.without_position(template), 2)
        end
        -- forget_token: a new source signs a new token at its first call.
        local current = bearer.minted(conn, opts.key, template, M.TOKEN_LIFETIME)
        conn.bearer = function() return current() end
        forget = function() current = bearer.minted(conn, opts.key, template, M.TOKEN_LIFETIME) end
    elseif type(opts.token) == "function" then
        kind, conn.bearer = "token function", opts.token
    elseif type(opts.token) == "string" and match(opts.token, bearer.BEARER_CHARS) then
        conn.bearer = bearer.fixed(opts.token)   -- a closure: not in a field
    else
        error("management.new: token must be a bearer token (a compact JWT) or a function", 2)
    end
    local shared = {}
    for _, name in ipairs(SHARED_OPTIONS) do shared[name] = opts[name] end
    return setmetatable({ base_url = conn.base_url, kind = kind, conn = conn, shared = shared,
        forget = forget }, Management)
end

function Management:__tostring()
    return "auth0.apiv2.management (" .. self.base_url .. ", " .. self.kind .. ")"
end

-- ------------------------------------------------------------- requests

-- Whether a path parameter value would change the path's shape once put in it.
local function unsafe_segment(value)
    return value == "" or value == "." or value == ".."
end

-- A number in a path or query: integers without exponent or ".0"; nil for NaN and infinities.
local function number_text(value)
    if value ~= value or value == huge or value == -huge then return nil end
    if value == floor(value) and value > -MAX_EXACT and value < MAX_EXACT then
        return format("%.0f", value)
    end
    return tostring(value)
end

-- The path with its {name} placeholders replaced by the URL-encoded parameters.
local function expand(fname, template, params)
    if type(template) ~= "string" or sub(template, 1, 1) ~= "/" or find(template, "[%s%c?#]") then
        error(fname .. ": path must be a string starting with /, without query, e.g. "
            .. "/users/{id}", 3)
    end
    if find(gsub(template, "{[%w_]+}", ""), "[{}]") then
        error(fname .. ": path has a malformed placeholder (expected {name})", 3)
    end
    if params ~= nil and type(params) ~= "table" then
        error(fname .. ": path parameters must be a table", 3)
    end
    params = params or {}
    local values = {}
    for name in gmatch(template, "{([%w_]+)}") do
        local value = params[name]
        if type(value) == "number" then value = number_text(value) or false end
        if type(value) ~= "string" then
            error(fname .. ": path parameter " .. show(name) .. " must be a string or a finite "
                .. "number" .. (value == nil and " (it is missing)" or ""), 3)
        end
        if unsafe_segment(value) then
            return nil, new_error{ op = fname, error_code = "invalid_parameter", message = "path "
                .. "parameter " .. show(name) .. " is empty, . or .., which would change the path" }
        end
        values[name] = escape(value)
    end
    for name in pairs(params) do
        if values[name] == nil then
            error(fname .. ": unknown path parameter " .. show(name), 3)
        end
    end
    return (gsub(template, "{([%w_]+)}", values))
end

local QUERY_KINDS = " must be a string, a finite number, a boolean or a list of them"

local function query_value(fname, name, value)
    local t = type(value)
    if t == "string" then return value end
    if t == "boolean" then return value and "true" or "false" end
    local text = t == "number" and number_text(value)
    if text then return text end
    error(fname .. ": query." .. name_of(name) .. QUERY_KINDS, 4)
end

-- The values of a query parameter: one value, or a list (keys 1..n, n > 0, nothing else). A
-- table that is not such a list would be dropped or cut by ipairs, and the request would go
-- out without the filter the caller meant: raise instead.
local function query_values(fname, name, value)
    if type(value) ~= "table" then return { value } end
    local count, largest = 0, 0
    for k in pairs(value) do
        if type(k) ~= "number" or k < 1 or k ~= floor(k) then count = -1 break end
        count = count + 1
        if k > largest then largest = k end
    end
    -- Distinct whole keys from 1, as many as the largest one: exactly 1..n.
    if count <= 0 or largest ~= count then
        error(fname .. ": query." .. name_of(name) .. " is a table but not a list of values (keys "
            .. "1..n, at least one, no holes): the request would go out without it", 4)
    end
    return value
end

-- "?a=1&b=x%20y" from { a = 1, b = "x y" }, names in byte order; a list repeats the name.
local function query_string(fname, query)
    if query == nil then return "" end
    if type(query) ~= "table" then error(fname .. ": query must be a table", 3) end
    local names = {}
    for name in pairs(query) do
        if type(name) ~= "string" or name == "" then
            error(fname .. ": query names must be non-empty strings", 3)
        end
        names[#names + 1] = name
    end
    sort(names, bytes_less)
    local parts = {}
    for _, name in ipairs(names) do
        for _, item in ipairs(query_values(fname, name, query[name])) do
            parts[#parts + 1] = escape(name) .. "=" .. escape(query_value(fname, name, item))
        end
    end
    return #parts > 0 and ("?" .. concat(parts, "&")) or ""
end

-- The scopes the catalog lists for an endpoint, without the current_user ones (only a
-- logged-in user's own token holds those); nil for an endpoint the catalog does not know.
local function grantable_scopes(endpoint)
    local listed = scopes.for_endpoint(endpoint)
    if not listed then return nil end
    local out = {}
    for _, scope in ipairs(listed) do
        if not scopes.is_special(scope) then out[#out + 1] = scope end
    end
    return out
end

local perform    -- Management:request under another op (below)

--- Calls the Management API.
-- @tparam string method "GET", "POST", "PATCH", "PUT", "DELETE" (any letter case)
-- @tparam string path a path below /api/v2 with {name} placeholders, e.g. "/users/{id}"
-- @tparam[opt] table params the placeholders' values (strings or integers), URL-encoded into
--   the path: `{ id = "auth0|123" }` gives /users/auth0%7C123
-- @param[opt] body a table (sent as JSON; `json.empty_array` for `[]`) or JSON text
-- @tparam[opt] table query `{ name = value }`: strings, numbers, booleans, or lists of them
--   (the name repeated); sent in byte order of the names
-- @return the decoded JSON body of a 2xx answer, or `true` when it has none (204)
-- @return[2] nil
-- @return[2] the error value: `status`, `error_code`, `message`, ...; on a 403
--   `required_scopes` lists the scopes the catalog says the endpoint needs (any one of them;
--   current_user scopes left out)
-- @tparam[opt] table opts `idempotent = true`: a 5xx may be retried whatever the method (by
--   default only GET, HEAD, PUT, DELETE and OPTIONS are; a PATCH that sets fields to fixed
--   values is safe to send twice, a POST that creates something is not)
-- @raise on a malformed method, path, parameter, body, query or opts
function Management:request(method, path, params, body, query, opts)
    return perform(self, "management.request", method, path, params, body, query, opts)
end

local CALL_OPTIONS = { idempotent = true, content_type = true }

-- Management:request under another op (the name errors carry); content_type for bodies that
-- are not JSON (the multipart upload of an import).
perform = function(self, fname, method, path, params, body, query, opts)
    if opts ~= nil then
        if type(opts) ~= "table" then error(fname .. ": opts must be a table", 3) end
        for name in pairs(opts) do
            if not CALL_OPTIONS[name] then
                error(fname .. ": unknown option '" .. tostring(name) .. "'", 3)
            end
        end
        if opts.idempotent ~= nil and type(opts.idempotent) ~= "boolean" then
            error(fname .. ": idempotent must be a boolean", 3)
        end
    end
    opts = opts or {}
    if type(method) ~= "string" or not match(method, "^%a+$") then
        error(fname .. ": method must be an HTTP method such as \"GET\"", 2)
    end
    method = upper(method)
    local target, perr = expand(fname, path, params)
    if not target then return nil, perr end
    target = target .. query_string(fname, query)
    local text = body
    if type(body) == "table" then
        local jerr
        text, jerr = json.encode(body, "body")
        if not text then error(fname .. ": " .. jerr, 2) end
    elseif body ~= nil and type(body) ~= "string" then
        error(fname .. ": body must be a table or JSON text", 2)
    end
    local response, err = call.call(fname, self.conn, method, target, text, opts.idempotent,
        opts.content_type)
    if not response then
        if err.status == 403 and err.stage == nil then
            err.required_scopes = grantable_scopes(method .. " " .. path)
        end
        return nil, err
    end
    if response.status == 204 or not find(response.body, "%S") then return true end
    local value = json.decode(response.body)
    if value == nil then
        return nil, new_error{ op = fname, status = response.status,
            error_code = "invalid_response", message = "expected JSON, got "
            .. (excerpt_of(response) or "an empty body") }
    end
    return numbers.integral(value)
end

--- Closes the idle kept-alive connections of this process (outside nginx; nginx keeps its own
-- pools, which close idle connections after 20 s). For a script that is done with the API,
-- or before a fork.
function M.close_idle()
    http.close_idle()
end

--- Drops the cached token: the client credentials token (in the shared dict too) or the minted
-- one; the next call gets a new one. For a token the API refused (401 after a rotation or a
-- revocation). A fixed `token` or token function has nothing to drop.
function Management:forget_token()
    self.forget()
end

local function pager_for(self, op, path, params, query)
    if query ~= nil and type(query) ~= "table" then error(op .. ": query must be a table", 3) end
    expand(op, path, params)        -- raises now, not at the first page
    return pager.new{ op = op, path = path, new_error = new_error,
        fetch = function(q) return perform(self, op, "GET", path, params, nil, q) end,
        query = query }
end

--- An iterator over the pages of a list endpoint: `for items, answer in mgmt:pages(...)`.
-- Offset paging (page, per_page, include_totals; default per_page 50) unless the query has
-- `from` or `take` (checkpoint paging: take, from, the answer's next). A failure ends the
-- loop; the pager's field `err` then holds the error value (nil after a complete run), and
-- `total` the answer's total (offset paging). Beyond Auth0's first 1,000 results of offset
-- paging the loop ends with `err.error_code == "result_cap"`, whose message names the
-- export job (/users) or checkpoint paging. `pager:all()` returns every item in one list, or
-- nil and the error.
-- @tparam string path e.g. "/users" or "/roles/{id}/users"
-- @tparam[opt] table params the path's placeholders
-- @tparam[opt] table query as for request
-- @return the pager (a callable object)
-- @raise on a malformed path, parameter or query
function Management:pages(path, params, query)
    return pager_for(self, "management.pages", path, params, query)
end

--- An iterator over the items of a list endpoint: `for user, n in mgmt:each("/users", nil,
-- { q = 'app_metadata.plan:"free"' }) do ... end`, paging as `mgmt:pages` does; after the
-- loop the iterator's `err` holds the error that ended it early, or nil; `:all()` collects.
-- @return the iterator (a callable object with `err`, `total`, `all`)
-- @raise on a malformed path, parameter or query
function Management:each(path, params, query)
    return pager.each(pager_for(self, "management.each", path, params, query))
end

-- What the jobs need of the client.
local function jobs_client(self)
    local conn = self.conn
    return {
        call = function(op, method, path, params, body, query, opts)
            return perform(self, op, method, path, params, body, query, opts)
        end,
        sleep = conn.policy.sleep, now = conn.policy.now, new_error = new_error,
        check = function(fname, opts, allowed) options.check(fname, opts, allowed, 4) end,
        -- The export's file: a pre-signed URL on another host: no bearer token goes there.
        download = function(op, location)
            if not url.parse_url(location) then
                return nil, new_error{ op = op, error_code = "invalid_response",
                    message = "the job's location is not an http(s) URL" }
            end
            local response, err = call.send(op, conn, { method = "GET", url = location,
                headers = { Accept = "*/*" } })
            if not response then return nil, err end
            return response.body
        end,
    }
end

--- Exports users with a users-exports job: creates it, polls it until done, downloads and
-- unpacks its gzipped NDJSON or CSV file.
-- @tparam table opts `connection_id`, `format` ("json" default, or "csv"), `fields` (names,
--   or `{ name =, export_as = }`), `limit`, `file` (write the unpacked file there instead of
--   returning records), `max_bytes` (of the unpacked file; default 256 MiB), and the waiting
--   of wait_job: `interval`, `max_interval`, `timeout`
-- @treturn table `{ job =, records = { ... } }` (JSON: one table per user; CSV: one per row,
--   keyed by the header, cells as text), or with `file`: `{ job =, file =, count = }`
-- @return[2] nil, the error value (see wait_job for the job's own failures)
-- @raise on a malformed option
function Management:export_users(opts)
    if type(opts) ~= "table" then error("management.export_users: opts must be a table", 2) end
    return jobs.export_users(jobs_client(self), opts)
end

--- Imports users with a users-imports job (a multipart upload), polls it until done, and
-- collects `GET /jobs/{id}/errors`.
-- @tparam table opts `connection_id` (required), `users` (a list of user tables, or JSON
--   text), `upsert`, `external_id`, `send_completion_email`, `interval`, `max_interval`,
--   `timeout`
-- @treturn table `{ job =, errors = { { user =, errors = { { code, message, path } } } } }`;
--   `job.summary` has Auth0's counts (inserted, updated, failed, total)
-- @return[2] nil, the error value
-- @raise on a malformed option
function Management:import_users(opts)
    if type(opts) ~= "table" then error("management.import_users: opts must be a table", 2) end
    return jobs.import_users(jobs_client(self), opts)
end

--- Polls `GET /jobs/{id}` until the job is completed: after `interval` seconds (default 1),
-- then 1.5 times longer each time up to `max_interval` (default 10), for at most `timeout`
-- seconds (default 900).
-- @tparam string id the job's id
-- @tparam[opt] table opts `interval`, `max_interval`, `timeout`
-- @treturn table the completed job
-- @return[2] nil, the error value: `job_failed` (the job's status is failed or expired) or
--   `job_timeout` (still pending or processing), both with the last `job`; or the request's
-- @raise on a malformed id or option
function Management:wait_job(id, opts)
    if type(id) ~= "string" or id == "" then
        error("management.wait_job: id must be a job id such as \"job_0000000000000001\"", 2)
    end
    if opts ~= nil then
        options.check("management.wait_job", opts,
            { interval = true, max_interval = true, timeout = true }, 2)
    end
    return jobs.wait(jobs_client(self), "management.wait_job", id, opts)
end

--- A blacklist client (auth0.apiv2.blacklist) for the same tenant that shares this client's
-- token: the same cached client credentials token, minted token or given token, which must
-- hold blacklist:tokens. Made at the first call, then the same one is returned.
-- @return the blacklist client
function Management:blacklist()
    if not self.revoker then
        local opts = { base_url = self.base_url, token = self.conn.bearer }
        for _, name in ipairs(SHARED_OPTIONS) do opts[name] = self.shared[name] end
        self.revoker = blacklist.new(opts)
    end
    return self.revoker
end

return M
