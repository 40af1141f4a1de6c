#!/usr/bin/python3
"""The lab's WAN link emulator between three network namespaces: client <-> emulator <-> server.

  link_emulator.py EMULATOR WORKDIR [--bench]

1. delay 30 ms each way with 4 ms jitter, 5 % loss on the way down: ~1000 UDP probes echoed by
   the server show the RTT (median 60 ms), its spread, and the loss within binomial bounds; the
   emulator's counters agree with what the prober and the echo server counted, frame for frame.
2. no loss, 10 Mbit/s each way: every probe returns; a TCP bulk transfer runs at the rate.
--bench: no delay, no rate: how many frames per second the emulator forwards (docs/benchmarks.md).
Checksum offload stays on at both ends: the emulator must fill the checksums for the receiver.
Exits 77 (skipped) without root or network namespaces.
"""

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time

PY = "/usr/bin/python3"
ME = os.path.abspath(__file__)
SERVER, CLIENT = "10.77.0.1", "10.77.0.2"
UDP_PORT, TCP_PORT = 7777, 7778


# --- roles run inside the namespaces (this file, run again with a role as first argument) ---

def role_echo(out):
    """UDP echo on UDP_PORT and a TCP sink on TCP_PORT; counts written to `out` on SIGTERM."""
    import selectors
    import signal
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    u.bind(("0.0.0.0", UDP_PORT))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", TCP_PORT))
    t.listen(4)
    st = {"udp": 0, "tcp_bytes": 0, "tcp_marks": []}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sel = selectors.DefaultSelector()
    sel.register(u, selectors.EVENT_READ, "u")
    sel.register(t, selectors.EVENT_READ, "t")
    print("ready", flush=True)
    while not stop:
        for key, _ in sel.select(0.2):
            if key.data == "u":
                while True:
                    try:
                        data, addr = u.recvfrom(2048, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    st["udp"] += 1
                    u.sendto(data, addr)
            elif key.data == "t":
                c, _ = t.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, "c")
            else:
                try:
                    b = key.fileobj.recv(1 << 16)
                except BlockingIOError:
                    continue
                if not b:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                st["tcp_bytes"] += len(b)
                st["tcp_marks"].append((time.monotonic(), st["tcp_bytes"]))
    marks = st.pop("tcp_marks")
    if len(marks) > 2:  # goodput after the first second (slow start) to the end
        t0 = marks[0][0] + 1.0
        first = next(m for m in marks if m[0] >= t0)
        last = marks[-1]
        st["tcp_mbit"] = (last[1] - first[1]) * 8 / (last[0] - first[0]) / 1e6 if last[0] > first[0] else 0
    with open(out, "w") as f:
        json.dump(st, f)


def role_probe(n, interval, size):
    """n sequence-numbered UDP probes every `interval` s; prints what came back as JSON."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((SERVER, UDP_PORT))
    s.setblocking(False)
    sent, rtt, dup = {}, {}, 0
    pad = b"\0" * max(0, size - 12)

    def drain():
        nonlocal dup
        while True:
            try:
                d = s.recv(4096)
            except (BlockingIOError, ConnectionRefusedError):
                return
            now = time.monotonic()
            seq = int.from_bytes(d[:4], "big")
            if seq in rtt:
                dup += 1
            elif seq in sent:
                rtt[seq] = now - sent[seq]
    t0 = time.monotonic()
    for i in range(n):
        while time.monotonic() < t0 + i * interval:
            drain()
            time.sleep(0.0005)
        sent[i] = time.monotonic()
        s.send(i.to_bytes(4, "big") + b"\0" * 8 + pad)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        drain()
        time.sleep(0.002)
    order = sorted(rtt, key=lambda k: sent[k] + rtt[k])
    reordered = sum(1 for a, b in zip(order, order[1:]) if b < a)
    ms = sorted(v * 1000 for v in rtt.values())
    q = (lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]) if ms else (lambda p: 0)
    print(json.dumps({"sent": n, "received": len(rtt), "duplicates": dup, "reordered": reordered,
                      "median_ms": statistics.median(ms) if ms else 0, "p5_ms": q(0.05), "p95_ms": q(0.95),
                      "min_ms": ms[0] if ms else 0, "max_ms": ms[-1] if ms else 0}))


def role_bulk(seconds):
    c = socket.create_connection((SERVER, TCP_PORT), timeout=10)
    buf = b"x" * 65536
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c.send(buf)
    c.close()


def role_flood(seconds, size, pps):
    """UDP frames of `size` bytes at up to `pps` per second (0: as fast as possible)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((SERVER, UDP_PORT + 1))  # nobody listens: the server's kernel drops them
    data = b"f" * size
    n, t0 = 0, time.monotonic()
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        if pps and n >= (now - t0) * pps:
            time.sleep(0.0002)
            continue
        for _ in range(32):
            try:
                s.send(data)
                n += 1
            except OSError:
                pass
    print(json.dumps({"sent": n}))


