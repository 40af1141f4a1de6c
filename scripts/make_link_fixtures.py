#!/usr/bin/env python3
"""Writes the link-layer and tunnel fixtures of tests/unit/test_link_fixtures.cpp and records what
tshark makes of them, as the independent oracle.

    scripts/make_link_fixtures.py [OUT_DIR]     (default: tests/fixtures/links)

Captures (pcap, hand-built bytes): PPP (DLT 9, framed, unframed, protocol field compressed),
Cisco HDLC (104), PPI (192) over Ethernet and 802.11, radiotap (127), 802.1Q/QinQ VLAN tags and
MPLS label stacks over Ethernet, GRE (plain, key+sequence, over IPv6, Ethernet bridging) and
GTP-U (plain, sequence + extension header, an echo request that stays an outer packet).

expected.csv, one row per frame and tunnel mode, from `tshark -r FILE -T fields` (its
frame.protocols, ip.*, ipv6.*, tcp.* and udp.* fields in every occurrence): `outer` is the first
IP layer and the transport right after it (ports 0 when none follows, as for GRE), `inner` the
last IP layer and its transport. Columns: file,frame,tunnels,src,dst,sport,dport,proto,ip_length.
Run it again when the fixtures or Wireshark change, and commit the result.
"""
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def v4(a):
    return bytes(int(x) for x in a.split("."))


def v6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def tcp(sport, dport, payload=b"x" * 10):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload


def udp(sport, dport, payload=b"y" * 12):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, v4(src), v4(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, nxt, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, 64, v6(src), v6(dst)) + payload


def eth(payload, ethertype, tags=()):
    b = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
    for tpid, vid in tags:
        b += struct.pack("!HH", tpid, vid)
    return b + struct.pack("!H", ethertype) + payload


def mpls(payload, labels):
    out = b""
    for i, label in enumerate(labels):
        bottom = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (bottom << 8) | 64)
    return out + payload


def gre(payload, proto, key=None, seq=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    b = struct.pack("!HH", flags, proto)
    if key is not None:
        b += struct.pack("!I", key)
    if seq is not None:
        b += struct.pack("!I", seq)
    return b + payload


def gtp(payload, msg=0xFF, seq=None, ext=None):
    flags = 0x30 | (0x02 if seq is not None else 0) | (0x04 if ext is not None else 0)
    opt = b""
    if seq is not None or ext is not None:
        opt = struct.pack("!HBB", seq or 0, 0, 0x85 if ext is not None else 0)
        if ext is not None:  # PDU session container: 4 bytes (length 1), next type 0
            opt += bytes([1]) + ext + bytes([0])
    body = opt + payload
    return struct.pack("!BBHI", flags, msg, len(body), 0x1234) + body


def wlan_data(payload, qos=False):
    fc = bytes([0x88 if qos else 0x08, 0x01])  # data (QoS data), to DS
    hdr = fc + b"\0\0" + bytes.fromhex("020000000003") + bytes.fromhex("020000000001") + bytes.fromhex("020000000002")
    hdr += b"\x10\x00"
    if qos:
        hdr += b"\x00\x00"
    return hdr + bytes.fromhex("aaaa03000000") + payload


def ppi(inner_dlt, frame):
    return struct.pack("<BBHI", 0, 0, 8, inner_dlt) + frame


def radiotap(frame):
    return struct.pack("<BBHI", 0, 0, 8, 0) + frame


def write_pcap(path, dlt, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, dlt))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 1000 * i, len(fr), len(fr)))
            f.write(fr)


A, B, C, D = "10.0.0.1", "10.0.0.2", "192.168.1.10", "192.168.1.20"
A6, B6 = "2001:db8::1", "2001:db8::2"
T1, T2 = "172.16.0.1", "172.16.0.2"

