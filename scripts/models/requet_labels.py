#!/usr/bin/python3
"""A label file (docs/formats.md "The label file") for the Requet YouTube captures
(../shared/data/requet-youtube-b2): every connection that carries a server-to-client flow on
port 443 of at least 1 MB is a video connection (the dataset README's rule; the captures are cut
at 72 bytes, so nDPI sees no SNI there and names these flows "Google" by address). Other
connections get no row, so `flowpic dataset --labels` leaves them out.

Usage: /usr/bin/python3 scripts/models/requet_labels.py ../shared/data/requet-youtube-b2 > requet.csv
"""
import csv
import sys
from decimal import Decimal


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/requet-youtube-b2"
    flows = {}
    with open(f"{root}/flows_unidir.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["proto"] not in ("6", "17"):
                continue
            key = (r["file"], r["proto"], r["src"], int(r["sport"]), r["dst"], int(r["dport"]))
            flows[key] = (Decimal(r["first"]), int(r["bytes"]))
    rows = []
    for (file, proto, src, sport, dst, dport), (first, size) in flows.items():
        if sport != 443 or size < 1_000_000:
            continue
        back = flows.get((file, proto, dst, dport, src, sport))
        # the connection starts with its earliest packet; that side is `src`
        if back is not None and back[0] < first:
            rows.append((back[0], dst, src, dport, sport, proto))
        else:
            rows.append((first, src, dst, sport, dport, proto))
    rows.sort()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["src", "dst", "sport", "dport", "proto", "first", "application", "category", "class"])
    for first, src, dst, sport, dport, proto in rows:
        out.writerow([src, dst, sport, dport, proto, f"{first:.6f}", "YouTube", "Requet", "video"])


if __name__ == "__main__":
    main()
