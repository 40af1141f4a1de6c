#!/usr/bin/env python3
"""A long live capture keeps its memory flat (docs/reliability.md, issue 19).

`flowpic classify -i` captures for SECONDS on a veth pair between two network namespaces while
the other namespace sends churning UDP flows, as a busy link carries: new 5-tuples all the time,
each flow 40 packets over 20 s (so every flow gets a complete 15 s block), about 50 new flows and
2,000 packets per second. The tool's resident memory is sampled every second; once the flow table
has filled (after the first third of the run), the peak of the last third may exceed the peak of
the middle third by at most 10 % + 4 MB. The tool must exit 0, classify blocks, and print the
kernel's counters (pcap_stats) at the end.

Usage: long_capture_memory.py FLOWPIC [SECONDS]   (root and `ip`; else exit 77, skipped)
(`long_capture_memory.py --sender SECONDS` is the sending side, run inside its namespace.)
"""
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

TOOL = sys.argv[1] if len(sys.argv) > 1 else "flowpic"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
NS_A, NS_B = "fplong%d-a" % os.getpid(), "fplong%d-b" % os.getpid()
VETH_A, VETH_B = "fpl%da" % (os.getpid() % 100000), "fpl%db" % (os.getpid() % 100000)
ADDR_A, ADDR_B = "10.202.0.1", "10.202.0.2"


def sh(*args, check=True):
    return subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=check)


def setup():
    for ns in (NS_A, NS_B):
        sh("ip", "netns", "add", ns)
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", check=False)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", VETH_A, "netns", NS_A, "type", "veth", "peer", "name", VETH_B, "netns", NS_B)
    sh("ip", "-n", NS_A, "addr", "add", ADDR_A + "/24", "dev", VETH_A)
    sh("ip", "-n", NS_B, "addr", "add", ADDR_B + "/24", "dev", VETH_B)
    sh("ip", "-n", NS_A, "link", "set", VETH_A, "up")
    sh("ip", "-n", NS_B, "link", "set", VETH_B, "up")


def teardown():
    for ns in (NS_A, NS_B):
        sh("ip", "netns", "delete", ns, check=False)


def sender(seconds):
    """Churning UDP flows to a closed port of ADDR_A (nothing answers but ICMP), for `seconds`."""
    rng = random.Random(19)
    flows = []  # [socket, packets left, next send time, destination port]
    sent = 0
    now = next_new = start = time.monotonic()
    while now - start < seconds:
        while next_new <= now:  # 50 new flows a second
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ADDR_B, 0))
            flows.append([s, 40, now + rng.random() * 0.5, 40000 + rng.randint(0, 9999)])
            next_new += 0.02
        live = []
        for f in flows:
            if f[2] <= now:
                try:
                    f[0].sendto(b"x" * rng.randint(20, 1400), (ADDR_A, f[3]))
                    sent += 1
                except OSError:
                    pass  # an ICMP error reported on this socket: the flow goes on
                f[1] -= 1
                f[2] += 0.5
            if f[1] > 0:
                live.append(f)
            else:
                f[0].close()
        flows = live
        time.sleep(0.005)
        now = time.monotonic()
    print(sent)
    return 0


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("long_capture_memory: needs root and ip (iproute2): skipped")
        return 77
    try:
        setup()
    except (subprocess.CalledProcessError, OSError) as e:
        print("long_capture_memory: no network namespaces here (%s): skipped" % e)
        teardown()
        return 77
    try:
        cmd = ["ip", "netns", "exec", NS_A, TOOL, "classify", "-i", VETH_A, "--seconds", str(SECONDS),
               "--max-flows", "2000", "--idle-timeout", "5", "--stats"]
        tool = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rows, err = [0], [""]
        readers = [threading.Thread(target=lambda: rows.__setitem__(0, sum(1 for _ in tool.stdout))),
                   threading.Thread(target=lambda: err.__setitem__(0, tool.stderr.read()))]
        for r in readers:
            r.start()
        time.sleep(1.0)  # the capture opens before the traffic starts
        send = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, os.path.abspath(__file__), "--sender",
                                 str(SECONDS - 3)], stdout=subprocess.PIPE, text=True)
        samples = []  # (seconds since start, RSS kB)
        start = time.monotonic()
        while tool.poll() is None:
            r = rss_kb(tool.pid)
            if r is not None:
                samples.append((time.monotonic() - start, r))
            time.sleep(1.0)
        sent = send.communicate()[0].strip()
        for r in readers:
            r.join()
        err = err[0]
        blocks = max(0, rows[0] - 1)  # the header is not a block
    finally:
        teardown()
    third = SECONDS / 3
    middle = [r for s, r in samples if third <= s < 2 * third]
    last = [r for s, r in samples if s >= 2 * third]
    print("long_capture_memory: %s packets sent, %d rows classified, RSS (MB) every 10 s: %s" % (
        sent, blocks, " ".join("%.1f" % (r / 1024) for s, r in samples[::10])))
    print(err.strip())
    fail = []
    if tool.returncode != 0:
        fail.append("the tool exited %d" % tool.returncode)
    if "packets received by the kernel" not in err:
        fail.append("no kernel counters (pcap_stats) at the end")
    if blocks < 1000:
        fail.append("only %d blocks classified (expected one per flow)" % blocks)
    if not middle or not last:
        fail.append("too few RSS samples")
    elif max(last) > max(middle) * 1.10 + 4096:
        fail.append("memory grew: peak %.1f MB in the middle third, %.1f MB in the last" % (
            max(middle) / 1024, max(last) / 1024))
    for f in fail:
        print("long_capture_memory: FAIL: " + f)
    if not fail:
        print("long_capture_memory: passed: peak %.1f MB in the middle third, %.1f MB in the last" % (
            max(middle) / 1024, max(last) / 1024))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(sender(float(sys.argv[2])) if len(sys.argv) > 2 and sys.argv[1] == "--sender" else main())
