"""VoIP: calls between a client and a peer on the server's side."""

import os
import random

from .base import Category, Expect, python


class Voip(Category):
    name = "voip"
    applications = ["opus-srtp"]
    tools = ["ffmpeg"]

    def start(self, job, s):
        rate = random.Random(s.seed ^ 0xa0d1).choice([16, 24, 32, 48])
        port = 20000 + 2 * s.i
        call = ["--seed", str(s.seed), "--seconds", str(s.duration), "--bitrate", str(rate)]
        self.spawn(s, job.srv, python("voip_call.py", *call, "--side", "b", "--peer", s.client_addr, "--peer-port",
                                      "5004", "--listen-port", str(port), "--work",
                                      os.path.join(job.work, "voip-%d-b" % s.i)), self.log(job, s, "peer"))
        self.spawn(s, s.ns, python("voip_call.py", *call, "--side", "a", "--peer", s.server_addr, "--peer-port",
                                   str(port), "--listen-port", "5004", "--work",
                                   os.path.join(job.work, "voip-%d-a" % s.i)), self.log(job, s))

    def expect(self, app):
        return Expect([(17, None)])


CATEGORY = Voip()
