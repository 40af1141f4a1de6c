#!/usr/bin/python3
"""Per-category statistics of lab captures, computed by the flowpic tool itself:
`flowpic flows` (unidirectional 5-tuple flows, no idle timeout) and `flowpic blocks --block 15|60
--min-packets 10` (complete windows from each flow's first packet, at least 10 packets).

  stats.py --flowpic PATH [--markdown] LABDIR[=CATEGORY,...] ...

Median rate: the median over flows of at least 10 packets of packets / (last - first) and of
bytes * 8 / (last - first).
"""

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys

ORDER = ["browsing", "chat", "video", "voip", "file_transfer"]


def tool(flowpic, *args):
    r = subprocess.run([flowpic] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("flowpic %s: %s" % (" ".join(args), r.stderr.strip()))
    return list(csv.DictReader(io.StringIO(r.stdout)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flowpic", required=True)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    acc = {}
    for spec in a.dirs:
        d, _, only = spec.partition("=")
        with open(os.path.join(d, "manifest.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            if only and row["category"] not in only.split(","):
                continue
            path = os.path.join(d, row["file"])
            s = acc.setdefault((row["category"], row["vpn"]),
                               {"captures": 0, "seconds": 0.0, "packets": 0, "bytes": 0, "flows": 0,
                                "b15": 0, "b60": 0, "pps": [], "kbps": []})
            s["captures"] += 1
            s["seconds"] += float(row["duration"])
            for fl in tool(a.flowpic, "flows", path):
                n, b = int(fl["packets"]), int(fl["bytes"])
                s["flows"] += 1
                s["packets"] += n
                s["bytes"] += b
                span = float(fl["last"]) - float(fl["first"])
                if n >= 10 and span > 0:
                    s["pps"].append(n / span)
                    s["kbps"].append(b * 8 / span / 1000)
            s["b15"] += len(tool(a.flowpic, "blocks", path, "--block", "15", "--min-packets", "10"))
            s["b60"] += len(tool(a.flowpic, "blocks", path, "--block", "60", "--min-packets", "10"))
    cols = ["category", "vpn", "captures", "session_seconds", "packets", "flows", "blocks_15s", "blocks_60s",
            "median_pps", "median_kbit_s"]
    out = []
    for (c, v), s in sorted(acc.items(), key=lambda kv: (ORDER.index(kv[0][0]) if kv[0][0] in ORDER else 99, kv[0][1])):
        med = lambda xs: statistics.median(xs) if xs else 0.0  # noqa: E731
        out.append([c, v, s["captures"], "%g" % s["seconds"], s["packets"], s["flows"], s["b15"], s["b60"],
                    "%.1f" % med(s["pps"]), "%.1f" % med(s["kbps"])])
    if a.markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in out:
            print("| " + " | ".join(str(x) for x in r) + " |")
    else:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        w.writerows(out)


if __name__ == "__main__":
    main()
