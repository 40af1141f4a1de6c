#!/usr/bin/python3
"""What `flowpic classify` says about the connections of labelled captures, as a user sees it:
runs classify on each capture, joins every row (block) to its connection's row of the label
files (5-tuple in either direction, the latest `first` not after the block), and prints per true
class the share of blocks given each label (the classes, `unknown`), plus the same for the
connections labelled `ignore` (DNS, ads, telemetry: where `unknown` is the right answer) and for
the YouTube connections alone.

Usage: real_classify_report.py --flowpic FLOWPIC [--model MODEL] [--min-score X]
                               --labels FILE [--labels FILE ...] CAPTURE...
"""
import argparse
import bisect
import collections
import csv
import io
import subprocess
import sys
from decimal import Decimal


def canonical(src, dst, sport, dport, proto):
    a, b = (src, int(sport)), (dst, int(dport))
    return (proto,) + (a + b if a <= b else b + a)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowpic", required=True)
    ap.add_argument("--model")
    ap.add_argument("--min-score")
    ap.add_argument("--labels", action="append", required=True)
    ap.add_argument("captures", nargs="+")
    a = ap.parse_args()
    rows = collections.defaultdict(list)
    for path in a.labels:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                k = canonical(r["src"], r["dst"], r["sport"], r["dport"], r["proto"])
                rows[k].append((Decimal(r["first"]), r["class"], r["application"]))
    for v in rows.values():
        v.sort()
    counts = collections.defaultdict(collections.Counter)
    labels = set()
    for cap in a.captures:
        cmd = [a.flowpic, "classify", cap]
        if a.model:
            cmd += ["--model", a.model]
        if a.min_score is not None:
            cmd += ["--min-score", a.min_score]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{cap}: {out.stderr.strip()}", file=sys.stderr)
            continue
        for r in csv.DictReader(io.StringIO(out.stdout)):
            cands = rows.get(canonical(r["src"], r["dst"], r["sport"], r["dport"], r["proto"]))
            if not cands:
                continue
            i = bisect.bisect_right(cands, (Decimal(r["block_start"]) + Decimal("0.000001"), "\uffff")) - 1
            if i < 0:
                continue
            _, cls, app = cands[i]
            if not cls:
                continue
            labels.add(r["label"])
            counts[cls][r["label"]] += 1
            if "YouTube" in app:
                counts["(YouTube connections)"][r["label"]] += 1
    classes = {c for c in counts if c != "ignore" and not c.startswith("(")}
    cols = sorted((labels | classes) - {"unknown"}) + (["unknown"] if "unknown" in labels else [])
    print("| true class | blocks | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for cls in sorted(counts):
        n = sum(counts[cls].values())
        print(f"| {cls} | {n} | " + " | ".join(f"{100 * counts[cls][c] / n:.1f} %" for c in cols) + " |")
    true = [c for c in counts if c != "ignore" and not c.startswith("(")]
    recalls = [counts[c][c] / sum(counts[c].values()) for c in true]
    if recalls:
        print(f"\nmacro recall over the {len(recalls)} classes with blocks: {sum(recalls) / len(recalls):.3f}")


if __name__ == "__main__":
    main()
