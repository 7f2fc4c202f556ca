--- Auth0's long-running jobs for `mgmt:export_users`, `mgmt:import_users` and `mgmt:wait_job`:
-- create the job, poll `GET /jobs/{id}` with a growing interval until it is `completed` (or
-- `failed`, or the caller's time is up), then fetch its result: the export's file (gzipped
-- NDJSON or CSV, downloaded from the job's `location` without the bearer token: it is a
-- pre-signed storage URL, and the token must not travel to another host) unpacked into records
-- or a file, or the import's `GET /jobs/{id}/errors`.
local json = require "auth0.apiv2.internal.json"
local core = require "auth0.apiv2.internal.core"
local gunzip = require "auth0.apiv2.internal.gunzip"
local numbers = require "auth0.apiv2.internal.numbers"

local M = {}

local type, ipairs, pairs, error, tostring = type, ipairs, pairs, error, tostring
local find, format, gmatch, gsub, sub, byte = string.find, string.format, string.gmatch,
    string.gsub, string.sub, string.byte
local concat = table.concat

M.INTERVAL = 1            -- s before the first poll; then 1.5 times longer each time ...
M.MAX_INTERVAL = 10       -- s ... up to this
M.TIMEOUT = 900           -- s: the longest wait_job waits by default
local GROWTH = 1.5

local function check_wait_options(fname, opts)
    for _, name in ipairs({ "interval", "max_interval", "timeout" }) do
        local v = opts[name]
        if v ~= nil and (type(v) ~= "number" or v ~= v or v < 0 or v == math.huge) then
            error(fname .. ": " .. name .. " must be a non-negative number of seconds", 3)
        end
    end
end

--- Polls the job until it is done.
-- @tparam table client `call`, `sleep`, `now`, `new_error`
-- @treturn table the completed job
-- @return[2] nil, the error (`job_failed` with `job`, `job_timeout` with `job`, or the
--   request's own)
function M.wait(client, op, id, opts)
    opts = opts or {}
    local interval = opts.interval or M.INTERVAL
    local max_interval = opts.max_interval or M.MAX_INTERVAL
    local deadline = client.now() + (opts.timeout or M.TIMEOUT)
    local job
    while true do
        local err
        job, err = client.call(op, "GET", "/jobs/{id}", { id = id })
        if not job then return nil, err end
        if type(job) ~= "table" then
            return nil, client.new_error{ op = op, error_code = "invalid_response",
                message = "GET /jobs/" .. id .. " gave no job object" }
        end
        if job.status == "completed" then return job end
        if job.status == "failed" or job.status == "expired" then
            return nil, client.new_error{ op = op, error_code = "job_failed", job = job,
                message = "job " .. id .. " " .. tostring(job.status) }
        end
        local left = deadline - client.now()
        if left <= 0 then
            return nil, client.new_error{ op = op, error_code = "job_timeout", job = job,
                message = "job " .. id .. " still " .. tostring(job.status)
                    .. " when the wait ended" }
        end
        client.sleep(interval < left and interval or left)
        interval = interval * GROWTH
        if interval > max_interval then interval = max_interval end
    end
end

---------------------------------------------------------------- export

-- RFC 4180 CSV into rows of cells (quoted cells may hold commas, quotes and line breaks).
local function csv_rows(text)
    local rows, row, i, n = {}, {}, 1, #text
    local cell = {}
    local function end_cell()
        row[#row + 1] = concat(cell)
        cell = {}
    end
    while i <= n do
        local c = sub(text, i, i)
        if c == '"' and #cell == 0 then
            local j = i + 1
            while true do
                local q = find(text, '"', j, true)
                if not q then return nil, "unterminated quoted cell" end
                cell[#cell + 1] = sub(text, j, q - 1)
                if sub(text, q + 1, q + 1) == '"' then
                    cell[#cell + 1] = '"'
                    j = q + 2
                else
                    i = q + 1
                    break
                end
            end
        elseif c == "," then
            end_cell()
            i = i + 1
        elseif c == "\r" or c == "\n" then
            end_cell()
            rows[#rows + 1] = row
            row = {}
            i = i + ((c == "\r" and sub(text, i + 1, i + 1) == "\n") and 2 or 1)
        else
            local j = find(text, '[,\r\n"]', i) or n + 1
            cell[#cell + 1] = sub(text, i, j - 1)
            i = j
        end
    end
    if #cell > 0 or #row > 0 then
        end_cell()
        rows[#rows + 1] = row
    end
    return rows
end

-- Records from the unpacked export: one table per NDJSON line, or per CSV row keyed by the
-- header's names (cells as text; empty cells absent).
local function records_of(text, format_name)
    local out = {}
    if format_name == "csv" then
        local rows, err = csv_rows(text)
        if not rows then return nil, err end
        local header = rows[1] or {}
        for r = 2, #rows do
            local record = {}
            for c, name in ipairs(header) do
                local v = rows[r][c]
                if v ~= nil and v ~= "" then record[name] = v end
            end
            out[#out + 1] = record
        end
        return out
    end
    local n = 0
    for line in gmatch(text, "[^\n]+") do
        n = n + 1
        if find(line, "%S") then
            local record = json.decode(line)
            if type(record) ~= "table" then return nil, "line " .. n .. " is not a JSON object" end
            out[#out + 1] = numbers.integral(record)
        end
    end
    return out
end

local function field_list(fname, fields)
    if fields == nil then return nil end
    if type(fields) ~= "table" or #fields == 0 then
        error(fname .. ": fields must be a list of names or { name =, export_as = } tables", 3)
    end
    local out = {}
    for i, f in ipairs(fields) do
        if type(f) == "string" and f ~= "" then
            out[i] = { name = f }
        elseif type(f) == "table" and type(f.name) == "string"
            and (f.export_as == nil or type(f.export_as) == "string") then
            out[i] = { name = f.name, export_as = f.export_as }
        else
            error(fname .. ": fields[" .. i .. "] must be a name or { name =, export_as = }", 3)
        end
    end
    return out
end

local EXPORT_OPTIONS = { connection_id = true, format = true, fields = true, limit = true,
    file = true, interval = true, max_interval = true, timeout = true, max_bytes = true }

--- Creates a users-exports job, waits for it, downloads and unpacks its file.
-- @treturn table `{ job =, records = {...} }`, or with `file`: `{ job =, file =, count = }`
function M.export_users(client, opts)
    local fname = "management.export_users"
    client.check(fname, opts, EXPORT_OPTIONS)
    local format_name = opts.format or "json"
    if format_name ~= "json" and format_name ~= "csv" then
        error(fname .. ": format must be \"json\" or \"csv\"", 2)
    end
    if opts.connection_id ~= nil and (type(opts.connection_id) ~= "string"
        or opts.connection_id == "") then
        error(fname .. ": connection_id must be a non-empty string", 2)
    end
    if opts.file ~= nil and (type(opts.file) ~= "string" or opts.file == "") then
        error(fname .. ": file must be a path", 2)
    end
    if opts.limit ~= nil and (type(opts.limit) ~= "number" or opts.limit < 1
        or opts.limit ~= math.floor(opts.limit)) then
        error(fname .. ": limit must be a positive whole number", 2)
    end
    check_wait_options(fname, opts)
    local body = { connection_id = opts.connection_id, format = format_name,
        fields = field_list(fname, opts.fields), limit = opts.limit }
    local created, err = client.call(fname, "POST", "/jobs/users-exports", nil, body)
    if not created then return nil, err end
    if type(created) ~= "table" or type(created.id) ~= "string" then
        return nil, client.new_error{ op = fname, error_code = "invalid_response",
            message = "the export job was created without an id" }
    end
    local job, werr = M.wait(client, fname, created.id, opts)
    if not job then return nil, werr end
    if type(job.location) ~= "string" then
        return nil, client.new_error{ op = fname, error_code = "invalid_response", job = job,
            message = "the completed export job has no location" }
    end
    local packed, derr = client.download(fname, job.location)
    if not packed then return nil, derr end
    local text, gerr = gunzip.gunzip(packed, opts.max_bytes)
    if not text then
        return nil, client.new_error{ op = fname, error_code = "invalid_response", job = job,
            message = "the export's file: " .. gerr }
    end
    if opts.file then
        local f, ferr = io.open(opts.file, "wb")
        if not f then
            return nil, client.new_error{ op = fname, error_code = "file", job = job,
                message = "cannot write the export's file: " .. tostring(ferr) }
        end
        f:write(text)
        f:close()
        local count = 0
        if format_name == "csv" then
            local rows = csv_rows(text)
            count = rows and #rows - 1 or 0
        else
            for line in gmatch(text, "[^\n]+") do
                if find(line, "%S") then count = count + 1 end
            end
        end
        return { job = job, file = opts.file, count = count < 0 and 0 or count }
    end
    local records, rerr = records_of(text, format_name)
    if not records then
        return nil, client.new_error{ op = fname, error_code = "invalid_response", job = job,
            message = "the export's file: " .. rerr }
    end
    return { job = job, records = records }
end

---------------------------------------------------------------- import

local function hex(s)
    return (gsub(s, ".", function(c) return format("%02x", byte(c)) end))
end

local function part(boundary, name, value, filename)
    local head = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\""
    if filename then
        head = head .. "; filename=\"" .. filename .. "\"\r\nContent-Type: application/json"
    end
    return head .. "\r\n\r\n" .. value .. "\r\n"
end

local IMPORT_OPTIONS = { connection_id = true, users = true, upsert = true, external_id = true,
    send_completion_email = true, interval = true, max_interval = true, timeout = true }

--- Creates a users-imports job (multipart upload), waits for it, and collects its errors.
-- @treturn table `{ job =, errors = {...} }` (`errors` as GET /jobs/{id}/errors lists them)
function M.import_users(client, opts)
    local fname = "management.import_users"
    client.check(fname, opts, IMPORT_OPTIONS)
    if type(opts.connection_id) ~= "string" or opts.connection_id == "" then
        error(fname .. ": connection_id is required (a string)", 2)
    end
    local users = opts.users
    if type(users) == "table" then
        local text, jerr = json.encode(#users == 0 and json.empty_array or users, "users")
        if not text then error(fname .. ": " .. jerr, 2) end
        users = text
    elseif type(users) ~= "string" then
        error(fname .. ": users must be a list of user tables or JSON text", 2)
    end
    for _, name in ipairs({ "upsert", "send_completion_email" }) do
        if opts[name] ~= nil and type(opts[name]) ~= "boolean" then
            error(fname .. ": " .. name .. " must be a boolean", 2)
        end
    end
    if opts.external_id ~= nil and type(opts.external_id) ~= "string" then
        error(fname .. ": external_id must be a string", 2)
    end
    check_wait_options(fname, opts)
    local boundary
    repeat boundary = "auth0apiv2-" .. hex(core.random(12)) until not find(users, boundary, 1, true)
    local parts = { part(boundary, "users", users, "users.json"),
        part(boundary, "connection_id", opts.connection_id),
        part(boundary, "upsert", opts.upsert and "true" or "false") }
    if opts.external_id then parts[#parts + 1] = part(boundary, "external_id", opts.external_id) end
    if opts.send_completion_email ~= nil then
        parts[#parts + 1] = part(boundary, "send_completion_email",
            opts.send_completion_email and "true" or "false")
    end
    parts[#parts + 1] = "--" .. boundary .. "--\r\n"
    local created, err = client.call(fname, "POST", "/jobs/users-imports", nil, concat(parts),
        nil, { content_type = "multipart/form-data; boundary=" .. boundary })
    if not created then return nil, err end
    if type(created) ~= "table" or type(created.id) ~= "string" then
        return nil, client.new_error{ op = fname, error_code = "invalid_response",
            message = "the import job was created without an id" }
    end
    local job, werr = M.wait(client, fname, created.id, opts)
    if not job then return nil, werr end
    local errors, eerr = client.call(fname, "GET", "/jobs/{id}/errors", { id = created.id })
    if not errors then return nil, eerr end
    if errors == true then errors = {} end
    if type(errors) ~= "table" then errors = {} end
    if errors[1] == nil then
        local list = {}
        for _, v in pairs(errors) do
            if type(v) == "table" and v.errors then list[#list + 1] = v end
        end
        errors = list
    end
    return { job = job, errors = errors }
end

M.csv_rows = csv_rows

return M
