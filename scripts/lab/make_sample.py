#!/usr/bin/python3
"""Merges the captures of one lab run into a single pcap in time order, and writes labels.csv:
which client address belongs to which session (every session has its own address, so every
flow of the merged capture is labelled by the address at its client end).

  make_sample.py LABDIR OUT.pcap OUT-labels.csv
"""

import csv
import heapq
import os
import struct
import sys


def records(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if struct.unpack("<I", head[:4])[0] != 0xa1b2c3d4:
            raise SystemExit("%s: expected a little-endian microsecond pcap" % path)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, usec, caplen, _ = struct.unpack("<IIII", rec)
            yield (sec, usec), rec + f.read(caplen), head


def client_address(path):
    """The address of the capture's first packet's sender that is not the server (x.x.x.1)."""
    for _, rec, _ in records(path):
        ip = rec[16 + 14:]
        for a in (ip[12:16], ip[16:20]):
            if a[3] != 1:
                return ".".join(str(b) for b in a)
    return ""


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    lab, out, labels = sys.argv[1:]
    with open(os.path.join(lab, "manifest.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    paths = [os.path.join(lab, r["file"]) for r in rows]
    header = None
    with open(out, "wb") as o:
        for _, rec, head in heapq.merge(*(records(p) for p in paths), key=lambda x: x[0]):
            if header is None:
                header = head
                o.write(head)
            o.write(rec)
    with open(labels, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["client", "category", "vpn", "application", "capture"])
        for r, p in zip(rows, paths):
            w.writerow([client_address(p), r["category"], r["vpn"], r["application"], r["file"]])


if __name__ == "__main__":
    main()
