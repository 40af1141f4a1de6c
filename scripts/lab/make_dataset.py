#!/usr/bin/python3
"""Packs lab captures into flowpic's compact flow-records file (include/flowpic/source/flow_records.hpp,
docs/lab.md): every unidirectional TCP/UDP flow (5-tuple over the whole capture, no idle timeout)
with its packets as 6-byte records, labelled from manifest.csv.

  make_dataset.py --out FILE.fpr [--summary FILE.csv] LABDIR[=CATEGORY,...] ...

LABDIR=video,voip takes only those categories of that lab directory. With more than one
LABDIR, capture names are prefixed with the directory's own name ("a/video/video-plain-000.pcap"),
and --manifest writes the manifests of all of them in one, named the same way.

Written with the standard library only, independently of flowpic's C++ readers, so that the
tests can compare the two. The summary CSV counts flows, packets and bytes per category and vpn.
"""

import argparse
import csv
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fplab.atomic import atomic_open  # noqa: E402
from fplab.check import OLD_HEADER, read_manifest, read_pcap  # noqa: E402

CATEGORY_CODES = {"voip": 0, "video": 1, "file_transfer": 2, "chat": 3, "browsing": 4}
MAGIC = b"FPRECORD"


def flows_of(packets):
    """{key: [(t_ns, size)]} in capture order, and the keys in order of their first packet."""
    flows, order = {}, []
    for t, src, dst, proto, sport, dport, size in packets:
        k = (src, dst, sport, dport, proto)
        if k not in flows:
            flows[k] = []
            order.append(k)
        flows[k].append((t, size))
    return flows, order


def build(dirs, min_packets=1):
    strings, index = [], {}

    def sid(s):
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    entries, records, summary, manifest = [], [], {}, []
    header = OLD_HEADER  # the longest of the lab directories' headers (each extends the one before)
    for spec in dirs:
        d, _, only = spec.partition("=")
        only = set(only.split(",")) if only else None
        try:
            h, rows = read_manifest(os.path.join(d, "manifest.csv"))
        except ValueError:
            raise SystemExit("%s/manifest.csv: unexpected header" % d)
        if len(h) > len(header):
            header = h
        for row in rows:
            if only is not None and row["category"] not in only:
                continue
            name = row["file"] if len(dirs) == 1 else os.path.basename(os.path.normpath(d)) + "/" + row["file"]
            manifest.append(dict(row, file=name))
            packets = read_pcap(os.path.join(d, row["file"]))
            flows, order = flows_of(packets)
            cat, vpn = CATEGORY_CODES[row["category"]], 1 if row["vpn"] == "yes" else 0
            app, cap = sid(row["application"]), sid(name)
            for k in order:
                pk = flows[k]
                if len(pk) < min_packets:
                    continue
                pk.sort(key=lambda x: x[0])  # captures may reorder a little
                first = pk[0][0]
                if (pk[-1][0] - first) // 1000 >= 1 << 32:
                    raise SystemExit("%s: a flow longer than 71 minutes" % row["file"])
                entries.append((k, cat, vpn, app, cap, len(pk), first, len(records)))
                for t, size in pk:
                    if not 0 < size < 1 << 15:
                        raise SystemExit("%s: packet size %d" % (row["file"], size))
                    records.append(((t - first) // 1000, size))
                s = summary.setdefault((row["category"], row["vpn"]), [0, 0, 0])
                s[0] += 1
                s[1] += len(pk)
                s[2] += sum(x[1] for x in pk)
    return strings, entries, records, summary, (header, [[m.get(h, "") for h in header] for m in manifest])


def write(path, strings, entries, records):
    blob = b"".join(struct.pack("<H", len(s.encode())) + s.encode() for s in strings)
    strings_off = 64
    flows_off = strings_off + len(blob)
    packets_off = flows_off + 64 * len(entries)
    size = packets_off + 6 * len(records)
    out = bytearray()
    out += MAGIC + struct.pack("<HHHHIIQQQQQ", 1, 64, 64, 6, len(entries), len(strings), len(records),
                               strings_off, flows_off, packets_off, size)
    out += blob
    for (src, dst, sport, dport, proto), cat, vpn, app, cap, n, first, first_rec in entries:
        out += socket.inet_aton(src) + bytes(12) + socket.inet_aton(dst) + bytes(12)
        out += struct.pack("<HHBBBBHHIqQ", sport, dport, proto, 4, cat, vpn, app, cap, n, first, first_rec)
    out += b"".join(struct.pack("<IH", us, size) for us, size in records)
    assert len(out) == size
    with atomic_open(path, "wb") as f:
        f.write(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--summary")
    ap.add_argument("--manifest", help="write the sessions packed, as a manifest.csv")
    ap.add_argument("--min-packets", type=int, default=1, help="leave out flows with fewer packets")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    strings, entries, records, summary, manifest = build(a.dirs, a.min_packets)
    write(a.out, strings, entries, records)
    if a.manifest:
        with atomic_open(a.manifest, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(manifest[0])
            w.writerows(manifest[1])
    if a.summary:
        with atomic_open(a.summary, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["category", "vpn", "flows", "packets", "bytes"])
            for (c, v), (n, p, b) in sorted(summary.items()):
                w.writerow([c, v, n, p, b])
    print("%s: %d flows, %d packets, %d bytes" % (a.out, len(entries), len(records), os.path.getsize(a.out)))


if __name__ == "__main__":
    main()
