"""Chat: people talking in rooms and privately."""

import os

from .. import servers
from .base import Category, Expect, python

ROOMS = "lobby,room0,room1,room2"


class Chat(Category):
    name = "chat"
    applications = ["irc-tls"]
    tools = ["ngircd"]

    def setup(self, job, apps):
        servers.ngircd(job.srv, job.work, job.lab.pki)

    def background(self, job, total):
        # other people in the rooms, on the server's side
        seed = job.sessions[0].seed ^ 0xc0ffee if job.sessions else 1
        job.srv.spawn(python("chat_bots.py", "--server", "127.0.0.1", "--ca", job.lab.pki.ca_pem, "--prefix",
                             "crowd", "--bots", "8", "--rooms", ROOMS, "--seed", str(seed), "--seconds",
                             str(total + 30)), log=os.path.join(job.work, "crowd.log"))

    def start(self, job, s):
        self.spawn(s, s.ns, python("chat_bots.py", "--server", s.server_addr, "--ca", job.lab.pki.ca_pem,
                                   "--prefix", "s%db" % s.i, "--bots", str(2 + s.seed % 2), "--rooms", ROOMS,
                                   *self.common(s)), self.log(job, s))

    def expect(self, app):
        return Expect([(6, 6697)])


CATEGORY = Chat()