FIXTURES = {
    "ppp.pcap": (9, [
        b"\xff\x03\x00\x21" + ipv4(A, B, 6, tcp(40000, 443)),
        b"\x00\x57" + ipv6(A6, B6, 17, udp(5353, 53)),
        b"\x21" + ipv4(B, A, 17, udp(53, 40001)),
        b"\xff\x03\xc0\x21" + b"\x01\x01\x00\x04",  # LCP: not IP
    ]),
    "chdlc.pcap": (104, [
        b"\x0f\x00\x08\x00" + ipv4(A, B, 6, tcp(40000, 443)),
        b"\x8f\x00\x86\xdd" + ipv6(B6, A6, 6, tcp(443, 40002)),
    ]),
    "ppi.pcap": (192, [
        ppi(1, eth(ipv4(A, B, 6, tcp(40000, 443)), 0x0800)),
        ppi(105, wlan_data(struct.pack("!H", 0x0800) + ipv4(C, D, 17, udp(1234, 5678)))),
        ppi(105, wlan_data(struct.pack("!H", 0x86DD) + ipv6(A6, B6, 6, tcp(1000, 80)), qos=True)),
    ]),
    "radiotap.pcap": (127, [
        radiotap(wlan_data(struct.pack("!H", 0x0800) + ipv4(C, D, 6, tcp(4321, 443)), qos=True)),
    ]),
    "vlan_mpls.pcap": (1, [
        eth(ipv4(A, B, 6, tcp(40000, 443)), 0x0800, [(0x8100, 10)]),
        eth(ipv6(A6, B6, 17, udp(5000, 6000)), 0x86DD, [(0x88A8, 100), (0x8100, 20)]),
        eth(mpls(ipv4(C, D, 6, tcp(1111, 2222)), [16]), 0x8847),
        eth(mpls(ipv6(B6, A6, 17, udp(6000, 5000)), [17, 18]), 0x8847),
        eth(mpls(ipv4(D, C, 6, tcp(2222, 1111)), [19]), 0x8847, [(0x8100, 30)]),
    ]),
    "gre.pcap": (1, [
        eth(ipv4(T1, T2, 47, gre(ipv4(A, B, 6, tcp(40000, 443)), 0x0800)), 0x0800),
        eth(ipv4(T2, T1, 47, gre(ipv6(B6, A6, 17, udp(53, 5353)), 0x86DD, key=7, seq=1)), 0x0800),
        eth(ipv6(A6, B6, 47, gre(ipv4(C, D, 17, udp(1234, 4321)), 0x0800)), 0x86DD),
        eth(ipv4(T1, T2, 47, gre(eth(ipv4(D, C, 6, tcp(80, 50000)), 0x0800), 0x6558)), 0x0800),
    ]),
    "gtpu.pcap": (1, [
        eth(ipv4(T1, T2, 17, udp(2152, 2152, gtp(ipv4(A, B, 6, tcp(40000, 443))))), 0x0800),
        eth(ipv4(T2, T1, 17, udp(2152, 2152, gtp(ipv6(B6, A6, 17, udp(443, 40000)), seq=5, ext=b"\x00\x09"))), 0x0800),
        eth(ipv4(T1, T2, 17, udp(40001, 2152, gtp(b"", msg=1, seq=6))), 0x0800),  # echo request
    ]),
}

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ip.len", "ip.proto", "ipv6.src", "ipv6.dst",
          "ipv6.plen", "ipv6.nxt", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def tshark_rows(path):
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        yield {k: (x.split("|") if x else []) for k, x in v.items()}


def layers(row):
    """(ip kind, its occurrence, transport kind or None, its occurrence) per IP layer, in order."""
    count = {"ip": 0, "ipv6": 0, "tcp": 0, "udp": 0}
    out = []
    for p in row["frame.protocols"][0].split(":"):
        if p in ("ip", "ipv6"):
            out.append([p, count[p], None, 0])
            count[p] += 1
        elif p in ("tcp", "udp"):
            if out and out[-1][2] is None:
                out[-1][2], out[-1][3] = p, count[p]
            count[p] += 1
        elif out and out[-1][2] is None and p != "data":
            out[-1][2] = "-"  # something else follows the IP layer (GRE, ...)
    return out


def describe(row, layer):
    kind, i, tr, j = layer
    if kind == "ip":
        src, dst, length, proto = row["ip.src"][i], row["ip.dst"][i], int(row["ip.len"][i]), int(row["ip.proto"][i])
    else:
        src, dst = row["ipv6.src"][i], row["ipv6.dst"][i]
        length, proto = int(row["ipv6.plen"][i]) + 40, int(row["ipv6.nxt"][i])
    sport = dport = 0
    if tr in ("tcp", "udp"):
        sport, dport = int(row[tr + ".srcport"][j]), int(row[tr + ".dstport"][j])
    return [src, dst, sport, dport, proto, length]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "fixtures", "links")
    os.makedirs(out_dir, exist_ok=True)
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    rows = []
    for name, (dlt, frames) in FIXTURES.items():
        path = os.path.join(out_dir, name)
        write_pcap(path, dlt, frames)
        for row in tshark_rows(path):
            ls = layers(row)
            if not ls:
                continue  # not IP
            frame = int(row["frame.number"][0])
            rows.append([name, frame, "outer"] + describe(row, ls[0]))
            rows.append([name, frame, "inner"] + describe(row, ls[-1]))
    with open(os.path.join(out_dir, "expected.csv"), "w") as f:
        f.write("# generated by scripts/make_link_fixtures.py from %s\n" % version)
        f.write("file,frame,tunnels,src,dst,sport,dport,proto,ip_length\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    main()
