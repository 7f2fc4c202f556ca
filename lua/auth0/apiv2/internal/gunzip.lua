--- Unpacks gzip (RFC 1952) around DEFLATE (RFC 1951) in plain Lua, for the files of Auth0's
-- export jobs: the same code on Lua 5.1-5.4, LuaJIT and inside nginx, with no C library to
-- install. Written after zlib's puff.c (canonical Huffman codes decoded bit by bit), with
-- arithmetic instead of bit operators (Lua 5.1 has none). Bounded: the output may not exceed
-- `max_bytes`, so a small hostile file cannot grow into gigabytes. Each member's ISIZE is
-- checked; its CRC-32 is not (it would need bit operations to be fast; the download came over
-- TLS, and a corrupt stream is caught by the DEFLATE structure or ISIZE in practice).
local M = {}

local byte, char, sub = string.byte, string.char, string.sub
local concat = table.concat
local floor = math.floor
local unpack = table.unpack or unpack   -- luacheck: ignore 143

M.MAX_BYTES = 256 * 1024 * 1024
local WINDOW = 32768
local FLUSH = 4096      -- bytes per string.char call (well below Lua's C stack limit)
local MAXBITS = 15

local POW2 = {}
for i = 0, 31 do POW2[i] = 2 ^ i end

-- Length and distance codes: base values and extra bits (RFC 1951 3.2.5).
local LEN_BASE = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
    67, 83, 99, 115, 131, 163, 195, 227, 258 }
local LEN_EXTRA = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
    5, 5, 5, 5, 0 }
local DIST_BASE = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513,
    769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 }
local DIST_EXTRA = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
    11, 11, 12, 12, 13, 13 }
-- The order in which code length code lengths are sent.
local CL_ORDER = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 }

local Failure = {}

local function fail(message)
    error(setmetatable({ message = message }, Failure), 0)
end

-- A Huffman table from code lengths lengths[0..n-1]: count[len] and symbols in code order.
local function huffman(lengths, n)
    local count, offs, symbol = {}, {}, {}
    for len = 0, MAXBITS do count[len] = 0 end
    for s = 0, n - 1 do count[lengths[s]] = count[lengths[s]] + 1 end
    local left = 1
    for len = 1, MAXBITS do
        left = left * 2 - count[len]
        if left < 0 then fail("over-subscribed huffman code") end
    end
    offs[1] = 0
    for len = 1, MAXBITS - 1 do offs[len + 1] = offs[len] + count[len] end
    for s = 0, n - 1 do
        local len = lengths[s]
        if len ~= 0 then
            symbol[offs[len]] = s
            offs[len] = offs[len] + 1
        end
    end
    return { count = count, symbol = symbol }
end

local FIXED_LIT, FIXED_DIST
do
    local l = {}
    for s = 0, 143 do l[s] = 8 end
    for s = 144, 255 do l[s] = 9 end
    for s = 256, 279 do l[s] = 7 end
    for s = 280, 287 do l[s] = 8 end
    FIXED_LIT = huffman(l, 288)
    local d = {}
    for s = 0, 29 do d[s] = 5 end
    FIXED_DIST = huffman(d, 30)
end

