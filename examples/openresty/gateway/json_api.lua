--- JSON in and out for the gateway's own endpoints (content_by_lua).
-- luacheck: globals ngx
local cjson = require "cjson.safe"

local M = {}

local type, tostring = type, tostring

--- Sends `body` as JSON with `status` and ends the request.
function M.reply(status, body)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.say(cjson.encode(body))
    return ngx.exit(ngx.HTTP_OK)
end

--- The request body as a JSON object, or ends the request with 400 (413 and bodies in
-- temporary files are left to client_max_body_size = client_body_buffer_size).
function M.read_object()
    ngx.req.read_body()
    local text = ngx.req.get_body_data()
    if not text then
        if ngx.req.get_body_file() then
            return M.reply(413, { error = "body_too_large" })
        end
        text = "{}"
    end
    local value = cjson.decode(text)
    if type(value) ~= "table" then
        return M.reply(400, { error = "invalid_body",
            error_description = "expected a JSON object" })
    end
    return value
end

--- Only `method` is allowed here: anything else ends the request with 405.
function M.only(method)
    if ngx.req.get_method() ~= method then
        ngx.header["Allow"] = method
        return M.reply(405, { error = "method_not_allowed" })
    end
end

--- A raised error's message without the "file:line: " Lua puts in front.
function M.message(err)
    return (tostring(err):gsub("^[^\n]-:%d+: ", ""))
end

return M
