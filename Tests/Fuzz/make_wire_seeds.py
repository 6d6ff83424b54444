#!/usr/bin/env python3
"""Writes seed inputs for FuzzWireDecoder: valid FedArena wire messages (format version 2),
encoded here independently of the Swift codec, each prefixed with the fuzzer's limits byte.

Usage: make_wire_seeds.py OUT_DIR
"""
import os
import struct
import sys
import zlib

def frame(kind, payload):
    header = b"FARW" + struct.pack("<HBBI", 2, kind, 0, len(payload))
    crc = zlib.crc32(header + payload) & 0xFFFFFFFF
    return header + struct.pack("<I", crc) + payload

def s(text):
    data = text.encode("utf-8")
    return struct.pack("<I", len(data)) + data

def ids(values):
    return struct.pack("<I", len(values)) + b"".join(struct.pack("<q", v) for v in values)

def vec(values):
    return struct.pack("<I", len(values)) + b"".join(struct.pack("<f", v) for v in values)

def messages():
    yield 0x00, frame(1, struct.pack("<q", 2) + ids([4, 9]) + s("host pid 1"))
    yield 0x00, frame(2, s("run-1") + struct.pack("<I", 2) + b"{}" + struct.pack("<q", 3))
    yield 0x83, frame(3, struct.pack("<qQQ", 1, 42, 0xDEADBEEF) + ids([0, 1]) + vec([0.5, -1.0, 2.0]))
    update = struct.pack("<qQqqd", 1, 0xDEADBEEF, 4, 100, 0.25) + vec([0.1, 0.2, 0.3])
    update += struct.pack("<I", 1) + s("norm") + struct.pack("<d", 1.5)
    yield 0x83, frame(4, update + b"\x00\x00")
    sketch = b"\x01" + struct.pack("<q", 2) + vec([3.0, 1.0]) + vec([0.1, 0.2, 0.3, 0.4])
    audit = b"\x01" + struct.pack("<qq", 2, 2) + vec([0.0, 1.0]) + vec([0.0, 0.5, 1.0, 0.25])
    yield 0x83, frame(4, update + sketch + audit)
    yield 0x40, frame(5, s("run complete"))
    yield 0x00, frame(6, struct.pack("<H", 7) + s("refused"))

def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for index, (limits, message) in enumerate(messages()):
        with open(os.path.join(out, "seed-%02d" % index), "wb") as handle:
            handle.write(bytes([limits]) + message)

if __name__ == "__main__":
    main()
