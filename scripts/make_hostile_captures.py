#!/usr/bin/env python3
"""Captures that stress memory, for docs/reliability.md's bounds (scripts/measure_memory.sh).

  make_hostile_captures.py OUT_DIR [--flows N] [--packets M] [--zeros-gib G]

writes, in OUT_DIR:
  many_flows.pcap    N one-packet UDP flows, all distinct (raw IPv4 link type), 1 ms apart
  one_flow.pcap      M packets of one UDP flow, 100 us apart
  absurd_lengths.pcap  a header with snaplen 2^32-1 and a record claiming 4 GiB
  zeros.bin          G GiB of zeros (a sparse file: no disk used)
Needs numpy. Deterministic: the same options give the same bytes.
"""
import argparse
import os
import struct

import numpy as np

LINKTYPE_RAW = 101


def header(f, snaplen=65535):
    f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, snaplen, LINKTYPE_RAW))  # nanosecond pcap


def udp_records(n, src, dst, sport, dport, t_ns):
    """n records of 28-byte IPv4/UDP packets; src, dst, sport, dport, t_ns: arrays or scalars."""
    rec = np.dtype([("sec", "<u4"), ("nsec", "<u4"), ("caplen", "<u4"), ("len", "<u4"),
                    ("vihl", "u1"), ("tos", "u1"), ("tot", ">u2"), ("id", ">u2"), ("frag", ">u2"),
                    ("ttl", "u1"), ("proto", "u1"), ("csum", ">u2"), ("src", ">u4"), ("dst", ">u4"),
                    ("sport", ">u2"), ("dport", ">u2"), ("ulen", ">u2"), ("ucsum", ">u2")])
    a = np.zeros(n, dtype=rec)
    a["sec"] = t_ns // 1_000_000_000
    a["nsec"] = t_ns % 1_000_000_000
    a["caplen"] = 28
    a["len"] = 28 + 100
    a["vihl"] = 0x45
    a["tot"] = 128
    a["ttl"] = 64
    a["proto"] = 17
    a["src"], a["dst"], a["sport"], a["dport"] = src, dst, sport, dport
    a["ulen"] = 108
    return a.tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--flows", type=int, default=2_000_000)
    ap.add_argument("--packets", type=int, default=20_000_000)
    ap.add_argument("--zeros-gib", type=int, default=4)
    o = ap.parse_args()
    os.makedirs(o.out, exist_ok=True)
    t0 = 1_600_000_000 * 1_000_000_000
    chunk = 1_000_000
    with open(os.path.join(o.out, "many_flows.pcap"), "wb") as f:
        header(f)
        for s in range(0, o.flows, chunk):
            i = np.arange(s, min(o.flows, s + chunk), dtype=np.uint64)
            f.write(udp_records(len(i), 0x0A000000 + (i >> 16), 0x0B000001, 1024 + (i & 0xFFFF) % 64000, 53,
                                t0 + i * 1_000_000))
    with open(os.path.join(o.out, "one_flow.pcap"), "wb") as f:
        header(f)
        for s in range(0, o.packets, chunk):
            i = np.arange(s, min(o.packets, s + chunk), dtype=np.uint64)
            f.write(udp_records(len(i), 0x0A000001, 0x0B000001, 5000, 443, t0 + i * 100_000))
    with open(os.path.join(o.out, "absurd_lengths.pcap"), "wb") as f:
        header(f, snaplen=0xFFFFFFFF)
        f.write(struct.pack("<IIII", 1_600_000_000, 0, 0xFFFFFFFF, 0xFFFFFFFF) + b"\x45" + b"\0" * 27)
    with open(os.path.join(o.out, "zeros.bin"), "wb") as f:
        f.truncate(o.zeros_gib << 30)


if __name__ == "__main__":
    main()
