#!/usr/bin/python3
"""Splits a flow-records file (.fpr, docs/lab.md) into one folder per category, files of at most
--max-bytes each (whole flows), so that the committed dataset is a class-per-folder tree that
`flowpic dataset --data DIR` style tools read and no single file is large:

  split_dataset.py IN.fpr OUTDIR [--max-bytes 4194304]
  -> OUTDIR/<category>/<category>-<plain|vpn>-<k>.fpr

Standard library only; the records are copied unchanged.
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fplab.atomic import atomic_open  # noqa: E402

MAGIC = b"FPRECORD"
NAMES = {0: "voip", 1: "video", 2: "file_transfer", 3: "chat", 4: "browsing"}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise SystemExit("%s: not a flow-records file" % path)
    (ver, hsize, esize, rsize, nflows, nstrings, nrecords, soff, foff, poff, size) = struct.unpack_from(
        "<HHHHIIQQQQQ", data, 8)
    if (ver, hsize, esize, rsize) != (1, 64, 64, 6) or size != len(data):
        raise SystemExit("%s: unsupported or damaged header" % path)
    strings, o = [], soff
    for _ in range(nstrings):
        (n,) = struct.unpack_from("<H", data, o)
        strings.append(data[o + 2:o + 2 + n].decode())
        o += 2 + n
    flows = []
    for i in range(nflows):
        e = data[foff + 64 * i: foff + 64 * (i + 1)]
        (sport, dport, proto, fam, cat, vpn, app, cap, n, first, first_rec) = struct.unpack_from(
            "<HHBBBBHHIqQ", e, 32)
        recs = data[poff + 6 * first_rec: poff + 6 * (first_rec + n)]
        flows.append((e[:32], sport, dport, proto, fam, cat, vpn, strings[app], strings[cap], n, first, recs))
    return flows


def write(path, flows):
    strings, index = [], {}

    def sid(s):
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    entries, records, nrec = [], [], 0
    for addrs, sport, dport, proto, fam, cat, vpn, app, cap, n, first, recs in flows:
        entries.append(addrs + struct.pack("<HHBBBBHHIqQ", sport, dport, proto, fam, cat, vpn, sid(app), sid(cap),
                                           n, first, nrec))
        records.append(recs)
        nrec += n
    blob = b"".join(struct.pack("<H", len(s.encode())) + s.encode() for s in strings)
    soff = 64
    foff = soff + len(blob)
    poff = foff + 64 * len(entries)
    size = poff + 6 * nrec
    out = MAGIC + struct.pack("<HHHHIIQQQQQ", 1, 64, 64, 6, len(entries), len(strings), nrec, soff, foff, poff, size)
    out += blob + b"".join(entries) + b"".join(records)
    assert len(out) == size
    with atomic_open(path, "wb") as f:
        f.write(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("outdir")
    ap.add_argument("--max-bytes", type=int, default=4 << 20)
    a = ap.parse_args()
    groups = {}
    for fl in read(a.input):
        groups.setdefault((fl[5], fl[6]), []).append(fl)
    for (cat, vpn), flows in sorted(groups.items()):
        name = NAMES[cat]
        os.makedirs(os.path.join(a.outdir, name), exist_ok=True)
        part, size, k = [], 0, 0
        for fl in flows + [None]:
            grow = 0 if fl is None else 64 + 6 * fl[9] + 2 * (2 + 64)
            if fl is None or (part and size + grow > a.max_bytes):
                write(os.path.join(a.outdir, name, "%s-%s-%d.fpr" % (name, "vpn" if vpn else "plain", k)), part)
                part, size, k = [], 0, k + 1
            if fl is not None:
                part.append(fl)
                size += grow
    print("split %s into %s" % (a.input, a.outdir))


if __name__ == "__main__":
    main()
