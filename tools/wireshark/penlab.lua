-- penlab.lua: a Wireshark dissector for the penlab pen protocol
-- (protocol/PROTOCOL.md), on the USER0 link type (DLT 147) that
-- `penlab replay --pcapng` writes.
--
-- Each packet holds one frame as it was on the wire: any idle delimiters
-- (or bytes discarded after an oversize run) before it, the COBS-encoded
-- frame, and its 0x00 delimiter (none when the stream ended inside the
-- frame). The direction is in the pcapng packet flags: inbound is pen to
-- host. An empty packet marks the link going away or coming back (its
-- comment says which); sequence tracking starts afresh after it.
--
-- The checks follow PROTOCOL.md §2.3 [R-FRAME-7] in its order, with the
-- error names penlab itself uses (`penlab.error`): oversize, truncated,
-- cobs, too_short, too_long, crc_mismatch, unknown_type, malformed,
-- trailing_bytes. Every error, and every sequence gap or duplicate (§3, per
-- direction), is expert info.
--
-- Install: see tools/wireshark/README.md. Works with Lua 5.2 (Wireshark
-- 3.x, 4.0, 4.2) and 5.4 (4.4 and later).

-- Lua 5.2 has bit32; Wireshark bundles LuaBitOp as `bit`; Lua 5.4 has
-- operators of its own (compiled only there, through load).
local bit = bit32 or bit or load([[return {
    band = function(a, b) return a & b end,
    bxor = function(a, b) return a ~ b end,
    rshift = function(a, n) return (a & 0xFFFFFFFF) >> n end,
    lshift = function(a, n) return (a << n) & 0xFFFFFFFF end,
}]])()

local penlab = Proto("penlab", "penlab pen protocol")

local MAX_ENCODED_FRAME = 258
local MIN_FRAME = 7
local MAX_FRAME = 256
local MAX_STRIKES = 60
local MAX_TEXT = 24

-- Value names, as PROTOCOL.md and penlab's JSON name them.
local TYPE_NAMES = {
    [0x01] = "Hello", [0x02] = "SetDepth", [0x03] = "SetRate", [0x04] = "Start",
    [0x05] = "Stop", [0x06] = "EmergencyStop", [0x07] = "StatusRequest",
    [0x08] = "Heartbeat", [0x80] = "Ack", [0x81] = "Nack", [0x82] = "Identity",
    [0x83] = "Capabilities", [0x84] = "Status", [0x85] = "Telemetry",
    [0x86] = "StrikeBatch", [0x87] = "Pose", [0x88] = "Fault", [0x89] = "Cartridge",
}
local DIRECTIONS = { [0] = "host_to_pen", [1] = "pen_to_host" }
local NACK_REASONS = {
    [1] = "out_of_range", [2] = "wrong_state", [3] = "busy", [4] = "cartridge_locked",
    [5] = "unknown_message", [6] = "malformed", [7] = "no_cartridge",
    [8] = "fault_active", [9] = "unsupported_version",
}
local STATES = {
    [0] = "awaiting_hello", [1] = "idle", [2] = "running", [3] = "faulted",
    [4] = "emergency_stopped",
}
local CARTRIDGE_STATES = { [0] = "absent", [1] = "ready", [2] = "locked" }
local FAULTS = {
    [1] = "motor_stall", [2] = "over_current", [3] = "over_temperature",
    [4] = "depth_drive_jam", [5] = "cartridge_removed_while_running",
    [6] = "low_battery", [7] = "watchdog_expired",
}
local CARTRIDGE_EVENTS = { [1] = "inserted", [2] = "removed", [3] = "reuse_lockout" }
local CRC_STATUS = { [0] = "Bad", [1] = "Good" }