--- Unpacks a gzip file (one or more members).
-- @tparam string data the file's bytes
-- @tparam[opt] number max_bytes the most output accepted (default M.MAX_BYTES)
-- @treturn string the unpacked bytes
-- @return[2] nil
-- @treturn[2] string what is wrong, e.g. "gunzip: not a gzip file"
function M.gunzip(data, max_bytes)
    max_bytes = max_bytes or M.MAX_BYTES
    local pos, len = 1, #data
    local bitbuf, bitcnt = 0, 0
    local window, wpos = {}, 0   -- the last 32 KiB of output: a ring indexed by wpos % WINDOW
    local pending, npending = {}, 0
    local chunks = {}
    local total = 0

    local function need(n)
        while bitcnt < n do
            if pos > len then fail("unexpected end of data") end
            bitbuf = bitbuf + byte(data, pos) * POW2[bitcnt]
            pos = pos + 1
            bitcnt = bitcnt + 8
        end
    end

    local function bits(n)
        need(n)
        local p = POW2[n]
        local v = bitbuf % p
        bitbuf = (bitbuf - v) / p
        bitcnt = bitcnt - n
        return v
    end

    local function emit(b)
        window[wpos % WINDOW] = b
        wpos = wpos + 1
        npending = npending + 1
        pending[npending] = b
        if npending == FLUSH then
            chunks[#chunks + 1] = char(unpack(pending, 1, npending))
            npending = 0
            total = total + FLUSH
            if total > max_bytes then
                fail("the unpacked data exceeds " .. max_bytes .. " bytes")
            end
        end
    end

    local function decode(h)
        local code, first, index = 0, 0, 0
        local count, symbol = h.count, h.symbol
        for l = 1, MAXBITS do
            if bitcnt == 0 then need(1) end
            local bit = bitbuf % 2
            bitbuf = (bitbuf - bit) / 2
            bitcnt = bitcnt - 1
            code = code + bit
            local c = count[l]
            if code - c < first then return symbol[index + (code - first)] end
            index = index + c
            first = (first + c) * 2
            code = code * 2
        end
        fail("invalid huffman code")
    end

    local function codes(lit, dist)
        while true do
            local s = decode(lit)
            if s < 256 then
                emit(s)
            elseif s == 256 then
                return
            else
                s = s - 256
                if s > 29 then fail("invalid length code") end
                local length = LEN_BASE[s] + bits(LEN_EXTRA[s])
                local d = decode(dist) + 1
                if d > 30 then fail("invalid distance code") end
                local distance = DIST_BASE[d] + bits(DIST_EXTRA[d])
                if distance > wpos or distance > WINDOW then fail("distance too far back") end
                for _ = 1, length do emit(window[(wpos - distance) % WINDOW]) end
            end
        end
    end

    local function stored()
        bitbuf, bitcnt = 0, 0       -- drop the bits left in the current byte
        if pos + 3 > len then fail("unexpected end of data") end
        local a, b, c, d = byte(data, pos, pos + 3)
        local n = a + b * 256
        if n ~= 65535 - (c + d * 256) then fail("stored block length mismatch") end
        pos = pos + 4
        if pos + n - 1 > len then fail("unexpected end of data") end
        for i = pos, pos + n - 1 do emit(byte(data, i)) end
        pos = pos + n
    end

    local function dynamic()
        local nlen, ndist, ncode = bits(5) + 257, bits(5) + 1, bits(4) + 4
        if nlen > 286 or ndist > 30 then fail("bad counts") end
        local lengths = {}
        for i = 0, 18 do lengths[i] = 0 end
        for i = 1, ncode do lengths[CL_ORDER[i]] = bits(3) end
        local lencode = huffman(lengths, 19)
        local all, index = {}, 0
        while index < nlen + ndist do
            local sym = decode(lencode)
            if sym < 16 then
                all[index] = sym
                index = index + 1
            else
                local value, times = 0
                if sym == 16 then
                    if index == 0 then fail("repeat with no first length") end
                    value, times = all[index - 1], 3 + bits(2)
                elseif sym == 17 then
                    times = 3 + bits(3)
                else
                    times = 11 + bits(7)
                end
                if index + times > nlen + ndist then fail("too many lengths") end
                for _ = 1, times do
                    all[index] = value
                    index = index + 1
                end
            end
        end
        if all[256] == 0 then fail("no end-of-block code") end
        local lit, dist = {}, {}
        for i = 0, nlen - 1 do lit[i] = all[i] end
        for i = 0, ndist - 1 do dist[i] = all[nlen + i] end
        codes(huffman(lit, nlen), huffman(dist, ndist))
    end

    local function skip_zero_terminated()
        local e = data:find("\0", pos, true)
        if not e then fail("unterminated header field") end
        pos = e + 1
    end

    local function member()
        if len - pos + 1 < 18 then fail("not a gzip file") end
        local id1, id2, cm, flg = byte(data, pos, pos + 3)
        if id1 ~= 31 or id2 ~= 139 then fail("not a gzip file") end
        if cm ~= 8 then fail("unknown compression method") end
        pos = pos + 10
        if floor(flg / 4) % 2 == 1 then          -- FEXTRA
            local a, b = byte(data, pos, pos + 1)
            pos = pos + 2 + a + b * 256
        end
        if floor(flg / 8) % 2 == 1 then skip_zero_terminated() end    -- FNAME
        if floor(flg / 16) % 2 == 1 then skip_zero_terminated() end   -- FCOMMENT
        if floor(flg / 2) % 2 == 1 then pos = pos + 2 end               -- FHCRC
        local start = wpos
        bitbuf, bitcnt = 0, 0
        repeat
            local last = bits(1)
            local kind = bits(2)
            if kind == 0 then stored()
            elseif kind == 1 then codes(FIXED_LIT, FIXED_DIST)
            elseif kind == 2 then dynamic()
            else fail("invalid block type") end
        until last == 1
        bitbuf, bitcnt = 0, 0
        if pos + 7 > len then fail("missing gzip trailer") end
        local a, b, c, d = byte(data, pos + 4, pos + 7)
        if (wpos - start) % 4294967296 ~= a + b * 256 + c * 65536 + d * 16777216 then
            fail("length mismatch (corrupt file)")
        end
        pos = pos + 8
    end

    local ok, err = pcall(function()
        repeat member() until pos > len or sub(data, pos) == string.rep("\0", len - pos + 1)
        if npending > 0 then chunks[#chunks + 1] = char(unpack(pending, 1, npending)) end
        if total + npending > max_bytes then
            fail("the unpacked data exceeds " .. max_bytes .. " bytes")
        end
    end)
    if not ok then
        if getmetatable(err) == Failure then return nil, "gunzip: " .. err.message end
        error(err, 0)
    end
    return concat(chunks)
end

return M
