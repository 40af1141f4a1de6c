"""Checks a lab output directory: the manifest and the captures agree, and every capture holds
flows of the protocol its label promises, between its own session's two hosts only (or the
few more its application's Expect allows: a BitTorrent swarm's peers)."""

import csv
import json
import os
import socket
import struct
import sys

# the manifest's columns; labs before the WAN links wrote only the first seven (OLD_HEADER), labs
# before the client TCP stacks the first fourteen (WAN_HEADER)
HEADER = ["file", "category", "vpn", "application", "seed", "start", "duration",
          "rtt_ms", "jitter_ms", "loss", "down_mbit", "up_mbit", "access", "queue_ms", "tcp_timestamps"]
OLD_HEADER = HEADER[:7]
WAN_HEADER = HEADER[:14]
HEADERS = (HEADER, WAN_HEADER, OLD_HEADER)


def read_manifest(path):
    """(header, rows as dicts) of a manifest.csv of either header; ValueError for any other."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r, None)
        if header not in HEADERS:
            raise ValueError("%s: header is %s, not %s" % (path, header, ",".join(HEADER)))
        return header, [dict(zip(header, line)) for line in r]
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


def _tcp_segments(path):
    """(seconds, IPv4 packet, IP header length) of each IPv4 TCP segment of an Ethernet pcap."""
    with open(path, "rb") as f:
        head = f.read(24)
        e = "<" if struct.unpack("<I", head[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
        nano = struct.unpack(e + "I", head[:4])[0] == 0xa1b23c4d
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(e + "IIII", rec)
            ip = f.read(caplen)[14:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            yield sec + frac / (1e9 if nano else 1e6), ip, (ip[0] & 15) * 4


def handshake_rtts(path):
    """Milliseconds from each TCP SYN to its SYN-ACK, in an Ethernet pcap. Handshakes whose SYN was
    sent again are left out (Karn's rule): a SYN-ACK that answers the first SYN, or one the server
    retransmitted, can arrive just after the client's retransmission and look faster than the link."""
    syn, resent, out = {}, set(), []
    for t, ip, ihl in _tcp_segments(path):
        if len(ip) < ihl + 14:
            continue
        key = (ip[12:16], ip[16:20], ip[ihl:ihl + 4])
        flags = ip[ihl + 13] & 0x12
        if flags == 0x02:
            if key in syn:
                resent.add(key)
            syn[key] = t
        elif flags == 0x12:
            back = (ip[16:20], ip[12:16], ip[ihl + 2:ihl + 4] + ip[ihl:ihl + 2])
            if back in syn:
                sent = syn.pop(back)
                if back not in resent:
                    out.append((t - sent) * 1000)
                resent.discard(back)
    return out


def tcp_timestamp_segments(path):
    """(TCP segments carrying the RFC 7323 timestamps option, TCP segments) of an Ethernet pcap."""
    with_ts = total = 0
    for _, ip, ihl in _tcp_segments(path):
        if len(ip) < ihl + 20:
            continue
        total += 1
        opts, i = ip[ihl + 20:ihl + (ip[ihl + 12] >> 4) * 4], 0
        while i < len(opts) and opts[i] != 0:
            if opts[i] == 1:
                i += 1
                continue
            if opts[i] == 8:
                with_ts += 1
                break
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                break
            i += opts[i + 1]
    return with_ts, total


def check_stack(out, rows):
    """A plain session's TCP uses timestamps exactly when its manifest row says so."""
    problems = []
    for row in rows:
        want = row.get("tcp_timestamps")
        if row["vpn"] != "no" or want not in ("on", "off"):
            continue
        with_ts, total = tcp_timestamp_segments(os.path.join(out, row["file"]))
        if want == "off" and with_ts:
            problems.append("%s: %d of %d TCP segments carry timestamps; its client's are off"
                            % (row["file"], with_ts, total))
        if want == "on" and total and not with_ts:
            problems.append("%s: no TCP segment of %d carries timestamps; its client's are on" % (row["file"], total))
    return problems


def expected(row):
    """What the capture must show (fplab/apps/base.py Expect): OpenVPN's UDP 1194 alone through
    the VPN, the application's own protocols and ports without it."""
    from .apps import CATEGORIES
    from .apps.base import Expect
    if row["vpn"] == "yes":
        return Expect([(17, 1194)])
    return CATEGORIES[row["category"]].expect(row["application"])


def _matches(p, proto, port, server_side):
    if p[3] != proto or port is None:
        return p[3] == proto
    have = p[4] if server_side else p[5]
    return port[0] <= have <= port[1] if isinstance(port, tuple) else have == port


def _what(proto, port):
    name = {6: "TCP", 17: "UDP"}[proto]
    if isinstance(port, tuple):
        return "%s ports %d-%d" % (name, port[0], port[1])
    return name + ("" if port is None else " port %d" % port)


def check_capture(row, packets):
    problems = []
    want = expected(row)
    hosts = set()
    for p in packets:
        hosts.update((p[1], p[2]))
    if len(hosts) > want.hosts:
        problems.append("%s: traffic of more than %d hosts: %s" % (row["file"], want.hosts, sorted(hosts)))
    def both_ways(proto, port):
        down = sum(1 for p in packets if _matches(p, proto, port, True))
        up = sum(1 for p in packets if _matches(p, proto, port, False))
        return up, down

    for proto, port in want.need:
        up, down = both_ways(proto, port)
        if not up or not down:
            problems.append("%s: no %s traffic in both directions (%d up, %d down, %d packets in all)" % (
                row["file"], _what(proto, port), up, down, len(packets)))
    if want.need_any and not any(all(both_ways(*k)) for k in want.need_any):
        problems.append("%s: no %s traffic in both directions" % (
            row["file"], " or ".join(_what(*k) for k in want.need_any)))
    known = want.need + want.need_any + want.allow
    other = [p for p in packets if not any(_matches(p, proto, port, True) or _matches(p, proto, port, False)
                                           for proto, port in known)]
    if other and (row["vpn"] == "yes" or len(other) > 0.01 * len(packets)):
        p = other[0]
        problems.append("%s: %d packets that are not %s, e.g. %s:%d -> %s:%d proto %d" % (
            row["file"], len(other), " or ".join(_what(*k) for k in known), p[1], p[4], p[2], p[5], p[3]))
    return problems


def check_wan(out, rows):
    """Every session with a WAN link had its emulator, which forwarded frames both ways and lost
    none it was not told to drop (run.json's wan_counters, when the run wrote them)."""
    try:
        with open(os.path.join(out, "run.json")) as f:
            counters = json.load(f).get("wan_counters")
    except (OSError, ValueError):
        return []
    if counters is None:
        return []
    from . import wan
    problems = []
    for row in rows:
        if row.get("access", "off") == "off":
            continue
        c = counters.get(row["file"])
        if not c:
            problems.append("%s: no counters from its link emulator" % row["file"])
            continue
        if row["vpn"] == "no" and not wan.profile(int(row["seed"])).reorder:
            # the link's delay is there: no handshake is faster than the RTT's lower bound
            low = float(row["rtt_ms"]) - float(row["jitter_ms"]) - 1
            fast = [r for r in handshake_rtts(os.path.join(out, row["file"])) if r < low]
            if fast:
                problems.append("%s: a TCP handshake in %.1f ms, below the link's %.1f ms"
                                % (row["file"], fast[0], low))
        for way in ("up", "down"):
            d = c[way]
            out_of_it = d["forwarded"] + d["dropped_loss"] + d["dropped_queue"] + d["queued"] + d["send_errors"]
            if d["received"] != out_of_it:
                problems.append("%s: the emulator's %s counters do not add up: %s" % (row["file"], way, d))
            if d["send_errors"] or d["forwarded"] == 0:
                problems.append("%s: the emulator forwarded %d frames %s, %d send errors" % (
                    row["file"], d["forwarded"], way, d["send_errors"]))
    return problems


def check_dir(out, min_packets=10):
    problems = []
    path = os.path.join(out, "manifest.csv")
    try:
        _, rows = read_manifest(path)
    except ValueError as e:
        return ["manifest.csv: " + str(e).split(": ", 1)[1]]
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
    problems += check_wan(out, rows)
    problems += check_stack(out, rows)
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