-- Every message: its name, the key penlab's JSON and these field names use,
-- and its fields in wire order. A field is { name, kind, extra }:
-- kind u8/u16/u32/i16/i32, bool, text, enum (closed: other codes are
-- malformed), open (open enum: unknown codes kept), strikes, i32x3, i16x4.
local MESSAGES = {
    [0x01] = { "Hello", "hello", { { "major", "u8" }, { "minor", "u8" } } },
    [0x02] = { "SetDepth", "set_depth", { { "depth_um", "u16" } } },
    [0x03] = { "SetRate", "set_rate", { { "rate_chz", "u16" } } },
    [0x04] = { "Start", "start", {} },
    [0x05] = { "Stop", "stop", {} },
    [0x06] = { "EmergencyStop", "emergency_stop", {} },
    [0x07] = { "StatusRequest", "status_request", {} },
    [0x08] = { "Heartbeat", "heartbeat", {} },
    [0x80] = { "Ack", "ack", { { "ack_seq", "u16" }, { "command", "u8", TYPE_NAMES } } },
    [0x81] = { "Nack", "nack", {
        { "ack_seq", "u16" }, { "command", "u8", TYPE_NAMES }, { "reason", "open", NACK_REASONS },
    } },
    [0x82] = { "Identity", "identity", {
        { "protocol_major", "u8" }, { "protocol_minor", "u8" },
        { "model", "text" }, { "firmware", "text" }, { "serial", "text" },
    } },
    [0x83] = { "Capabilities", "capabilities", {
        { "depth_min_um", "u16" }, { "depth_max_um", "u16" }, { "depth_step_um", "u16" },
        { "labelled_max_depth_um", "u16" }, { "rate_min_chz", "u16" },
        { "rate_max_chz", "u16" }, { "rate_step_chz", "u16" }, { "needle_count", "u8" },
        { "max_current_ma", "u16" }, { "watchdog_timeout_ms", "u16" },
        { "telemetry_period_ms", "u16" }, { "features", "u8" },
    } },
    [0x84] = { "Status", "status", {
        { "state", "enum", STATES }, { "depth_set_um", "u16" }, { "rate_set_chz", "u16" },
        { "cartridge", "enum", CARTRIDGE_STATES }, { "active_faults", "u16" },
    } },
    [0x85] = { "Telemetry", "telemetry", {
        { "time_us", "u32" }, { "depth_um", "u16" }, { "rate_chz", "u16" },
        { "current_ma", "u16" }, { "force_mn", "u16" }, { "battery_pct", "u8" },
        { "battery_mv", "u16" }, { "temperature_dc", "i16" },
    } },
    [0x86] = { "StrikeBatch", "strike_batch", {
        { "first_strike", "u32" }, { "time_us", "u32" }, { "strikes", "strikes" },
    } },
    [0x87] = { "Pose", "pose", {
        { "time_us", "u32" }, { "position_um", "i32x3", { "x", "y", "z" } },
        { "orientation_q15", "i16x4", { "w", "x", "y", "z" } },
    } },
    [0x88] = { "Fault", "fault", {
        { "code", "open", FAULTS }, { "active", "bool" }, { "detail", "u16" },
    } },
    [0x89] = { "Cartridge", "cartridge", {
        { "event", "enum", CARTRIDGE_EVENTS }, { "cartridge_id", "u32" },
        { "needle_count", "u8" },
    } },
}

