"""Network namespaces, veth links, shaping and the processes started inside them.

Nothing here touches the host's own namespace: veth pairs are created directly inside the
lab's namespaces, and no namespace has a link to the host, so no packet can leave the lab.
"""

import os
import signal
import subprocess
import time


def run(*cmd, check=True, quiet=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.PIPE if quiet else None, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (r.returncode, " ".join(cmd),
                                                            (r.stderr or "").strip()))
    return r


class Namespace:
    """One network namespace of the lab; deleted (with what runs inside) by close()."""

    def __init__(self, name):
        self.name = name
        run("ip", "netns", "add", name)
        self.procs = []
        self.up("lo")
        # no IPv6: keeps router/neighbour solicitations out of the captures
        self.sysctl("net.ipv6.conf.all.disable_ipv6", "1")
        self.sysctl("net.ipv6.conf.default.disable_ipv6", "1")

    def sh(self, *cmd, check=True):
        return run("ip", "netns", "exec", self.name, *cmd, check=check)

    def sysctl(self, key, value):
        self.sh("sysctl", "-q", "-w", "%s=%s" % (key, value), check=False)

    def up(self, dev):
        run("ip", "-n", self.name, "link", "set", dev, "up")

    def addr(self, dev, cidr):
        run("ip", "-n", self.name, "addr", "add", cidr, "dev", dev)

    def no_offloads(self, dev):
        # real links carry MTU-sized packets: no TSO/GSO super-packets in the captures
        self.sh("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", check=False)

    def shape(self, dev, mbit):
        """Egress bandwidth limit (token bucket); the kernels here have no netem."""
        if not mbit:
            return
        burst = max(16, int(mbit * 1000 / 8 / 50))  # ~20 ms of traffic, in kB
        run("tc", "-n", self.name, "qdisc", "replace", "dev", dev, "root", "tbf",
            "rate", "%gmbit" % mbit, "burst", "%dkb" % burst, "latency", "200ms")

    def spawn(self, cmd, log=None, env=None, cwd=None):
        """Starts cmd inside the namespace in its own process group; stopped by close()."""
        out = open(log, "ab") if log else subprocess.DEVNULL
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(["ip", "netns", "exec", self.name] + list(cmd), stdout=out,
                             stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, env=full_env, cwd=cwd,
                             start_new_session=True)
        if log:
            out.close()
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=5.0):
        if p.poll() is not None:
            return p.returncode
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return p.poll()
        try:
            return p.wait(wait)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return p.wait()

    def close(self):
        for p in reversed(self.procs):
            self.stop(p, wait=3.0)
        # anything still inside (daemons that forked away from their group) was started by us
        r = run("ip", "netns", "pids", self.name, check=False)
        for pid in (r.stdout or "").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        for _ in range(50):
            if run("ip", "netns", "del", self.name, check=False).returncode == 0:
                return
            time.sleep(0.1)


def link(a, dev_a, b, dev_b):
    """A veth pair from namespace a (dev_a) to namespace b (dev_b), created inside them."""
    run("ip", "link", "add", dev_a, "netns", a.name, "type", "veth", "peer", "name", dev_b,
        "netns", b.name)
    for ns, dev in ((a, dev_a), (b, dev_b)):
        ns.no_offloads(dev)
        ns.up(dev)


def wait_for(pred, timeout, what, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    raise RuntimeError("timed out waiting for " + what)


def wait_log(path, text, timeout, what=None):
    def has():
        try:
            with open(path, "rb") as f:
                return text.encode() in f.read()
        except FileNotFoundError:
            return False
    return wait_for(has, timeout, what or ("'%s' in %s" % (text, path)))


def port_open(ns, addr, port, proto="tcp"):
    """True when something listens on addr:port inside ns (ss, no traffic sent)."""
    flag = "-ltn" if proto == "tcp" else "-lun"
    r = ns.sh("ss", "-H", flag, check=False)
    for line in (r.stdout or "").splitlines():
        parts = line.split()
        if len(parts) >= 4:
            local = parts[3]
            if local.endswith(":%d" % port) and (local.startswith(addr) or local.startswith("0.0.0.0")
                                                 or local.startswith("*")):
                return True
    return False
