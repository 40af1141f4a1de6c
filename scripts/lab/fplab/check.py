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
    """(proto, server port) the capture must show, or None for VoIP's RTP ports."""
    if row["vpn"] == "yes":
        return (17, 1194)
    c, app = row["category"], row["application"]
    if c == "chat":
        return (6, 6697)
    if c == "voip":
        return (17, None)
    if c == "file_transfer" and app in ("sftp", "scp"):
        return (6, 22)
    return (6, 443)


def check_capture(row, packets):
    problems = []
    want_proto, want_port = expected(row)
    hosts = set()
    server_side = [p for p in packets if p[3] == want_proto and (want_port is None or p[4] == want_port)]
    client_side = [p for p in packets if p[3] == want_proto and (want_port is None or p[5] == want_port)]
    for p in packets:
        hosts.update((p[1], p[2]))
    if len(hosts) > 2:
        problems.append("%s: traffic of more than one pair of hosts: %s" % (row["file"], sorted(hosts)))
    proto_name = {6: "TCP", 17: "UDP"}[want_proto]
    what = "%s%s" % (proto_name, "" if want_port is None else " port %d" % want_port)
    if not client_side or not server_side:
        problems.append("%s: no %s traffic in both directions (%d up, %d down, %d packets in all)" % (
            row["file"], what, len(client_side), len(server_side), len(packets)))
    # Chromium also tries plain HTTP (port 80) now and then: refused, but real browser behaviour
    allowed = {want_port, 80} if row["category"] == "browsing" and row["vpn"] == "no" else {want_port}
    other = [p for p in packets if p[3] != want_proto or (want_port is not None and not allowed & {p[4], p[5]})]
    if other and (row["vpn"] == "yes" or len(other) > 0.01 * len(packets)):
        p = other[0]
        problems.append("%s: %d packets that are not %s, e.g. %s:%d -> %s:%d proto %d" % (
            row["file"], len(other), what, p[1], p[4], p[2], p[5], p[3]))
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
