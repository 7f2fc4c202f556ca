--- The pagers behind `mgmt:pages` and `mgmt:each`: offset paging (`page`, `per_page`,
-- `include_totals`, the answer's `total`) or checkpoint paging (`from`, `take`, the answer's
-- `next`), chosen by the query: `from` or `take` in it means checkpoint, anything else offset.
-- A pager is a callable object, so `for item in mgmt:each(...) do ... end` works; after the
-- loop `pager.err` holds the error that ended it early (nil when the list was read to its
-- end). Auth0 answers offset paging beyond the first 1,000 results with a 400; the pager
-- stops there with the error `result_cap`, which names the way around (an export job for
-- /users, checkpoint paging elsewhere), before sending the request Auth0 would refuse.
local M = {}

local type, pairs, ipairs, next, setmetatable, tostring, tonumber, error = type, pairs,
    ipairs, next, setmetatable, tostring, tonumber, error
local match, floor = string.match, math.floor

M.DEFAULT_PER_PAGE = 50
M.RESULT_CAP = 1000
-- Members of an offset page besides its list.
local PAGE_FIELDS = { start = true, limit = true, length = true, total = true, next = true }

-- The list in an answer: the answer itself when it is an array, else its one array member.
local function items_of(answer)
    if type(answer) ~= "table" then return nil end
    if answer[1] ~= nil or next(answer) == nil then return answer end
    for name, value in pairs(answer) do
        if not PAGE_FIELDS[name] and type(value) == "table" then return value end
    end
    return {}       -- e.g. {"total":0,"start":0,"limit":50} or an empty list decoded as {}
end

local function copy(t)
    local out = {}
    for k, v in pairs(t or {}) do out[k] = v end
    return out
end

local Pager = {}
Pager.__index = Pager

--- A pager.
-- @tparam table spec `fetch` (function(query) -> answer | nil, err), `query` (the caller's),
--   `op` ("management.each"), `path` (for the cap's advice), `new_error`
-- page, per_page and take as numbers (the CLI passes text); raises on anything else.
local function whole(spec, query, name)
    local v = query[name]
    if type(v) == "string" and match(v, "^%d+$") then v = tonumber(v) end
    if v ~= nil and (type(v) ~= "number" or v < 0 or v ~= floor(v)) then
        error(spec.op .. ": query." .. name .. " must be a whole number", 4)
    end
    query[name] = v
end

function M.new(spec)
    local query = copy(spec.query)
    whole(spec, query, "page")
    whole(spec, query, "per_page")
    whole(spec, query, "take")
    local checkpoint = query.from ~= nil or query.take ~= nil
    if checkpoint then
        query.take = query.take or M.DEFAULT_PER_PAGE
    else
        query.page = query.page or 0
        query.per_page = query.per_page or M.DEFAULT_PER_PAGE
        if query.include_totals == nil then query.include_totals = true end
    end
    return setmetatable({ spec = spec, query = query, checkpoint = checkpoint, done = false,
        pages = 0, count = 0 }, Pager)
end

local function cap_error(self)
    local spec = self.spec
    local advice = spec.path == "/users"
        and ("export them all with mgmt:export_users (the users-exports job, "
            .. "POST /jobs/users-exports)")
        or "use checkpoint paging (give take, and from) where the endpoint has it"
    local seen = self.total and (" of " .. tostring(self.total)) or ""
    return spec.new_error{ op = spec.op, status = 400, error_code = "result_cap",
        message = "Auth0 pages through the first " .. M.RESULT_CAP .. " results only (read "
            .. self.count .. seen .. "); narrow the query, or " .. advice }
end

-- The next page: its list and the whole answer; nil at the end or after a failure.
function Pager:next_page()
    if self.done then return nil end
    local query = self.query
    if not self.checkpoint and query.page * query.per_page + query.per_page > M.RESULT_CAP
        and self.pages > 0 then
        self.done, self.err = true, cap_error(self)
        return nil
    end
    local answer, err = self.spec.fetch(query)
    if answer == nil or answer == true then
        self.done = true
        if err and err.error_code == "invalid_paging" then err = cap_error(self) end
        self.err = err
        if not err then self.err = self.spec.new_error{ op = self.spec.op,
            error_code = "invalid_response", message = "a page without a body" } end
        return nil
    end
    local items = items_of(answer)
    if not items then
        self.done, self.err = true, self.spec.new_error{ op = self.spec.op,
            error_code = "invalid_response", message = "a page that is not a JSON list or object" }
        return nil
    end
    self.pages = self.pages + 1
    self.count = self.count + #items
    if self.checkpoint then
        local following = type(answer) == "table" and answer.next
        if type(following) == "string" and following ~= "" and #items > 0 then
            if following == query.from then
                -- The same checkpoint again would loop for ever.
                self.done, self.err = true, self.spec.new_error{ op = self.spec.op,
                    error_code = "invalid_response", message = "the answer's next is the "
                        .. "checkpoint just asked for" }
                return items, answer
            end
            query.from = following
        elseif answer[1] ~= nil and #items >= query.take then
            -- /logs style: a plain array; the checkpoint is the last item's id.
            local last = items[#items]
            local id = type(last) == "table" and (last.log_id or last.id)
            if type(id) == "string" then query.from = id else self.done = true end
        else
            self.done = true
        end
    else
        if type(answer.total) == "number" then self.total = answer.total end
        if #items < query.per_page or #items == 0
            or (self.total and self.count >= self.total) then
            self.done = true
        else
            query.page = query.page + 1
        end
    end
    return items, answer
end

-- `for items, answer in pager` over pages.
function Pager:__call()
    return self:next_page()
end

--- Every page's items in one list, or nil and the error.
function Pager:all()
    local out = {}
    for items in self do
        for _, item in ipairs(items) do out[#out + 1] = item end
    end
    if self.err then return nil, self.err end
    return out
end

local Items = {}
Items.__index = Items

--- The item iterator over a pager: `for item, n in each` (n counts from 1); `err`, `total`,
-- `count` read through to the pager.
function M.each(p)
    return setmetatable({ pager = p, list = {}, i = 0, n = 0 }, Items)
end

function Items:__call()
    while self.i >= #self.list do
        local items = self.pager:next_page()
        self.err, self.total = self.pager.err, self.pager.total
        if not items then return nil end
        self.list, self.i = items, 0
    end
    self.i, self.n = self.i + 1, self.n + 1
    return self.list[self.i], self.n
end

function Items:all()
    local out = {}
    for item in self do out[#out + 1] = item end
    if self.err then return nil, self.err end
    return out
end

return M
