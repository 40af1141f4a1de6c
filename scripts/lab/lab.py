#!/usr/bin/python3
"""flowpic traffic lab: labelled captures of the five FlowPic categories, plain and through
OpenVPN, made by real software between network namespaces of this machine (run as root).

  lab.py --out DIR --seconds S [--vpn no|yes|both] [--categories LIST] [--sessions N] [--seed N]

Every session runs in a client namespace of its own, joined to its category's server namespace
through a WAN link of its own (flowpic-link-emulator: delay, jitter, loss, rate, queue, drawn per
session from its seed; fplab/wan.py), and is captured on the client's link: a capture holds only
the traffic of the session it labels. DIR gets <category>/<category>-<plain|vpn>-NNN.pcap and
manifest.csv.
"""

import argparse
import csv
import fcntl
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fplab import apps, check, content, servers, stack, wan, web  # noqa: E402
from fplab.atomic import atomic_open  # noqa: E402
from fplab.netns import Namespace, link, wait_log  # noqa: E402
from fplab.pki import Pki  # noqa: E402

CATEGORIES = apps.ORDER
MANIFEST_HEADER = check.HEADER
EMULATOR = "flowpic-link-emulator"
PY = "/usr/bin/python3"
CLIENTS = os.path.join(HERE, "clients")
TOOLS = ["ip", "tc", "ethtool", "tcpdump", "openssl", "ssh-keygen", "ss", "ffmpeg"]


def session_seed(seed, category, vpn, i):
    h = hashlib.sha256(("%d/%s/%s/%d" % (seed, category, vpn, i)).encode()).digest()
    return int.from_bytes(h[:4], "little")


class Session:
    def __init__(self, job, i, seed, start, duration):
        self.job, self.i, self.seed, self.start, self.duration = job, i, seed, start, duration
        self.rng = random.Random(seed)
        self.ns = None
        self.procs = []  # (process, namespace) of the session's client software
        self.capture = None
        v = "vpn" if job.vpn else "plain"
        self.file = "%s/%s-%s-%03d.pcap" % (job.category, job.category, v, i)
        self.underlay_server = "10.%d.%d.1" % (100 + job.index, i)
        self.underlay_client = "10.%d.%d.2" % (100 + job.index, i)
        if job.vpn:
            self.server_addr = "%s.0.1" % job.tunnel_net
            self.client_addr = servers.tunnel_addr(job.tunnel_net, i)
        else:
            self.server_addr, self.client_addr = self.underlay_server, self.underlay_client
        self.application = job.category_application(i)
        self.wan = wan.profile(seed, job.lab.args.max_rate) if job.lab.args.wan == "on" else None
        self.tcp_timestamps = stack.timestamps(seed, job.lab.args.tcp_timestamps)

    def wan_columns(self):
        if self.wan:
            return wan.columns(self.wan)
        down, up = self.job.speeds(self)  # --wan off: today's token buckets, no delay
        return ["0.0", "0.0", "0.0000", "%.2f" % down, "%.2f" % up, "off", "0"]


