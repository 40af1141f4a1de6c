"""What every category of the lab provides: its applications, the servers they need, how a
session starts, and what its capture must show (fplab/check.py)."""

import os
import sys

PY = "/usr/bin/python3"
CLIENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "clients")


def client(name):
    return os.path.join(CLIENTS, name)


class Expect:
    """need: (proto, server port or None for any) that must carry packets both ways;
    allow: more (proto, port or None) that may appear; anything else must stay under 1 %;
    hosts: how many addresses the capture may hold (the client and the servers it talks to)."""

    def __init__(self, need, allow=(), hosts=2):
        self.need, self.allow, self.hosts = list(need), list(allow), hosts


class Category:
    name = ""
    applications = []  # the manifest's `application` values, in the order sessions take them
    tools = []  # programs every application of the category needs
    app_tools = {}  # application -> more programs it needs

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
