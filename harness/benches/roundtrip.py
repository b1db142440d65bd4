#!/usr/bin/env python3
"""The minimal pyserial peer of the round-trip benchmark (roundtrip.rs).

Opens the port, sends pre-encoded frames (given in hex by the benchmark,
so no Python codec is timed) and reads until each answer's 0x00 delimiter.
Prints one latency in microseconds per line for the timed frames.

    roundtrip.py PORT HELLO_HEX N FRAME_HEX [FRAME_HEX ...]
"""
import sys
import time

import serial


def read_frame(port):
    """Bytes up to and including the next 0x00."""
    return port.read_until(b"\x00")


def main():
    path, hello, count, frames = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    frames = [bytes.fromhex(f) for f in frames]
    port = serial.Serial(path, 115200, timeout=1)
    port.reset_input_buffer()
    port.write(b"\x00" + hello)
    # Ack, Identity, Capabilities, Status.
    for _ in range(4):
        read_frame(port)
    out = []
    for i in range(count):
        frame = frames[i % len(frames)]
        start = time.perf_counter_ns()
        port.write(frame)
        answer = read_frame(port)
        out.append((time.perf_counter_ns() - start) // 1000)
        if not answer.endswith(b"\x00"):
            sys.exit(f"no answer to frame {i}")
    sys.stdout.write("\n".join(str(us) for us in out) + "\n")


if __name__ == "__main__":
    main()
