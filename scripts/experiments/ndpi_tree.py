#!/usr/bin/python3
"""Experiment 3 (docs/accuracy.md): a class-per-directory tree of the long flows of
../shared/data/ndpi, labelled by nDPI's per-flow category, for `flowpic eval --data DIR`.

nDPI's reference output (result/<capture>.out) gives one line per bidirectional flow, e.g.
  TCP 1.2.3.4:443 <-> 10.0.0.1:5000 [proto: 91/TLS]...[cat: Web/5]...[12.3 sec]...
Flows whose category maps to one of the five FlowPic categories
  Web -> browsing, Chat -> chat, VoIP -> voip, Video/Streaming/Media -> video,
  Download -> file_transfer
and whose nDPI duration is at least --min-seconds (15) are kept. Their packets are read from the
capture with tshark (any link type; for tunnels the innermost IP header) and written as
per-packet session CSV (docs/formats.md: `session,<id>`, `rel_ts_us,len`, one row per packet,
microseconds since the flow's first packet, size = IP length with the sign as direction: the
side nDPI prints first is upstream, positive), one session per nDPI flow, one file per capture:
OUT/<category>/<capture>.csv. A 5-tuple that nDPI lists twice (idle-timeout splits) is one session.

Usage: /usr/bin/python3 scripts/experiments/ndpi_tree.py --ndpi ../shared/data/ndpi --out DIR
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys

CATS = {"Web": "browsing", "Chat": "chat", "VoIP": "voip", "Video": "video", "Streaming": "video",
        "Media": "video", "Download": "file_transfer"}
LINE = re.compile(r"^\s*\d+\s+(TCP|UDP)\s+(\S+)\s+<?->\s+(\S+)\s+\[proto:")
CAT = re.compile(r"\[cat: ([^/\]]+)/")
SECS = re.compile(r"\[([0-9.]+) sec\]")


def endpoint(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def parse_result(path, min_seconds):
    flows = collections.OrderedDict()  # (proto, a, pa, b, pb) -> category
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            c, d = CAT.search(line), SECS.search(line)
            if not c or not d or c.group(1) not in CATS or float(d.group(1)) < min_seconds:
                continue
            (a, pa), (b, pb) = endpoint(m.group(2)), endpoint(m.group(3))
            flows.setdefault((6 if m.group(1) == "TCP" else 17, a, pa, b, pb), CATS[c.group(1)])
    return flows


FIELDS = ["frame.time_epoch", "ip.src", "ip.dst", "ip.proto", "ip.len", "ipv6.src", "ipv6.dst", "ipv6.nxt",
          "ipv6.plen", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def packets(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "separator=|", "-E", "occurrence=l"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout
    for row in out.splitlines():
        v = row.split("|")
        if len(v) != len(FIELDS):
            continue
        t, s4, d4, p4, l4, s6, d6, n6, l6, ts, td, us, ud = v
        if ts and td:
            proto, sp, dp = 6, ts, td
        elif us and ud:
            proto, sp, dp = 17, us, ud
        else:
            continue
        if s6 and d6 and l6:  # innermost header is the last; IPv4-in-IPv6 is rare, prefer IPv4 then
            src, dst, size = s6, d6, int(l6) + 40
        if s4 and d4 and l4:
            src, dst, size = s4, d4, int(l4)
        elif not (s6 and d6 and l6):
            continue
        sec, _, frac = t.partition(".")
        ns = int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])
        yield ns, proto, src, int(sp), dst, int(dp), size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ndpi", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-seconds", type=float, default=15.0)
    a = ap.parse_args()
    counts = collections.Counter()
    for res in sorted(glob.glob(os.path.join(a.ndpi, "result", "*.out"))):
        name = os.path.basename(res)[:-4]
        pcap = os.path.join(a.ndpi, "pcap", name)
        flows = parse_result(res, a.min_seconds)
        if not flows or not os.path.exists(pcap):
            continue
        sessions = {k: [] for k in flows}
        for ns, proto, src, sp, dst, dp, size in packets(pcap):
            k = (proto, src, sp, dst, dp)
            if k in sessions:
                sessions[k].append((ns, size))
                continue
            k = (proto, dst, dp, src, sp)
            if k in sessions:
                sessions[k].append((ns, -size))
        by_cat = collections.defaultdict(list)
        for k, pk in sessions.items():
            if pk:
                by_cat[flows[k]].append((k, pk))
        for cat, items in by_cat.items():
            os.makedirs(os.path.join(a.out, cat), exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.splitext(name)[0])
            with open(os.path.join(a.out, cat, stem + ".csv"), "w") as f:
                for k, pk in items:
                    t0 = pk[0][0]
                    f.write(f"session,{k[1]}:{k[2]}-{k[3]}:{k[4]}/{k[0]}\nrel_ts_us,len\n")
                    for ns, size in pk:
                        f.write(f"{max(ns - t0, 0) // 1000},{size}\n")
                counts[cat] += len(items)
            print(f"{name}: " + ", ".join(f"{c} {len(i)}" for c, i in by_cat.items()), file=sys.stderr)
    print("flows per category: " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
