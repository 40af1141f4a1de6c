#!/usr/bin/env python3
"""Records what tshark counts in the bundled sample (and a pcapng capture) for each capture filter
of the CLI tests (tests/cli/filter_check.cmake), as the independent oracle of `flowpic flows -f`.

    scripts/make_filter_fixtures.py [OUT]     (default: tests/cli/filter/expected.csv)

Each row: the capture (relative to the repository), a BPF expression (what flowpic compiles with
libpcap), the Wireshark display filter that selects the same frames among those flowpic makes
packets of (TCP and UDP, not inside ICMP errors), and the number of frames tshark shows with it
(`tshark -r CAPTURE -Y FILTER`). tshark cannot apply a capture filter to a file it reads, so its
display filter language is the second reader. Run it again when the captures change.
"""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = "data/sample/sample.pcap"
PCAPNG = "tests/fuzz/corpus/pcapng/synthetic.pcapng"

FILTERS = [
    (SAMPLE, "udp", "udp && !icmp"),
    (SAMPLE, "tcp port 8443", "tcp.port == 8443"),
    (SAMPLE, "src host 192.168.77.1 and tcp dst portrange 40100-40104",
     "ip.src == 192.168.77.1 && tcp.dstport >= 40100 && tcp.dstport <= 40104"),
    (SAMPLE, "tcp and not port 8080", "tcp && !(tcp.port == 8080)"),
    (PCAPNG, "udp", "udp && !icmp"),
    (PCAPNG, "src host 10.0.0.1", "ip.src == 10.0.0.1 && (tcp || udp) && !icmp"),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "cli", "filter", "expected.csv")
    rows = []
    for capture, bpf, display in FILTERS:
        p = subprocess.run(["tshark", "-r", os.path.join(ROOT, capture), "-Y", display, "-T", "fields", "-e", "frame.number"],
                           check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        rows.append((capture, bpf, display, len(p.stdout.split())))
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["capture", "bpf", "display_filter", "frames"])
        w.writerows(rows)


main()