-- Units, from the field name's suffix (PROTOCOL.md §4).
local UNITS = {
    _um = " (µm)", _chz = " (cHz)", _ma = " (mA)", _mn = " (mN)", _mv = " (mV)",
    _ms = " (ms)", _us = " (µs)", _10us = " (×10 µs)", _dc = " (×0.1 °C)", _pct = " (%)",
    _q15 = " (×1/32767)",
}
local function unit(name)
    local best = ""
    for suffix, text in pairs(UNITS) do
        if name:sub(-#suffix) == suffix and #suffix > #best then best = suffix end
    end
    return UNITS[best] or ""
end

-- Fields ----------------------------------------------------------------

local f = {
    dir = ProtoField.uint8("penlab.dir", "Direction", base.DEC, DIRECTIONS),
    idle = ProtoField.bytes("penlab.idle", "Bytes before the frame (idle delimiters, discarded run)"),
    encoded = ProtoField.bytes("penlab.encoded", "COBS-encoded frame"),
    delimiter = ProtoField.uint8("penlab.delimiter", "Delimiter", base.HEX),
    error = ProtoField.string("penlab.error", "Error"),
    type = ProtoField.uint8("penlab.type", "Type", base.HEX, TYPE_NAMES),
    seq = ProtoField.uint16("penlab.seq", "Sequence number", base.DEC),
    seq_lost = ProtoField.uint16("penlab.seq.lost", "Frames lost before this one", base.DEC),
    seq_duplicate = ProtoField.bool("penlab.seq.duplicate", "Duplicate of the previous frame"),
    seq_expected = ProtoField.uint16("penlab.seq.expected", "Expected sequence number", base.DEC),
    payload = ProtoField.bytes("penlab.payload", "Payload"),
    crc = ProtoField.uint32("penlab.crc", "CRC-32C", base.HEX),
    crc_computed = ProtoField.uint32("penlab.crc.computed", "CRC-32C computed", base.HEX),
    crc_status = ProtoField.uint8("penlab.crc.status", "CRC status", base.DEC, CRC_STATUS),
    text_length = ProtoField.uint8("penlab.text_length", "Text length", base.DEC),
    strike_count = ProtoField.uint8("penlab.strike_batch.count", "Strikes", base.DEC),
    strike = ProtoField.none("penlab.strike", "Strike"),
    strike_offset = ProtoField.uint16("penlab.strike.offset_10us", "offset_10us (×10 µs)", base.DEC),
    strike_depth = ProtoField.uint16("penlab.strike.depth_um", "depth_um (µm)", base.DEC),
    strike_number = ProtoField.uint32("penlab.strike.number", "Stroke number", base.DEC),
    strike_time = ProtoField.uint32("penlab.strike.time_us", "Stroke time (pen uptime, µs)", base.DEC),
    feature_pose = ProtoField.bool("penlab.capabilities.features.pose", "Pose tracker", 8, nil, 0x01),
    feature_force = ProtoField.bool("penlab.capabilities.features.force", "Force sensor", 8, nil, 0x02),
    feature_lockout = ProtoField.bool("penlab.capabilities.features.lockout",
        "Cartridge identity and reuse lockout", 8, nil, 0x04),
    feature_reserved = ProtoField.uint8("penlab.capabilities.features.reserved",
        "Reserved bits (must be 0)", base.HEX, nil, 0xF8),
}
local fault_bits = {}
for code, name in pairs(FAULTS) do
    fault_bits[code] = ProtoField.bool("penlab.status.active_faults." .. name, name, 16, nil,
        bit.lshift(1, code - 1))
    f["fault_bit_" .. code] = fault_bits[code]
end

-- Message fields: penlab.<message>.<field>, as in penlab's JSON.
local mf = {}
local INT_FIELD = {
    u8 = ProtoField.uint8, u16 = ProtoField.uint16, u32 = ProtoField.uint32,
    i16 = ProtoField.int16, i32 = ProtoField.int32,
}
for _, m in pairs(MESSAGES) do
    local key = m[2]
    for _, field in ipairs(m[3]) do
        local name, kind, extra = field[1], field[2], field[3]
        local abbr = "penlab." .. key .. "." .. name
        if INT_FIELD[kind] then
            local display = base.DEC
            if name == "command" or name == "features" or name == "active_faults" then
                display = base.HEX
            end
            mf[abbr] = INT_FIELD[kind](abbr, name .. unit(name), display, extra)
        elseif kind == "enum" or kind == "open" then
            mf[abbr] = ProtoField.uint8(abbr, name, base.DEC, extra)
        elseif kind == "bool" then
            mf[abbr] = ProtoField.uint8(abbr, name, base.DEC, { [0] = "false", [1] = "true" })
        elseif kind == "text" then
            mf[abbr] = ProtoField.string(abbr, name, base.UNICODE)
        elseif kind == "i32x3" or kind == "i16x4" then
            local make = kind == "i32x3" and ProtoField.int32 or ProtoField.int16
            for _, axis in ipairs(extra) do
                local sub = abbr .. "." .. axis
                mf[sub] = make(sub, name .. "." .. axis .. unit(name), base.DEC)
            end
        end
    end
end

local all = {}
for _, v in pairs(f) do all[#all + 1] = v end
for _, v in pairs(mf) do all[#all + 1] = v end
penlab.fields = all

-- Expert info -------------------------------------------------------------

local e = {
    oversize = ProtoExpert.new("penlab.oversize", "More than 258 bytes without a delimiter [R-FRAME-6]",
        expert.group.MALFORMED, expert.severity.ERROR),
    truncated = ProtoExpert.new("penlab.truncated", "The stream ended inside this frame [R-FRAME-9]",
        expert.group.MALFORMED, expert.severity.ERROR),
    cobs = ProtoExpert.new("penlab.cobs", "Invalid COBS encoding [R-FRAME-7]",
        expert.group.MALFORMED, expert.severity.ERROR),
    too_short = ProtoExpert.new("penlab.too_short", "Frame shorter than 7 bytes [R-FRAME-7]",
        expert.group.MALFORMED, expert.severity.ERROR),
    too_long = ProtoExpert.new("penlab.too_long", "Frame longer than 256 bytes [R-FRAME-7]",
        expert.group.MALFORMED, expert.severity.ERROR),
    crc_mismatch = ProtoExpert.new("penlab.crc_mismatch", "CRC-32C mismatch [R-FRAME-2]",
        expert.group.CHECKSUM, expert.severity.ERROR),
    unknown_type = ProtoExpert.new("penlab.unknown_type", "Unknown message type [R-FWD-1]",
        expert.group.UNDECODED, expert.severity.WARN),
    malformed = ProtoExpert.new("penlab.malformed", "Malformed payload [R-FIELD-2]",
        expert.group.MALFORMED, expert.severity.ERROR),
    trailing_bytes = ProtoExpert.new("penlab.trailing_bytes", "Bytes after the last field [R-FIELD-2]",
        expert.group.MALFORMED, expert.severity.ERROR),
    seq_gap = ProtoExpert.new("penlab.seq.gap", "Frames lost before this one [§3]",
        expert.group.SEQUENCE, expert.severity.WARN),
    seq_duplicate = ProtoExpert.new("penlab.seq.dup", "Same sequence number as the previous frame [§3]",
        expert.group.SEQUENCE, expert.severity.WARN),
    seq_restart = ProtoExpert.new("penlab.seq.restart", "The Ack of a Hello must carry seq 0 [R-SEQ-2]",
        expert.group.SEQUENCE, expert.severity.WARN),
    wrong_direction = ProtoExpert.new("penlab.wrong_direction",
        "Type code of the other direction [R-MSG-1]", expert.group.PROTOCOL, expert.severity.WARN),
    link = ProtoExpert.new("penlab.link", "Link marker: the pen went away or came back (see the comment)",
        expert.group.SEQUENCE, expert.severity.NOTE),
}
penlab.experts = { e.oversize, e.truncated, e.cobs, e.too_short, e.too_long, e.crc_mismatch,
    e.unknown_type, e.malformed, e.trailing_bytes, e.seq_gap, e.seq_duplicate, e.seq_restart,
    e.wrong_direction, e.link }

-- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---------------------

local CRC_TABLE = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if bit.band(c, 1) ~= 0 then
            c = bit.bxor(bit.rshift(c, 1), 0x82F63B78)
        else
            c = bit.rshift(c, 1)
        end
    end
    CRC_TABLE[i] = c
end

local function u32(x) return x % 4294967296 end

local function crc32c(bytes, n)
    local c = 0xFFFFFFFF
    for i = 1, n do
        c = bit.bxor(CRC_TABLE[bit.band(bit.bxor(c, bytes[i]), 0xFF)], bit.rshift(c, 8))
    end
    return u32(bit.bxor(c, 0xFFFFFFFF))
end

-- COBS (Cheshire and Baker): nil if the body is not valid COBS.
local function cobs_decode(tvb, start, stop)
    local out = {}
    local i = start
    while i < stop do
        local code = tvb(i, 1):uint()
        if i + code > stop then return nil end
        for j = i + 1, i + code - 1 do out[#out + 1] = tvb(j, 1):uint() end
        i = i + code
        if code < 255 and i < stop then out[#out + 1] = 0 end
    end
    return out
end

-- Rust's str::from_utf8 rules: no overlongs, no surrogates, ≤ U+10FFFF.
local function valid_utf8(bytes, from, to)
    local i = from
    while i <= to do
        local b = bytes[i]
        local n, min
        if b < 0x80 then n, min = 0, 0
        elseif b >= 0xC2 and b <= 0xDF then n, min = 1, 0x80
        elseif b >= 0xE0 and b <= 0xEF then n, min = 2, 0x800
        elseif b >= 0xF0 and b <= 0xF4 then n, min = 3, 0x10000
        else return false end
        if i + n > to then return false end
        local cp = n == 0 and b or bit.band(b, bit.rshift(0x3F, n))
        for k = 1, n do
            local c = bytes[i + k]
            if c < 0x80 or c > 0xBF then return false end
            cp = cp * 64 + (c - 0x80)
        end
        if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return false end
        i = i + n + 1
    end
    return true
end

-- Sequence tracking (first pass), per direction ------------------------------

local last_seq -- direction -> last seq seen
local seq_notes -- frame number -> what its seq means

function penlab.init()
    last_seq = {}
    seq_notes = {}
end

-- Classifies `seq` against the last one from the same side, as penlab's
-- SeqTracker does: in order, a gap (reported once), or a duplicate.
local function observe(dir, seq)
    local last = last_seq[dir]
    last_seq[dir] = seq
    if last == nil then return { kind = "first" } end
    if seq == last then return { kind = "duplicate", last = last } end
    local lost = (seq - last - 1) % 65536
    if lost == 0 then return { kind = "in_order" } end
    return { kind = "gap", lost = lost, last = last, expected = (last + 1) % 65536 }
end

-- Payload fields --------------------------------------------------------------

local function le(bytes, at, n, signed)
    local v = 0
    for k = n - 1, 0, -1 do v = v * 256 + bytes[at + k] end
    if signed and v >= 2 ^ (8 * n - 1) then v = math.floor(v - 2 ^ (8 * n)) end -- an integer in 5.4
    return v
end

local SIZES = { u8 = 1, u16 = 2, u32 = 4, i16 = 2, i32 = 4, enum = 1, open = 1, bool = 1 }

-- Adds the payload's fields to `tree`; returns nil, or an error
-- { code, detail, offset, length }, and a short summary for the Info column.
-- Offsets into `bytes` are 1-based; into `tvb`, 0-based.
local function dissect_payload(msg, bytes, from, to, tvb, tree)
    local key = msg[2]
    local at = from
    local summary = {}
    local function fail(code, detail, len)
        return { code = code, detail = detail, offset = at - 1, length = len or math.max(0, to - at + 1) }
    end
    for _, field in ipairs(msg[3]) do
        local name, kind, extra = field[1], field[2], field[3]
        local abbr = "penlab." .. key .. "." .. name
        local left = to - at + 1
        local size = SIZES[kind]
        if size then
            if left < size then return fail("malformed", name .. ": truncated"), summary end
            local v = le(bytes, at, size, kind == "i16" or kind == "i32")
            if kind == "enum" and extra[v] == nil then
                return fail("malformed", name .. ": invalid value " .. v, 1), summary
            end
            if kind == "bool" and v > 1 then
                return fail("malformed", name .. ": invalid value " .. v, 1), summary
            end
            local range = tvb(at - 1, size)
            local item = tree:add_le(mf[abbr], range)
            if kind == "open" and extra[v] == nil then item:append_text(" (other)") end
            if name == "features" then
                item:add(f.feature_pose, range)
                item:add(f.feature_force, range)
                item:add(f.feature_lockout, range)
                item:add(f.feature_reserved, range)
            elseif name == "active_faults" then
                for code = 1, 7 do item:add_le(fault_bits[code], range) end
            end
            local shown = v
            if (kind == "enum" or kind == "open") and extra[v] then shown = extra[v] end
            if kind == "bool" then shown = v == 1 and "true" or "false" end
            summary[#summary + 1] = name .. "=" .. tostring(shown)
            at = at + size
        elseif kind == "text" then
            if left < 1 then return fail("malformed", name .. ": truncated"), summary end
            local n = bytes[at]
            if n > MAX_TEXT then return fail("malformed", name .. ": invalid value " .. n, 1), summary end
            if left < 1 + n then return fail("malformed", name .. ": truncated"), summary end
            if not valid_utf8(bytes, at + 1, at + n) then
                return fail("malformed", name .. ": not UTF-8", 1 + n), summary
            end
            local text = n > 0 and tvb(at, n):string(ENC_UTF_8) or ""
            local item = tree:add(mf[abbr], tvb(at - 1, 1 + n), text)
            item:add(f.text_length, tvb(at - 1, 1))
            summary[#summary + 1] = name .. "=" .. text
            at = at + 1 + n
        elseif kind == "strikes" then
            if left < 1 then return fail("malformed", name .. ": truncated"), summary end
            local n = bytes[at]
            if n > MAX_STRIKES then return fail("malformed", name .. ": invalid value " .. n, 1), summary end
            if left < 1 + 4 * n then return fail("malformed", name .. ": truncated"), summary end
            local first = le(bytes, from, 4)
            local t0 = le(bytes, from + 4, 4)
            local list = tree:add(f.strike_count, tvb(at - 1, 1 + 4 * n), n)
            for k = 0, n - 1 do
                local p = at + 1 + 4 * k
                local offset, depth = le(bytes, p, 2), le(bytes, p + 2, 2)
                local s = list:add(f.strike, tvb(p - 1, 4))
                s:set_text(string.format("Strike %d: offset %d ×10 µs, depth %d µm",
                    u32(first + k), offset, depth))
                s:add_le(f.strike_offset, tvb(p - 1, 2))
                s:add_le(f.strike_depth, tvb(p + 1, 2))
                s:add(f.strike_number, u32(first + k)):set_generated()
                s:add(f.strike_time, u32(t0 + offset * 10)):set_generated()
            end
            summary[#summary + 1] = "strikes=" .. n
            at = at + 1 + 4 * n
        else -- i32x3, i16x4: fixed arrays with named components
            local width = kind == "i32x3" and 4 or 2
            if left < width * #extra then return fail("malformed", name .. ": truncated"), summary end
            for _, axis in ipairs(extra) do
                tree:add_le(mf[abbr .. "." .. axis], tvb(at - 1, width))
                at = at + width
            end
        end
    end
    if at <= to then
        return fail("trailing_bytes", (to - at + 1) .. " byte(s) after the last field"), summary
    end
    return nil, summary
end

-- The dissector -----------------------------------------------------------------

local function direction(pinfo, msg_type)
    -- pcapng's inbound flag arrives as P2P_DIR_RECV (1): pen to host.
    if pinfo.p2p_dir == 1 then return 1 end
    if pinfo.p2p_dir == 0 then return 0 end
    if msg_type ~= nil then return msg_type >= 0x80 and 1 or 0 end
    return nil
end

local function error_item(tree, pinfo, code, detail, range)
    tree:add(f.error, code):set_generated()
    local item = range and tree:add_tvb_expert_info(e[code], range, code .. ": " .. detail)
        or tree:add_proto_expert_info(e[code], code .. ": " .. detail)
    pinfo.cols.info:append(" [" .. code .. "]")
    return item
end

function penlab.dissector(tvb, pinfo, root)
    pinfo.cols.protocol = "penlab"
    local n = tvb:len()
    local tree = root:add(penlab, tvb())
    if n == 0 then
        -- A marker of the link: the pen went away or came back.
        if not pinfo.visited then last_seq = {} end
        pinfo.cols.info = "link marker (see the packet comment)"
        tree:add_proto_expert_info(e.link)
        return 0
    end

    local delimited = tvb(n - 1, 1):uint() == 0
    local stop = delimited and n - 1 or n
    local start = 0
    for i = stop - 1, 0, -1 do
        if tvb(i, 1):uint() == 0 then start = i + 1; break end
    end
    if start > 0 then tree:add(f.idle, tvb(0, start)) end
    local body = stop > start and tvb(start, stop - start) or nil
    if body then tree:add(f.encoded, body) end
    if delimited then tree:add(f.delimiter, tvb(n - 1, 1)) end

    local dir = direction(pinfo, nil)
    local arrow = dir == 1 and "pen → host" or (dir == 0 and "host → pen" or "?")
    pinfo.cols.info = arrow

    local held = stop - start
    if held > MAX_ENCODED_FRAME then
        if dir then tree:add(f.dir, dir):set_generated() end
        error_item(tree, pinfo, "oversize", held .. " bytes", body)
        return n
    end
    if not delimited then
        if dir then tree:add(f.dir, dir):set_generated() end
        error_item(tree, pinfo, "truncated", "stream ended " .. held .. " byte(s) into a frame", body)
        return n
    end
    local bytes = cobs_decode(tvb, start, stop)
    if bytes == nil then
        if dir then tree:add(f.dir, dir):set_generated() end
        error_item(tree, pinfo, "cobs", "invalid COBS encoding in a " .. held .. "-byte frame", body)
        return n
    end

    local ba = ByteArray.new()
    ba:set_size(#bytes)
    for i = 1, #bytes do ba:set_index(i - 1, bytes[i]) end
    local frame = ba:tvb("Decoded frame")
    local len = #bytes
    if len < MIN_FRAME or len > MAX_FRAME then
        if dir then tree:add(f.dir, dir):set_generated() end
        local code = len < MIN_FRAME and "too_short" or "too_long"
        error_item(tree, pinfo, code, len .. "-byte frame", frame())
        return n
    end

    local msg_type = bytes[1]
    local seq = le(bytes, 2, 2)
    dir = direction(pinfo, msg_type)
    local side = dir == 1 and "pen" or "host"
    tree:add(f.dir, dir):set_generated()
    tree:add(f.type, frame(0, 1))
    tree:add_le(f.seq, frame(1, 2))
    local payload_len = len - 7
    local payload = payload_len > 0 and frame(3, payload_len) or nil
    local received = le(bytes, len - 3, 4)
    local computed = crc32c(bytes, len - 4)
    local crc_item = tree:add_le(f.crc, frame(len - 4, 4))
    crc_item:add(f.crc_computed, computed):set_generated()
    crc_item:add(f.crc_status, computed == received and 1 or 0):set_generated()
    local msg = MESSAGES[msg_type]
    local name = msg and msg[1] or string.format("type 0x%02x", msg_type)
    pinfo.cols.info = string.format("%s  seq %d  %s", arrow, seq, name)
    if computed ~= received then
        error_item(tree, pinfo, "crc_mismatch",
            string.format("received 0x%08x, computed 0x%08x", received, computed), frame(len - 4, 4))
        return n
    end

    -- Sound frame: its seq counts (§3).
    if not pinfo.visited then
        if msg_type == 0x01 and side == "host" then last_seq.host = nil end
        local hello_ack = msg_type == 0x80 and side == "pen" and payload_len >= 3 and bytes[6] == 0x01
        if hello_ack then last_seq.pen = nil end
        local note = observe(side, seq)
        note.hello_ack = hello_ack
        seq_notes[pinfo.number] = note
    end
    local note = seq_notes[pinfo.number]
    if note then
        if note.kind == "gap" then
            tree:add(f.seq_lost, note.lost):set_generated()
            tree:add(f.seq_expected, note.expected):set_generated()
            tree:add_proto_expert_info(e.seq_gap, string.format(
                "%d frame(s) from the %s lost before this one (seq %d after %d)",
                note.lost, side, seq, note.last))
            pinfo.cols.info:append(string.format(" [%d lost]", note.lost))
        elseif note.kind == "duplicate" then
            tree:add(f.seq_duplicate, true):set_generated()
            tree:add_proto_expert_info(e.seq_duplicate, string.format(
                "duplicate: the %s sent seq %d twice in a row", side, seq))
            pinfo.cols.info:append(" [duplicate]")
        end
        if note.hello_ack and seq ~= 0 then
            tree:add_proto_expert_info(e.seq_restart)
        end
    end

    if (msg_type >= 0x80) ~= (side == "pen") then
        tree:add_proto_expert_info(e.wrong_direction)
    end
    if msg == nil then
        if payload then tree:add(f.payload, payload) end
        error_item(tree, pinfo, "unknown_type", string.format("type code 0x%02x", msg_type), frame(0, 1))
        return n
    end
    tree:append_text(string.format(", %s, seq %d", name, seq))
    local body_tree = tree
    if payload then body_tree = tree:add(f.payload, payload) end
    local err, summary = dissect_payload(msg, bytes, 4, len - 4, frame, body_tree)
    if #summary > 0 then pinfo.cols.info:append("  " .. table.concat(summary, " ")) end
    if err then
        local range = err.length > 0 and frame(err.offset, err.length) or frame(0, 1)
        error_item(tree, pinfo, err.code, err.detail, range)
    end
    return n
end

-- USER0 (DLT 147) carries the penlab link.
local encaps = wtap_encaps or wtap
DissectorTable.get("wtap_encap"):add(encaps.USER0, penlab)