class Job:
    """One category in one variant (plain or VPN): a server namespace and its sessions."""

    def __init__(self, lab, category, vpn, index):
        self.lab, self.category, self.vpn, self.index = lab, category, vpn, index
        self.tunnel_net = "10.%d" % (200 + index)
        self.srv = None
        self.kind = apps.CATEGORIES[category]
        a = lab.args
        names = self.kind.applications
        if a.applications:
            names = [n for n in names if n in a.applications] or names
        self.applications = self.kind.cycle(names, session_seed(a.seed, category, "yes" if vpn else "no", 0) % len(names))
        stagger = min(5.0, 0.1 * a.seconds)
        self.sessions = []
        for i in range(a.sessions):
            s = session_seed(a.seed, category, "yes" if vpn else "no", i)
            start = round(random.Random(s ^ 0x5eed).uniform(0, stagger), 3)
            self.sessions.append(Session(self, i, s, start, a.seconds))

    def category_application(self, i):
        """Sessions take the category's applications in turn (Category.cycle), from a seeded first one."""
        return self.applications[i % len(self.applications)]

    # --wan off: per-session link speeds (Mbit/s), down from the server, up from the client
    def speeds(self, s):
        down, up = self._speeds(s)
        cap = self.lab.args.max_rate
        return (min(down, cap), min(up, cap)) if cap else (down, up)

    def _speeds(self, s):
        r = random.Random(s.seed ^ 0x11ab)
        if self.category == "video":
            return r.choice([3, 4, 6, 10, 16]), 2
        if self.category == "browsing":
            return r.choice([5, 10, 20, 50]), r.choice([1, 2, 5])
        if self.category == "file_transfer":
            return r.choice([2, 3, 4, 6, 8]), r.choice([1, 2, 3, 4])
        return 20, 5

    def setup(self):
        lab = self.lab
        self.work = os.path.join(lab.work, "%s-%s" % (self.category, "vpn" if self.vpn else "plain"))
        os.makedirs(self.work, exist_ok=True)
        self.srv = lab.namespace("%ds" % self.index)
        # the WAN links' emulators: a namespace of their own, no addresses, so no stack answers there
        self.emu = lab.namespace("%de" % self.index) if lab.args.wan == "on" else None
        for s in self.sessions:
            s.ns = lab.namespace("%dc%d" % (self.index, s.i))
            stack.apply(s.ns, s.tcp_timestamps)
            dev = "s%d" % s.i
            if self.emu:
                # client eth0 <-> c<i> [emulator] s<i> <-> s<i> server
                link(s.ns, "eth0", self.emu, "c%d" % s.i)
                link(self.emu, "s%d" % s.i, self.srv, dev)
                up, down = wan.specs(s.wan)
                s.wan_stats = os.path.join(self.work, "wan-%d.json" % s.i)
                s.wan_log = os.path.join(self.work, "wan-%d.log" % s.i)
                self.emu.spawn([lab.emulator, "--a", "c%d" % s.i, "--b", "s%d" % s.i, "--seed", str(s.seed),
                                "--up", up, "--down", down, "--stats", s.wan_stats], log=s.wan_log)
            else:
                link(self.srv, dev, s.ns, "eth0")
                down, up = self.speeds(s)
                self.srv.shape(dev, down)
                s.ns.shape("eth0", up)
            self.srv.addr(dev, s.underlay_server + "/24")
            s.ns.addr("eth0", s.underlay_client + "/24")
        if self.emu:
            for s in self.sessions:
                wait_log(s.wan_log, "ready", 10, "flowpic-link-emulator in " + self.emu.name)
        self.kind.setup(self, {s.application for s in self.sessions})
        if self.vpn:
            servers.openvpn_server(self.srv, self.work, lab.pki, self.tunnel_net, len(self.sessions))

    def start_captures(self):
        for s in self.sessions:
            path = os.path.join(self.lab.out, s.file)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.exists(path):
                os.unlink(path)
            log = os.path.join(self.work, "tcpdump-%d.log" % s.i)
            s.capture = s.ns.spawn(["tcpdump", "-i", "eth0", "-n", "-U", "-s", str(self.lab.args.snaplen),
                                    "-w", path, "ip"], log=log)
            s.capture_log = log

    def wait_captures(self):
        for s in self.sessions:
            wait_log(s.capture_log, "listening on", 30, "tcpdump in " + s.ns.name)

    def start_vpn_clients(self):
        if not self.vpn:
            return
        for s in self.sessions:
            s.vpn_log = servers.openvpn_client(s.ns, self.work, self.lab.pki, "s%d" % s.i, s.underlay_server)

    def wait_vpn_clients(self):
        if not self.vpn:
            return
        for s in self.sessions:
            wait_log(s.vpn_log, "Initialization Sequence Completed", 60, "the OpenVPN client in " + s.ns.name)

    def start_background(self, total):
        self.kind.background(self, total)

    def start_session(self, s):
        self.kind.start(self, s)

    def stop_session(self, s):
        for p, ns in s.procs:
            ns.stop(p, wait=8.0)


