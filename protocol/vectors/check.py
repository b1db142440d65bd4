#!/usr/bin/env python3
"""Independent checker for the penlab protocol test vectors.

Written from PROTOCOL.md alone, sharing no code with the Rust crate: its own
COBS decoder, its own bit-by-bit CRC-32C, its own table of message layouts.
It decodes every vector's wire bytes and compares the result with the
vector's expectations, and checks that every vector shows resynchronisation
as §13 requires (each error followed by a good frame; `truncated` last,
after one). Exit status 0 when every vector agrees.

    python3 protocol/vectors/check.py protocol/vectors/vectors.json
"""
import json
import struct
import sys

MAX_FRAME = 256
MAX_ENCODED = MAX_FRAME + (MAX_FRAME + 253) // 254


def crc32c(data: bytes) -> int:
    """CRC-32/ISCSI: reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def cobs_decode(data: bytes):
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0 or i + code > len(data) + (1 if code == 1 else 0):
            return None
        block = data[i + 1:i + code]
        if len(block) != code - 1:
            return None
        out += block
        i += code
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


class Malformed(Exception):
    def __init__(self, field, problem):
        super().__init__(field)
        self.field, self.problem = field, problem


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n, field):
        if self.pos + n > len(self.data):
            raise Malformed(field, "truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


NACK_REASONS = ["OutOfRange", "WrongState", "Busy", "CartridgeLocked", "UnknownMessage",
                "Malformed", "NoCartridge", "FaultActive", "UnsupportedVersion"]
FAULT_CODES = ["MotorStall", "OverCurrent", "OverTemperature", "DepthDriveJam",
               "CartridgeRemovedWhileRunning", "LowBattery", "WatchdogExpired"]
DEVICE_STATES = ["AwaitingHello", "Idle", "Running", "Faulted", "EmergencyStopped"]
CARTRIDGE_STATES = ["Absent", "Ready", "Locked"]
CARTRIDGE_EVENTS = {1: "Inserted", 2: "Removed", 3: "ReuseLockout"}

INTS = {"u8": "<B", "u16": "<H", "u32": "<I", "i16": "<h", "i32": "<i"}


def field(r: Reader, name, kind):
    if kind in INTS:
        fmt = INTS[kind]
        return struct.unpack(fmt, r.take(struct.calcsize(fmt), name))[0]
    if kind == "bool":
        v = r.take(1, name)[0]
        if v > 1:
            raise Malformed(name, "invalid_value")
        return v == 1
    if kind == "text":
        n = r.take(1, name)[0]
        if n > 24:
            raise Malformed(name, "invalid_value")
        raw = r.take(n, name)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(name, "not_utf8")
    if kind.startswith("closed:"):
        table = CLOSED[kind[7:]]
        v = r.take(1, name)[0]
        if v not in table:
            raise Malformed(name, "invalid_value")
        return snake(table[v])
    if kind.startswith("open:"):
        names = OPEN[kind[5:]]
        v = r.take(1, name)[0]
        return snake(names[v - 1]) if 1 <= v <= len(names) else {"other": v}
    if kind.startswith("array:"):
        _, inner, count = kind.split(":")
        return [field(r, name, inner) for _ in range(int(count))]
    if kind == "strikes":
        n = r.take(1, name)[0]
        if n > 60:
            raise Malformed(name, "invalid_value")
        return [{"offset_10us": field(r, name, "u16"), "depth_um": field(r, name, "u16")}
                for _ in range(n)]
    raise AssertionError(kind)


CLOSED = {"state": dict(enumerate(DEVICE_STATES)), "cartridge": dict(enumerate(CARTRIDGE_STATES)),
          "cartridge_event": CARTRIDGE_EVENTS}
OPEN = {"nack": NACK_REASONS, "fault": FAULT_CODES}

# type code -> (serde name, [(field, kind)]) ; None fields = unit message
MESSAGES = {
    0x01: ("hello", [("major", "u8"), ("minor", "u8")]),
    0x02: ("set_depth", [("depth_um", "u16")]),
    0x03: ("set_rate", [("rate_chz", "u16")]),
    0x04: ("start", None), 0x05: ("stop", None), 0x06: ("emergency_stop", None),
    0x07: ("status_request", None), 0x08: ("heartbeat", None),
    0x80: ("ack", [("ack_seq", "u16"), ("command", "u8")]),
    0x81: ("nack", [("ack_seq", "u16"), ("command", "u8"), ("reason", "open:nack")]),
    0x82: ("identity", [("protocol_major", "u8"), ("protocol_minor", "u8"), ("model", "text"),
                        ("firmware", "text"), ("serial", "text")]),
    0x83: ("capabilities", [("depth_min_um", "u16"), ("depth_max_um", "u16"),
                            ("depth_step_um", "u16"), ("labelled_max_depth_um", "u16"),
                            ("rate_min_chz", "u16"), ("rate_max_chz", "u16"),
                            ("rate_step_chz", "u16"), ("needle_count", "u8"),
                            ("max_current_ma", "u16"), ("watchdog_timeout_ms", "u16"),
                            ("telemetry_period_ms", "u16"), ("features", "u8")]),
    0x84: ("status", [("state", "closed:state"), ("depth_set_um", "u16"), ("rate_set_chz", "u16"),
                      ("cartridge", "closed:cartridge"), ("active_faults", "u16")]),
    0x85: ("telemetry", [("time_us", "u32"), ("depth_um", "u16"), ("rate_chz", "u16"),
                         ("current_ma", "u16"), ("force_mn", "u16"), ("battery_pct", "u8"),
                         ("battery_mv", "u16"), ("temperature_dc", "i16")]),
    0x86: ("strike_batch", [("first_strike", "u32"), ("time_us", "u32"), ("strikes", "strikes")]),
    0x87: ("pose", [("time_us", "u32"), ("position_um", "array:i32:3"),
                    ("orientation_q15", "array:i16:4")]),
    0x88: ("fault", [("code", "open:fault"), ("active", "bool"), ("detail", "u16")]),
    0x89: ("cartridge", [("event", "closed:cartridge_event"), ("cartridge_id", "u32"),
                         ("needle_count", "u8")]),
}


def decode_frame(encoded: bytes):
    if len(encoded) > MAX_ENCODED:
        return {"error": "oversize"}
    raw = cobs_decode(encoded)
    if raw is None:
        return {"error": "cobs"}
    if len(raw) < 7:
        return {"error": "too_short"}
    if len(raw) > MAX_FRAME:
        return {"error": "too_long"}
    if crc32c(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]:
        return {"error": "crc_mismatch"}
    msg_type, seq = raw[0], struct.unpack("<H", raw[1:3])[0]
    payload = raw[3:-4]
    if msg_type not in MESSAGES:
        return {"error": "unknown_type"}
    name, fields = MESSAGES[msg_type]
    r = Reader(payload)
    try:
        body = None if fields is None else {f: field(r, f, k) for f, k in fields}
    except Malformed:
        return {"error": "malformed"}
    if r.pos != len(payload):
        return {"error": "trailing_bytes"}
    return {"packet": {"seq": seq, "message": name if body is None else {name: body}}}


def decode_stream(wire: bytes):
    *frames, tail = wire.split(b"\x00")
    out = [decode_frame(f) for f in frames if f]
    if tail:
        out.append({"error": "oversize" if len(tail) > MAX_ENCODED else "truncated"})
    return out


def resync_problem(results):
    """PROTOCOL.md §13: every error is followed by a good frame, which shows
    the decoder back in step; `truncated` can only end a stream, so it comes
    last, after a good frame. Returns what breaks the rule, or None."""
    for i, r in enumerate(results):
        if "error" not in r:
            continue
        if r["error"] == "truncated":
            if i != len(results) - 1:
                return "`truncated` before the end of the stream"
            if i == 0 or "packet" not in results[i - 1]:
                return "`truncated` without a good frame before it"
        elif i + 1 >= len(results) or "packet" not in results[i + 1]:
            return f"`{r['error']}` not followed by a good frame"
    return None


def main(path):
    doc = json.load(open(path))
    failures = 0
    for v in doc["vectors"]:
        got = decode_stream(bytes.fromhex(v["wire"]))
        want = [{"error": e["error"]} if "error" in e else e for e in v["expect"]]
        if got != want:
            failures += 1
            print(f"FAIL {v['name']}:\n  got  {got}\n  want {want}")
            continue
        problem = resync_problem(got)
        if problem:
            failures += 1
            print(f"FAIL {v['name']}: {problem} (PROTOCOL.md §13)")
    print(f"{len(doc['vectors']) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "protocol/vectors/vectors.json"))
