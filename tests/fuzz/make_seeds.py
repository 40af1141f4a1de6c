#!/usr/bin/python3
"""Writes the committed seed corpus of the fuzzers, which the unit tests also read as fixtures.

One small synthetic capture (IPv4 TCP, IPv6 UDP, ICMP; sub-10-microsecond gaps so that Python
writes times such as 1e-06) is written as a pcap, then turned into each CSV format by an
independent re-implementation, in Python with dpkt, of the program that makes that format:

  corpus/pcap/synthetic.pcap               the capture (Ethernet, microseconds)
  corpus/authors_csv/synthetic.csv         as FlowPic's TrafficParser/generic_parser.py writes it
  corpus/network_stats_csv/synthetic.csv   as Viasat network-stats' network_stats.py -e writes it
  corpus/packet_csv/synthetic.csv          as the video-3platform session CSVs are laid out
  oracle/<format>.csv                      the packets each CSV must yield, in order:
                                           src,dst,sport,dport,proto,session,time_ns,size,dir

Run from anywhere with Debian's python3 and python3-dpkt: /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import csv
import io
import ipaddress
import os
import socket
import struct

import dpkt

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1_600_000_000 * 1_000_000 + 123_456  # microseconds since the epoch

CLIENT4, SERVER4 = "10.0.0.1", "93.184.216.34"
CLIENT6, SERVER6 = "2001:db8::1", "2001:db8::2"
LOCAL = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::1/128")]


def traffic():
    """(time_us, ip packet bytes, kind) in capture order."""
    out = []
    # TCP flow over 70 s with gaps of 1 us, 50 us, 0.5 s and 30 s; both directions.
    gaps = [0, 1, 50, 7, 120_000, 1, 500_000, 30_000_000, 3, 2_000_000, 25_000_000, 99, 10_000_000]
    t = T0
    for i, g in enumerate(gaps):
        t += g
        up = i % 3 != 1
        payload = b"x" * ((i * 97) % 1400 + (1 if up else 60))
        tcp = dpkt.tcp.TCP(sport=40000 if up else 443, dport=443 if up else 40000, seq=i, flags=dpkt.tcp.TH_ACK,
                           data=payload)
        src, dst = (CLIENT4, SERVER4) if up else (SERVER4, CLIENT4)
        ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=dpkt.ip.IP_PROTO_TCP, ttl=64, data=tcp)
        ip.len = len(ip)
        out.append((t, bytes(ip), "tcp"))
    # IPv6 UDP flow interleaved, 16 packets 0.25 s apart (the authors' parser skips IPv6).
    for i in range(16):
        tt = T0 + 1_000_000 + i * 250_000 + (i % 2)
        up = i % 4 == 0
        udp = dpkt.udp.UDP(sport=5353 if up else 443, dport=443 if up else 5353, data=b"q" * (20 + 70 * i))
        udp.ulen = len(udp)
        src, dst = (CLIENT6, SERVER6) if up else (SERVER6, CLIENT6)
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src), dst=socket.inet_pton(socket.AF_INET6, dst),
                           nxt=dpkt.ip.IP_PROTO_UDP, hlim=64, data=udp)
        ip6.plen = len(udp)
        out.append((tt, bytes(ip6), "udp6"))
    # Two pings: not TCP/UDP.
    for i in range(2):
        icmp = dpkt.icmp.ICMP(type=8, data=dpkt.icmp.ICMP.Echo(id=1, seq=i, data=b"ping"))
        ip = dpkt.ip.IP(src=socket.inet_aton(CLIENT4), dst=socket.inet_aton("8.8.8.8"), p=dpkt.ip.IP_PROTO_ICMP,
                        data=icmp)
        ip.len = len(ip)
        out.append((T0 + 2_000_000 + i * 1_000_000, bytes(ip), "icmp"))
    out.sort(key=lambda x: x[0])
    return out


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, ip, _ in packets:
            eth_type = 0x86DD if (ip[0] >> 4) == 6 else 0x0800
            frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack(">H", eth_type) + ip
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def inet_to_str(b):
    return socket.inet_ntop(socket.AF_INET6 if len(b) == 16 else socket.AF_INET, b)


def authors_csv(pcap_path, name):
    """generic_parser.parse_pcap: unidirectional 5-tuples of IPv4 TCP/UDP, times rounded to 1 us."""
    proto_name = {dpkt.tcp.TCP: "TCP", dpkt.udp.UDP: "UDP"}
    sessions = {}
    with open(pcap_path, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            eth = dpkt.ethernet.Ethernet(buf)
            if not isinstance(eth.data, dpkt.ip.IP):
                continue
            ip = eth.data
            if type(ip.data) not in proto_name:
                continue
            key = (inet_to_str(ip.src), ip.data.sport, inet_to_str(ip.dst), ip.data.dport, proto_name[type(ip.data)])
            d = sessions.setdefault(key, (ts, [], []))
            d[1].append(round(ts - d[0], 6))
            d[2].append(len(ip))
    text = io.StringIO()
    w = csv.writer(text)
    oracle = []
    for row_no, (key, (start, times, sizes)) in enumerate(sessions.items(), start=1):
        w.writerow([name] + list(key) + [start, len(times)] + times + [None] + sizes)
        start_us = round(start * 1e6)
        for rel, size in zip(times, sizes):
            proto = 6 if key[4] == "TCP" else 17
            oracle.append((key[0], key[2], key[1], key[3], proto, row_no, (start_us + round(rel * 1e6)) * 1000, size, 0))
    return text.getvalue(), oracle


def network_stats_csv(pcap_path):
    """network_stats.process_pkts with --extcsv and --localnet: one row per connection per second."""
    rows, oracle = [], []
    bucket, bucket_time = {}, -1

    def flush():
        for key, b in bucket.items():
            rows.append(",".join(str(v) for v in [bucket_time, *key, b["b12"], b["b21"], b["p12"], b["p21"],
                                                  b["times"], b["sizes"], b["dirs"]]))

    def local(a):
        return any(ipaddress.ip_address(a) in n for n in LOCAL)

    with open(pcap_path, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            sec = int(ts)
            usec = round((ts - sec) * 1e6)
            if sec > bucket_time:
                if bucket_time != -1:
                    flush()
                bucket, bucket_time = {}, sec
            ip = dpkt.ethernet.Ethernet(buf).data
            if isinstance(ip, dpkt.ip.IP):
                proto, size = ip.p, ip.len
            elif isinstance(ip, dpkt.ip6.IP6):
                proto, size = ip.nxt, len(ip)
            else:
                continue
            src, dst = inet_to_str(ip.src), inet_to_str(ip.dst)
            sport = dport = 0
            if isinstance(ip.data, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                sport, dport = ip.data.sport, ip.data.dport
            if local(src) and not local(dst):
                key = (src, sport, dst, dport, proto)
            elif local(dst) and not local(src):
                key = (dst, dport, src, sport, proto)
            elif (ipaddress.ip_address(src), sport) <= (ipaddress.ip_address(dst), dport):
                key = (src, sport, dst, dport, proto)
            else:
                key = (dst, dport, src, sport, proto)
            b = bucket.setdefault(key, {"b12": 0, "b21": 0, "p12": 0, "p21": 0, "times": "", "sizes": "", "dirs": ""})
            ms = int((sec + usec / 1e6) * 1000)
            b["times"] += str(ms) + ";"
            b["sizes"] += str(size) + ";"
            one_to_two = key[0] == src and key[1] == sport
            if one_to_two:
                b["b12"] += size
                b["p12"] += 1
                b["dirs"] += "1;"
            else:
                b["b21"] += size
                b["p21"] += 1
                b["dirs"] += "2;"
    flush()
    # The reader hands out a row's packets in list order, rows in file order.
    for row in rows:
        f = row.split(",")
        ip1, p1, ip2, p2, proto = f[1], int(f[2]), f[3], int(f[4]), int(f[5])
        for ms, size, d in zip(f[10].split(";")[:-1], f[11].split(";")[:-1], f[12].split(";")[:-1]):
            if d == "1":
                oracle.append((ip1, ip2, p1, p2, proto, 0, int(ms) * 1_000_000, int(size), 0))
            else:
                oracle.append((ip2, ip1, p2, p1, proto, 0, int(ms) * 1_000_000, int(size), 1))
    header = "Time,IP1,Port1,IP2,Port2,Proto,1->2Bytes,2->1Bytes,1->2Pkts,2->1Pkts,packet_times,packet_sizes,packet_dirs"
    return "\n".join([header] + rows) + "\n", oracle


def packet_csv(packets):
    """Two sessions (the TCP and the UDP connection); sign = direction (negative = downstream)."""
    lines, oracle = [], []
    for index, (name, kind, client) in enumerate([("4_tcp", "tcp", CLIENT4), ("6_udp", "udp6", CLIENT6)], start=1):
        mine = [(t, ip) for t, ip, k in packets if k == kind]
        lines += ["session," + name, "rel_ts_us,len"]
        t0 = mine[0][0]
        for t, ip in mine:
            v6 = (ip[0] >> 4) == 6
            src = inet_to_str(ip[8:24] if v6 else ip[12:16])
            size = (struct.unpack(">H", ip[4:6])[0] + 40) if v6 else struct.unpack(">H", ip[2:4])[0]
            up = src == client
            lines.append("%d,%d" % (t - t0, size if up else -size))
            sp, dp = (1, 2) if up else (2, 1)
            oracle.append(("-", "-", sp, dp, 0, index, (t - t0) * 1000, size, 0 if up else 1))
    return "\r\n".join(lines) + "\r\n", oracle


def write(path, text, binary=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if binary else "w", newline="") as f:
        f.write(text)


def write_oracle(name, rows):
    text = "src,dst,sport,dport,proto,session,time_ns,size,dir\n" + "".join(
        ",".join(str(v) for v in r) + "\n" for r in rows)
    write(os.path.join(HERE, "oracle", name + ".csv"), text)


def main():
    packets = traffic()
    pcap_path = os.path.join(HERE, "corpus", "pcap", "synthetic.pcap")
    os.makedirs(os.path.dirname(pcap_path), exist_ok=True)
    write_pcap(pcap_path, packets)
    text, oracle = authors_csv(pcap_path, "synthetic")
    write(os.path.join(HERE, "corpus", "authors_csv", "synthetic.csv"), text)
    write_oracle("authors_csv", oracle)
    text, oracle = network_stats_csv(pcap_path)
    write(os.path.join(HERE, "corpus", "network_stats_csv", "synthetic.csv"), text)
    write_oracle("network_stats_csv", oracle)
    text, oracle = packet_csv(packets)
    write(os.path.join(HERE, "corpus", "packet_csv", "synthetic.csv"), text)
    write_oracle("packet_csv", oracle)


if __name__ == "__main__":
    main()
