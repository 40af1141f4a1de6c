#!/usr/bin/env python3
"""The lab's handshake check (fplab.check.handshake_rtts) on hand-made captures: a plain handshake
is measured; one whose SYN was sent again is left out (Karn's rule), however fast its SYN-ACK."""
import os
import struct
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
from fplab.check import handshake_rtts  # noqa: E402


def frame(src, dst, sport, dport, flags):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes(src), bytes(dst))
    return b"\0" * 12 + b"\x08\x00" + ip + tcp


def write(path, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, data in records:
            f.write(struct.pack("<IIII", int(t), round((t % 1) * 1e6), len(data), len(data)) + data)


c, s = [10, 0, 0, 1], [10, 0, 0, 2]
records = [
    (100.000, frame(c, s, 40000, 443, 0x02)),  # plain: 20 ms
    (100.020, frame(s, c, 443, 40000, 0x12)),
    (200.000, frame(c, s, 40001, 443, 0x02)),  # SYN, its SYN-ACK lost, SYN again at +1 s
    (201.000, frame(c, s, 40001, 443, 0x02)),
    (201.003, frame(s, c, 443, 40001, 0x12)),  # the server's own retransmission: 3 ms after the SYN
    (201.020, frame(s, c, 443, 40001, 0x12)),
    (300.000, frame(c, s, 40002, 443, 0x02)),  # the port used again later: measured afresh
    (300.030, frame(s, c, 443, 40002, 0x12)),
]
with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "h.pcap")
    write(p, records)
    got = [round(x, 1) for x in handshake_rtts(p)]
want = [20.0, 30.0]
if got != want:
    print("check_handshakes: measured %s, want %s" % (got, want))
    sys.exit(1)
print("check_handshakes: %s ms" % got)