class Lab:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        self.tag = "%04x" % (os.getpid() & 0xffff)
        self.namespaces = []
        self.work = os.path.join(self.out, ".lab-work")
        self.emulator = find_emulator(args)

    def namespace(self, suffix):
        ns = Namespace("fpl%s-%s" % (self.tag, suffix))
        self.namespaces.append(ns)
        return ns

    def say(self, msg):
        if not self.args.quiet:
            print("lab: " + msg, file=sys.stderr, flush=True)

    def plan(self):
        """The jobs, and the manifest rows they will write: a function of the arguments alone."""
        a = self.args
        variants = {"no": [False], "yes": [True], "both": [False, True]}[a.vpn]
        jobs = [Job(self, c, v, CATEGORIES.index(c) * 2 + int(v)) for c in a.categories for v in variants]
        rows = sorted([s.file, j.category, "yes" if j.vpn else "no", s.application, s.seed, "%.3f" % s.start,
                       "%g" % s.duration] + s.wan_columns() + [s.tcp_timestamps] for j in jobs for s in j.sessions)
        return jobs, rows

    @staticmethod
    def write_manifest(f, rows):
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MANIFEST_HEADER)
        w.writerows(rows)

    def run(self):
        a = self.args
        jobs, rows = self.plan()
        os.makedirs(self.out, exist_ok=True)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.say("preparing content in %s" % a.cache)
        os.makedirs(a.cache, exist_ok=True)
        with open(os.path.join(a.cache, ".lock"), "w") as lock:  # labs running at once share the cache
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.content = content.prepare(a.cache, a.categories)
            self.pki = Pki(os.path.join(a.cache, "pki"))
        actual = {}
        wall0 = None
        try:
            self.say("starting %d server namespaces and %d sessions" % (len(jobs), len(jobs) * a.sessions))
            for j in jobs:
                j.setup()
            for j in jobs:
                j.start_captures()
            for j in jobs:
                j.wait_captures()
            for j in jobs:
                j.start_vpn_clients()
            for j in jobs:
                j.wait_vpn_clients()
            sessions = [s for j in jobs for s in j.sessions]
            total = max((s.start + s.duration for s in sessions), default=0)
            for j in jobs:
                j.start_background(total)
            t0 = time.monotonic() + 1.0
            wall0 = time.time() + 1.0
            events = sorted([(s.start, 0, s) for s in sessions] + [(s.start + s.duration, 1, s) for s in sessions],
                            key=lambda e: (e[0], e[1], e[2].job.index, e[2].i))
            self.say("running for %.0f s" % total)
            for at, kind, s in events:
                delay = t0 + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if kind == 0:
                    actual[s.file] = time.time()
                    s.job.start_session(s)
                else:
                    s.job.stop_session(s)
            time.sleep(1.5)  # the last FIN and ACK packets
            for s in sessions:
                s.ns.stop(s.capture, wait=10.0)
        finally:
            # the emulators first: they write their counters on SIGTERM, before their links go
            emus = [j.emu for j in jobs if getattr(j, "emu", None)]
            for ns in emus + [n for n in reversed(self.namespaces) if n not in emus]:
                ns.close()
        counters = {}
        for j in jobs:
            for s in j.sessions:
                try:
                    with open(s.wan_stats) as f:
                        counters[s.file] = json.load(f)
                except (AttributeError, OSError, ValueError):
                    pass
        # run.json first: a manifest.csv is the sign of a finished run
        with atomic_open(os.path.join(self.out, "run.json"), "w") as f:  # what is not reproducible
            json.dump({"started_at_epoch": wall0, "session_start_epoch": actual, "args": vars(a),
                       "wan_counters": counters,
                       "host": os.uname().nodename, "kernel": os.uname().release}, f, indent=1, default=str)
        with atomic_open(os.path.join(self.out, "manifest.csv"), "w", newline="") as f:
            self.write_manifest(f, rows)
        if not a.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)
        self.say("wrote %d captures and manifest.csv to %s" % (len(rows), self.out))
        return rows


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="flowpic lab", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the captures and manifest.csv")
    ap.add_argument("--seconds", type=float, required=True, help="length of every session")
    ap.add_argument("--vpn", choices=["no", "yes", "both"], default="no")
    ap.add_argument("--categories", default=",".join(CATEGORIES),
                    help="comma-separated subset of: " + ", ".join(CATEGORIES))
    ap.add_argument("--applications", default="",
                    help="comma-separated applications to run (a category none of which is named runs all of its "
                         "own): " + ", ".join(apps.applications()))
    ap.add_argument("--sessions", type=int, default=1, help="sessions at once per category and variant")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-rate", type=float, default=0,
                    help="cap on every session's link speed in Mbit/s (smaller captures); 0: none")
    ap.add_argument("--wan", choices=["on", "off"], default="on",
                    help="on: every session through an emulated WAN link drawn from its seed (delay, jitter, loss, "
                         "rate, queue); off: a bare veth with a token bucket (no delay), as before")
    ap.add_argument("--quic", choices=list(web.QUIC_PROFILES), default="google",
                    help="how the lab's QUIC servers and players send: google: 1350-byte packets and Chromium's ACK "
                         "decimation, as Google's QUIC and Chrome (real YouTube traffic); quic-go: quic-go as packaged")
    ap.add_argument("--tcp-timestamps", choices=list(stack.CHOICES), default="mixed",
                    help="the clients' TCP timestamps: mixed: off in a seeded share of sessions, as on Windows, on "
                         "in the others, as on Linux, Android and Apple systems; on or off: every session")
    ap.add_argument("--link-emulator", default="",
                    help="the flowpic-link-emulator program (default: $FLOWPIC_LINK_EMULATOR, else PATH)")
    ap.add_argument("--snaplen", type=int, default=96, help="bytes kept per packet (sizes come from the IP header)")
    ap.add_argument("--cache", default=os.environ.get("FLOWPIC_LAB_CACHE", "/var/tmp/flowpic-lab"),
                    help="where generated content (videos, sites, files, keys) is kept between runs")
    ap.add_argument("--plan", action="store_true", help="print the manifest the run would write, and stop")
    ap.add_argument("--check", action="store_true", help="verify the captures against the manifest afterwards")
    ap.add_argument("--keep-work", action="store_true", help="keep configs and logs in OUT/.lab-work")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--force", action="store_true", help="write into an OUT that holds a lab run's manifest.csv")
    a = ap.parse_args(argv)
    a.categories = [c.strip() for c in a.categories.split(",") if c.strip()]
    bad = [c for c in a.categories if c not in CATEGORIES]
    if bad or not a.categories:
        ap.error("unknown category %s; choose from %s" % (",".join(bad) or "''", ",".join(CATEGORIES)))
    a.applications = [n.strip() for n in a.applications.split(",") if n.strip()]
    unknown = [n for n in a.applications if n not in apps.applications()]
    if unknown:
        ap.error("unknown application %s; choose from %s" % (",".join(unknown), ",".join(apps.applications())))
    if not 1 <= a.sessions <= 250:
        ap.error("--sessions must be between 1 and 250")
    if a.seconds <= 0:
        ap.error("--seconds must be positive")
    web.use_quic(a.quic)
    return a


