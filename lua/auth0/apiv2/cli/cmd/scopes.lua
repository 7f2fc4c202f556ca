--- `auth0-apiv2 scopes`: the scope catalog, filtered by endpoint, entity or a word.
local json = require "auth0.apiv2.internal.json"
local failure = require "auth0.apiv2.cli.failure"
local output = require "auth0.apiv2.cli.output"

local ipairs, require = ipairs, require
local match = string.match
local concat = table.concat
local usage, fail, compact = failure.usage, failure.fail, output.compact

local M = {
    options = { endpoint = "value", entity = "value", search = "value", entities = "flag" },
}

function M.run(ctx, opts, positional)
    local cmd = "scopes"
    local catalog = require "auth0.apiv2.scopes"
    if #positional > 0 then usage(cmd, "takes no arguments, got " .. #positional) end
    if opts.entities then
        if opts.endpoint or opts.entity or opts.search then
            usage(cmd, "--entities takes no other filter")
        end
        local list = catalog.entities()
        ctx.stdout:write(opts.json and compact(list) .. "\n" or concat(list, "\n") .. "\n")
        return failure.OK
    end
    local list, least
    if opts.endpoint then
        local err
        list, err = catalog.for_endpoint(opts.endpoint)
        if err == "malformed endpoint" then
            usage(cmd, "--endpoint takes \"METHOD PATH\", e.g. \"GET /users/{id}\"")
        elseif not list then
            fail(cmd, err, opts.json and compact{ error = err })
        end
        least = catalog.least_privileged(list)
    else
        list = catalog.all()
    end
    local entity = opts.entity
    local found = opts.search and {} or nil
    if found then
        for _, s in ipairs(catalog.search(opts.search)) do found[s] = true end
    end
    local rows, items = {}, {}
    for _, s in ipairs(list) do
        local e = match(s, "^[^:]*:(.*)$")
        if (not entity or e == entity) and (not found or found[s]) then
            local description = catalog.describe(s)
            local special = catalog.is_special(s)
            local item = { scope = s, description = description or json.null, special = special }
            local notes = {}
            if opts.endpoint then
                item.least_privileged = s == least
                if s == least then
                    notes[#notes + 1] = "least privileged: sign --endpoint grants it"
                end
            end
            if special then notes[#notes + 1] = "current_user: only in a user's own token" end
            if not description then notes[#notes + 1] = "not in the catalog" end
            items[#items + 1] = item
            rows[#rows + 1] = { s, (description or "") ..
                (#notes > 0 and ("  [" .. concat(notes, "; ") .. "]") or "") }
        end
    end
    if #items == 0 then
        fail(cmd, "no scope matches", opts.json and "[]")
    end
    if opts.json then
        ctx.stdout:write(compact(items), "\n")
    else
        output.write_table(ctx, { "SCOPE", "DESCRIPTION" }, rows)
    end
    return failure.OK
end

return M
