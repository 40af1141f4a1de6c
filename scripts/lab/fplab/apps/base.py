"""What every category of the lab provides: its applications, the servers they need, how a
session starts, and what its capture must show (fplab/check.py)."""

import os
import sys

PY = "/usr/bin/python3"
CLIENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "clients")


def client(name):
    return os.path.join(CLIENTS, name)


class Expect:
    """need: (proto, server port, None for any, or an inclusive (low, high) range) that must carry
    packets both ways; allow: more such (proto, port) that may appear; anything else must stay
    under 1 %. need_any: such (proto, port) of which at least one must carry packets both ways
    (BitTorrent's peers over TCP or uTP). hosts: how many addresses the capture may hold (a
    swarm has several peers)."""

    def __init__(self, need, allow=(), hosts=2, need_any=()):
        self.need, self.allow, self.hosts, self.need_any = list(need), list(allow), hosts, list(need_any)


class Category:
    name = ""
    applications = []  # the manifest's `application` values, in the order sessions take them
    turns = {}  # application -> sessions it takes per cycle of the category's sessions (default 1)
    tools = []  # programs every application of the category needs
    app_tools = {}  # application -> more programs it needs

    def cycle(self, names, first=0):
        """The order sessions take the applications `names` in: one round of all of them from the
        `first`, so that as many sessions as applications run each once, then the further rounds of
        those whose `turns` is more than 1 (a weight of 3 takes three turns per cycle)."""
        weight = {n: self.turns.get(n, 1) for n in names}
        order = names[first:] + names[:first]
        return order + [n for r in range(1, max(weight.values(), default=1)) for n in names if weight[n] > r]

    def tools_for(self, apps):
        need = set(self.tools)
        for a in apps:
            need.update(self.app_tools.get(a, []))
        return need

    def setup(self, job, apps):
        """Starts the servers the job's applications (a set) need, in job.srv."""

    def background(self, job, total):
        """Other users on the server's side, for `total` seconds."""

    def start(self, job, s):
        """Starts session s: the client in s.ns, and any peer; every process goes to s.procs."""
        raise NotImplementedError

    def expect(self, app):
        return Expect([(6, 443)])

    @staticmethod
    def spawn(s, ns, cmd, log):
        p = ns.spawn(cmd, log=log)
        s.procs.append((p, ns))
        return p

    @staticmethod
    def log(job, s, what="client"):
        return os.path.join(job.work, "%s-%d.log" % (what, s.i))

    @staticmethod
    def common(s):
        return ["--seed", str(s.seed), "--seconds", str(s.duration)]


def python(script, *args):
    return [PY, "-u", client(script)] + list(args)


assert sys.version_info >= (3, 7)
