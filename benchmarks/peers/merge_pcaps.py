#!/usr/bin/env python3
"""Merges classic pcap files by timestamp into one nanosecond pcap (Ethernet), where mergecap is absent.
Usage: merge_pcaps.py OUT IN.pcap... [--copies N]   (N > 1: the merge N times, each copy a day later)"""
import heapq
import struct
import sys


def records(path):
    with open(path, 'rb') as f:
        head = f.read(24)
        magic = struct.unpack('<I', head[:4])[0]
        order = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        if struct.unpack(order + 'I', head[20:24])[0] != 1:
            sys.exit(f'{path}: not Ethernet')
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, wire = struct.unpack(order + 'IIII', h)
            frac = frac if nano else frac * 1000
            yield sec * 10**9 + frac, sec, frac, wire, f.read(caplen)


def main():
    args = sys.argv[1:]
    copies = 1
    if '--copies' in args:
        i = args.index('--copies')
        copies = int(args[i + 1])
        del args[i:i + 2]
    out, inputs = args[0], args[1:]
    merged = list(heapq.merge(*(records(p) for p in inputs), key=lambda r: r[0]))
    with open(out, 'wb') as o:
        o.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
        for k in range(copies):
            for _, sec, frac, wire, data in merged:
                o.write(struct.pack('<IIII', sec + k * 86400, frac, len(data), wire))
                o.write(data)


if __name__ == '__main__':
    main()
