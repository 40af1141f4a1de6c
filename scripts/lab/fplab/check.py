"""Checks a lab output directory: the manifest and the captures agree, and every capture holds
flows of the protocol its label promises, between its own session's two hosts only."""

import csv
import os
import socket
import struct
import sys

HEADER = ["file", "category", "vpn", "application", "seed", "start", "duration"]
CATEGORIES = {"browsing", "chat", "video", "voip", "file_transfer"}


def read_pcap(path):
    """(time_ns, src, dst, proto, sport, dport, ip_len) of the IPv4 TCP/UDP packets of a pcap
    (Ethernet, Linux cooked or raw IP), read with the standard library only."""
    out = []
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise ValueError("%s: not a pcap file (%d bytes)" % (path, len(head)))
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = "<"
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            e = ">"
        else:
            raise ValueError("%s: not a pcap file" % path)
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        linktype = struct.unpack(e + "I", head[20:24])[0]
        hdr = {1: 14, 113: 16, 101: 0, 228: 0}.get(linktype)
        if hdr is None:
            raise ValueError("%s: link type %d" % (path, linktype))
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(e + "IIII", rec)
            data = f.read(caplen)
            ip = data[hdr:]
            if len(ip) < 20 or ip[0] >> 4 != 4:
                continue
            ihl = (ip[0] & 15) * 4
            proto = ip[9]
            if proto not in (6, 17) or len(ip) < ihl + 4:
                continue
            sport, dport = struct.unpack(">HH", ip[ihl:ihl + 4])
            if ip[6] & 0x1f or ip[7]:
                continue  # a later fragment: no ports
            t = sec * 1000000000 + frac * (1 if nano else 1000)
            out.append((t, socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), proto, sport, dport,
                        struct.unpack(">H", ip[2:4])[0]))
    return out


def expected(row):
    """What the capture must show (fplab/apps/base.py Expect): OpenVPN's UDP 1194 alone through
    the VPN, the application's own protocols and ports without it."""
    from .apps import CATEGORIES
    from .apps.base import Expect
    if row["vpn"] == "yes":
        return Expect([(17, 1194)])
    return CATEGORIES[row["category"]].expect(row["application"])


def _matches(p, proto, port, server_side):
    return p[3] == proto and (port is None or (p[4] if server_side else p[5]) == port)


def _what(proto, port):
    return "%s%s" % ({6: "TCP", 17: "UDP"}[proto], "" if port is None else " port %d" % port)


def check_capture(row, packets):
    problems = []
    want = expected(row)
    hosts = set()
    for p in packets:
        hosts.update((p[1], p[2]))
    if len(hosts) > want.hosts:
        problems.append("%s: traffic of more than %d hosts: %s" % (row["file"], want.hosts, sorted(hosts)))
    for proto, port in want.need:
        down = sum(1 for p in packets if _matches(p, proto, port, True))
        up = sum(1 for p in packets if _matches(p, proto, port, False))
        if not up or not down:
            problems.append("%s: no %s traffic in both directions (%d up, %d down, %d packets in all)" % (
                row["file"], _what(proto, port), up, down, len(packets)))
    known = want.need + want.allow
    other = [p for p in packets if not any(_matches(p, proto, port, True) or _matches(p, proto, port, False)
                                           for proto, port in known)]
    if other and (row["vpn"] == "yes" or len(other) > 0.01 * len(packets)):
        p = other[0]
        problems.append("%s: %d packets that are not %s, e.g. %s:%d -> %s:%d proto %d" % (
            row["file"], len(other), " or ".join(_what(*k) for k in known), p[1], p[4], p[2], p[5], p[3]))
    return problems


def check_dir(out, min_packets=10):
    problems = []
    path = os.path.join(out, "manifest.csv")
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r, None)
        if header != HEADER:
            return ["manifest.csv: header is %s, not %s" % (header, ",".join(HEADER))]
        rows = [dict(zip(HEADER, line)) for line in r]
    listed = set()
    for n, row in enumerate(rows, start=2):
        if row["category"] not in CATEGORIES or row["vpn"] not in ("yes", "no"):
            problems.append("manifest.csv:%d: bad category or vpn: %s" % (n, row))
            continue
        listed.add(row["file"])
        p = os.path.join(out, row["file"])
        if not os.path.isfile(p):
            problems.append("manifest.csv:%d: %s is missing" % (n, row["file"]))
            continue
        try:
            packets = read_pcap(p)
        except (OSError, ValueError) as e:
            problems.append(str(e))
            continue
        if len(packets) < min_packets:
            problems.append("%s: only %d TCP/UDP packets" % (row["file"], len(packets)))
        problems += check_capture(row, packets)
    for root, _, files in os.walk(out):
        if ".lab-work" in root:
            continue
        for name in files:
            if name.endswith(".pcap"):
                rel = os.path.relpath(os.path.join(root, name), out)
                if rel not in listed:
                    problems.append("%s: a capture that manifest.csv does not list" % rel)
    return problems


if __name__ == "__main__":
    found = check_dir(sys.argv[1])
    for line in found:
        print(line)
    sys.exit(1 if found else 0)