def find_emulator(a):
    """--link-emulator, else $FLOWPIC_LINK_EMULATOR, else PATH; None where there is none."""
    for p in (a.link_emulator, os.environ.get("FLOWPIC_LINK_EMULATOR", "")):
        if p:
            return os.path.abspath(p) if os.access(p, os.X_OK) and os.path.isfile(p) else None
    return shutil.which(EMULATOR)


def preflight(a):
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, tcpdump)"
    need = set(TOOLS)
    for c in a.categories:
        job = Job(Lab(a), c, False, 0)
        need.update(apps.CATEGORIES[c].tools_for({s.application for s in job.sessions}))
    if a.vpn != "no":
        need.add("openvpn")
    missing = sorted(t for t in need if not shutil.which(t))
    if missing:
        return "missing programs: %s (run %s as root)" % (" ".join(missing), os.path.join(HERE, "setup.sh"))
    if a.wan == "on" and not find_emulator(a):
        return ("no %s: build the flowpic_link_emulator target and give --link-emulator PATH or "
                "FLOWPIC_LINK_EMULATOR (`flowpic lab` passes its own), or run with --wan off" % EMULATOR)
    probe = "fplprobe%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", probe], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return "network namespaces are not available here: " + r.stderr.strip()
    subprocess.run(["ip", "netns", "del", probe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.path.exists("/dev/net/tun") and a.vpn != "no":
        return "no /dev/net/tun for OpenVPN"
    return None


def main(argv=None):
    a = parse(argv)
    if a.plan:
        Lab.write_manifest(sys.stdout, Lab(a).plan()[1])
        return 0
    if not a.force and os.path.exists(os.path.join(a.out, "manifest.csv")):
        print("flowpic lab: %s already holds a run (manifest.csv): give --force to write into it, or choose "
              "another directory" % a.out, file=sys.stderr)
        return 2
    why = preflight(a)
    if why:
        print("flowpic lab: " + why, file=sys.stderr)
        return 77  # cannot run here (the smoke test's "skip")
    Lab(a).run()
    if a.check:
        problems = check.check_dir(a.out)
        for p in problems:
            print("flowpic lab: check: " + p, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