# --- the test, in the host's namespace ---

class Lab:
    def __init__(self, work):
        self.tag = "fpwe%04x" % (os.getpid() & 0xffff)
        self.c, self.e, self.s = self.tag + "c", self.tag + "e", self.tag + "s"
        self.work = work
        self.made = []
        self.procs = []

    def ip(self, *a):
        subprocess.run(["ip"] + list(a), check=True, capture_output=True)

    def ns_exec(self, ns, *cmd, check=True):
        return subprocess.run(["ip", "netns", "exec", ns] + list(cmd), check=check, capture_output=True, text=True)

    def setup(self):
        for ns in (self.c, self.e, self.s):
            self.ip("netns", "add", ns)
            self.made.append(ns)
            self.ip("-n", ns, "link", "set", "lo", "up")
            for k in ("all", "default"):
                self.ns_exec(ns, "sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % k, check=False)
        self.ip("link", "add", "ec", "netns", self.e, "type", "veth", "peer", "name", "eth0", "netns", self.c)
        self.ip("link", "add", "es", "netns", self.e, "type", "veth", "peer", "name", "eth0", "netns", self.s)
        for ns, dev in ((self.c, "eth0"), (self.e, "ec"), (self.e, "es"), (self.s, "eth0")):
            self.ns_exec(ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", check=False)
            self.ip("-n", ns, "link", "set", dev, "up")
        self.ip("-n", self.c, "addr", "add", CLIENT + "/24", "dev", "eth0")
        self.ip("-n", self.s, "addr", "add", SERVER + "/24", "dev", "eth0")
        # static neighbours: no ARP in the emulator's counters, so they match the prober's exactly
        mac = {ns: json.loads(self.ns_exec(ns, "ip", "-j", "link", "show", "eth0").stdout)[0]["address"]
               for ns in (self.c, self.s)}
        self.ip("-n", self.c, "neigh", "replace", SERVER, "lladdr", mac[self.s], "dev", "eth0", "nud", "permanent")
        self.ip("-n", self.s, "neigh", "replace", CLIENT, "lladdr", mac[self.c], "dev", "eth0", "nud", "permanent")

    def spawn(self, ns, cmd, log):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def wait_text(self, path, text, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with open(path) as f:
                if text in f.read():
                    return
            time.sleep(0.05)
        raise SystemExit("link emulator test: timed out waiting for '%s' in %s" % (text, path))

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self):
        for p in self.procs:
            self.stop(p)
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


failures = []


def check(ok, what):
    print("link emulator test: %s: %s" % ("ok" if ok else "FAILED", what), flush=True)
    if not ok:
        failures.append(what)


def balanced(d):
    return d["received"] == d["forwarded"] + d["dropped_loss"] + d["dropped_queue"] + d["queued"] + d["send_errors"]


def phase(lab, emu, name, up, down, seed=1):
    stats = os.path.join(lab.work, name + "-stats.json")
    elog = os.path.join(lab.work, name + "-emulator.log")
    slog, sout = os.path.join(lab.work, name + "-server.log"), os.path.join(lab.work, name + "-server.json")
    e = lab.spawn(lab.e, [emu, "--a", "ec", "--b", "es", "--seed", str(seed), "--up", up, "--down", down,
                          "--stats", stats], elog)
    lab.wait_text(elog, "ready")
    srv = lab.spawn(lab.s, [PY, ME, "echo", sout], slog)
    lab.wait_text(slog, "ready")

    def finish():
        time.sleep(0.5)
        lab.stop(srv)
        lab.stop(e)
        with open(stats) as f:
            st = json.load(f)
        with open(sout) as f:
            server = json.load(f)
        print("link emulator test: %s: emulator %s" % (name, json.dumps(st)))
        print("link emulator test: %s: server %s" % (name, json.dumps(server)))
        return st, server
    return finish


def probe(lab, n, interval, size=64):
    r = lab.ns_exec(lab.c, PY, ME, "probe", str(n), str(interval), str(size))
    p = json.loads(r.stdout)
    print("link emulator test: probes %s" % json.dumps(p))
    return p


def test(emu, work):
    lab = Lab(work)
    try:
        lab.setup()
        # 1. RTT, jitter, loss, and the counters against the prober's
        finish = phase(lab, emu, "loss", "delay=30ms,jitter=4ms", "delay=30ms,jitter=4ms,loss=5%")
        p = probe(lab, 1000, 0.003)
        st, server = finish()
        # the prober's own scheduling adds a little on a busy machine, never takes any away
        check(59 < p["median_ms"] < 64, "median RTT %.2f ms, configured 60 ms" % p["median_ms"])
        check(p["min_ms"] > 51.5 and p["p95_ms"] < 70,
              "RTT within [52, 68] ms (+ scheduling): min %.2f, p95 %.2f, max %.2f"
              % (p["min_ms"], p["p95_ms"], p["max_ms"]))
        check(p["p95_ms"] - p["p5_ms"] > 4, "jitter spreads the RTT: p5 %.2f, p95 %.2f ms" % (p["p5_ms"], p["p95_ms"]))
        lost = 1 - p["received"] / p["sent"]
        sd = math.sqrt(0.05 * 0.95 / p["sent"])
        check(abs(lost - 0.05) < 4 * sd, "loss %.4f, configured 0.05 (+-%.4f)" % (lost, 4 * sd))
        up, down = st["up"], st["down"]
        check(up["received"] == p["sent"] and up["forwarded"] == server["udp"] and up["dropped_loss"] == 0,
              "up: the emulator received every probe sent and the server every one forwarded")
        check(down["received"] == server["udp"] and down["forwarded"] == p["received"],
              "down: the emulator received every echo and the prober every one forwarded")
        check(down["dropped_loss"] == p["sent"] - p["received"] and down["dropped_queue"] == 0,
              "every probe lost was dropped by the configured loss, none otherwise")
        check(balanced(up) and balanced(down), "received = forwarded + dropped + queued, both ways")
        check(down["checksums_filled"] > 0 and p["duplicates"] == 0,
              "checksums filled in (offload on) and accepted; no duplicates")

        # 2. no loss: every probe returns; TCP at the rate
        finish = phase(lab, emu, "rate", "delay=10ms,rate=10mbit,queue=50ms", "delay=10ms,rate=10mbit,queue=50ms")
        p = probe(lab, 500, 0.002)
        check(p["received"] == p["sent"], "loss=0: all %d probes returned (%d)" % (p["sent"], p["received"]))
        check(abs(p["median_ms"] - 20) < 2, "median RTT %.2f ms, configured 20 ms" % p["median_ms"])
        lab.ns_exec(lab.c, PY, ME, "bulk", "5")
        st, server = finish()
        mbit = server.get("tcp_mbit", 0)
        goodput = 10 * 1448 / 1514  # the rate counts Ethernet frames; TCP's payload is 1448 of 1514 bytes
        check(abs(mbit - goodput) < 0.12 * goodput, "TCP goodput %.2f Mbit/s, expected %.2f (10 Mbit/s of frames)"
              % (mbit, goodput))
        check(balanced(st["up"]) and balanced(st["down"]), "received = forwarded + dropped + queued, both ways")
        check(st["up"]["dropped_loss"] == 0 and st["down"]["dropped_loss"] == 0 and st["up"]["send_errors"] == 0,
              "no loss configured, none made; no send errors")
    finally:
        lab.close()
    return 1 if failures else 0


def bench(emu, work):
    """Frames per second forwarded with no delay and no rate (docs/benchmarks.md)."""
    lab = Lab(work)
    try:
        lab.setup()
        for size, pps in ((64, 0), (1400, 0)):
            finish = phase(lab, emu, "bench%d" % size, "", "")
            r = json.loads(lab.ns_exec(lab.c, PY, ME, "flood", "5", str(size), str(pps)).stdout)
            st, _ = finish()
            up = st["up"]
            fwd = up["forwarded"]
            print("link emulator bench: UDP %d-byte payloads: sent %d, emulator received %d (socket drops %d), "
                  "forwarded %d in 5 s: %.0f frames/s, %.1f Mbit/s of frames"
                  % (size, r["sent"], up["received"], up["socket_drops"], fwd, fwd / 5, fwd * (size + 42) * 8 / 5e6))
        finish = phase(lab, emu, "benchtcp", "", "")
        lab.ns_exec(lab.c, PY, ME, "bulk", "5")
        st, server = finish()
        print("link emulator bench: TCP bulk through the emulator: %.1f Mbit/s goodput, %d frames up, %d down"
              % (server.get("tcp_mbit", 0), st["up"]["forwarded"], st["down"]["forwarded"]))
    finally:
        lab.close()
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("echo", "probe", "bulk", "flood"):
        role, args = sys.argv[1], sys.argv[2:]
        if role == "echo":
            role_echo(args[0])
        elif role == "probe":
            role_probe(int(args[0]), float(args[1]), int(args[2]))
        elif role == "bulk":
            role_bulk(float(args[0]))
        else:
            role_flood(float(args[0]), int(args[1]), int(args[2]))
        return 0
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    emu, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.geteuid() != 0:
        print("link emulator test: skipped, needs root")
        return 77
    probe_ns = "fpweprobe%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", probe_ns], capture_output=True).returncode != 0:
        print("link emulator test: skipped, no network namespaces")
        return 77
    subprocess.run(["ip", "netns", "del", probe_ns], capture_output=True)
    for tool in ("ethtool",):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(":")):
            print("link emulator test: skipped, no %s" % tool)
            return 77
    os.makedirs(work, exist_ok=True)
    if "--bench" in sys.argv:
        return bench(emu, work)
    rc = test(emu, work)
    print("link emulator test: %s" % ("passed" if rc == 0 else "FAILED: " + "; ".join(failures)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
