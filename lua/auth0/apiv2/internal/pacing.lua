--- Rate limits at tenant scale, for one client: pacing by `x-ratelimit-remaining` (spread the
-- calls left in the window over the time until `x-ratelimit-reset`, and wait for the reset
-- when none is left) and the waiting mode (a 429 is waited out until the reset instead of
-- failing once the retries are spent, within a total wait per call). Both are opt-in:
-- `management.new{ pace = true, wait_for_reset = SECONDS }`. Auth0's limit is per tenant and
-- this state is per client (per nginx worker), so pacing only lowers the number of 429s; the
-- waiting mode is what makes a bulk loop finish.
local M = {}

local type, tonumber, match, setmetatable = type, tonumber, string.match, setmetatable

-- Start spreading calls when fewer than this share of the window's calls is left.
M.PACE_SHARE = 0.2
M.PACE_FLOOR = 2            -- ... or fewer than this many, whatever the limit
M.MARGIN = 0.01             -- s added to a wait for the reset: the server's clock rounds

local function number(value)
    local text = type(value) == "string" and match(value, "^%s*(%d+%.?%d*)%s*$")
    return text and tonumber(text) or nil
end

local Pacer = {}
Pacer.__index = Pacer

--- A pacer.
-- @tparam table opts `pace` (boolean), `wait_for_reset` (seconds, the most a call may wait in
--   total for resets; 0 or nil: off), `now`, `sleep`, `max_wait` (s: the wait when a 429
--   names no reset)
function M.new(opts)
    return setmetatable({ pace = opts.pace == true, budget = opts.wait_for_reset or 0,
        now = opts.now, sleep = opts.sleep, max_wait = opts.max_wait }, Pacer)
end

--- Before an attempt: waits as the last answer's rate-limit headers advise.
function Pacer:before()
    local reset, remaining = self.reset, self.remaining
    if not self.pace or not reset or not remaining then return end
    local left = reset - self.now()
    if left <= 0 then
        self.remaining = nil
        return
    end
    if remaining <= 0 then
        self.remaining = nil
        self.sleep(left + M.MARGIN)
    elseif remaining < M.PACE_FLOOR or (self.limit and remaining < self.limit * M.PACE_SHARE) then
        self.sleep(left / (remaining + 1))
    end
end

--- After an answer: remembers its rate-limit headers.
function Pacer:after(response)
    local headers = response.headers or {}
    local remaining = number(headers["x-ratelimit-remaining"])
    if remaining then
        self.remaining = remaining
        self.limit = number(headers["x-ratelimit-limit"])
        self.reset = number(headers["x-ratelimit-reset"])
    end
end

--- In the waiting mode, how long to wait after a 429 before sending the request again, or
-- nil when the mode is off or the call's budget would be exceeded.
-- @tparam table response the 429
-- @tparam number waited seconds this call has already waited for resets
function Pacer:wait_for(response, waited)
    if self.budget <= 0 then return nil end
    local headers = response.headers or {}
    local wait = number(headers["retry-after"])
    local reset = number(headers["x-ratelimit-reset"])
    if reset then
        local until_reset = reset - self.now() + M.MARGIN
        if not wait or until_reset > wait then wait = until_reset end
    end
    if not wait then wait = self.max_wait end
    if wait < M.MARGIN then wait = M.MARGIN end
    if waited + wait > self.budget then return nil end
    self.remaining = nil
    return wait
end

return M
