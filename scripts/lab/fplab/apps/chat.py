"""Chat: people talking in rooms and privately, with one conversation model (clients/chat_bots.py:
thinking, typing at a human speed, away periods).

  irc-tls         ngIRCd, IRC over TLS on 6697
  xmpp-tls        Prosody, XMPP with STARTTLS on 5222: presence, MUC rooms, one-to-one chat,
                  typing notifications, receipts; media as HTTPS uploads (443) in some sessions
  websocket-chat  a web messenger over a TLS websocket on 443 (JSON events, heartbeats, typing,
                  read receipts), media uploads and downloads in some sessions
  longpoll-chat   the same messenger through HTTPS long polls (25-60 s) and POSTs
"""

import os
import random

from .. import servers, servers_rt
from .base import Category, Expect, python

ROOMS = "lobby,room0,room1,room2"
PROTOCOL = {"xmpp-tls": "xmpp", "websocket-chat": "ws", "longpoll-chat": "poll"}
CROWD = 8


class Chat(Category):
    name = "chat"
    applications = ["irc-tls", "xmpp-tls", "websocket-chat", "longpoll-chat"]
    tools = []
    app_tools = {"irc-tls": ["ngircd"], "xmpp-tls": ["prosody"]}

    def setup(self, job, apps):
        if "irc-tls" in apps:
            servers.ngircd(job.srv, job.work, job.lab.pki)
        if "xmpp-tls" in apps:
            servers_rt.prosody(job.srv, job.work, job.lab.pki)
        if apps & set(PROTOCOL):  # the web messenger also keeps XMPP's media uploads
            servers_rt.web_chat(job.srv, job.work, job.lab.pki, job.sessions[0].seed)
        job.chat_apps = apps

    def background(self, job, total):
        # other people in the rooms, on the server's side
        seed = job.sessions[0].seed ^ 0xc0ffee if job.sessions else 1
        if "irc-tls" in job.chat_apps:
            job.srv.spawn(python("chat_bots.py", "--server", "127.0.0.1", "--ca", job.lab.pki.ca_pem, "--prefix",
                                 "crowd", "--bots", str(CROWD), "--rooms", ROOMS, "--seed", str(seed), "--seconds",
                                 str(total + 30)), log=os.path.join(job.work, "crowd.log"))
        for app, proto in sorted(PROTOCOL.items()):
            if app in job.chat_apps:
                job.srv.spawn(python("chat_people.py", "--protocol", proto, "--server", "127.0.0.1", "--ca",
                                     job.lab.pki.ca_pem, "--prefix", "crowd", "--people", str(CROWD), "--rooms",
                                     ROOMS, "--media", "0.05", "--seed", str(seed), "--seconds", str(total + 30)),
                              log=os.path.join(job.work, "crowd-%s.log" % proto))

    def start(self, job, s):
        if s.application == "irc-tls":
            self.spawn(s, s.ns, python("chat_bots.py", "--server", s.server_addr, "--ca", job.lab.pki.ca_pem,
                                       "--prefix", "s%db" % s.i, "--bots", str(2 + s.seed % 2), "--rooms", ROOMS,
                                       *self.common(s)), self.log(job, s))
            return
        rng = random.Random(s.seed ^ 0xc4a7)
        media = rng.choice([0, 0, 0.05, 0.1, 0.2])  # some sessions send photos and voice notes
        self.spawn(s, s.ns, python("chat_people.py", "--protocol", PROTOCOL[s.application], "--server",
                                   s.server_addr, "--ca", job.lab.pki.ca_pem, "--prefix", "s%dp" % s.i, "--people",
                                   str(2 + rng.randrange(2)), "--rooms", ROOMS, "--media", str(media), "--friends",
                                   ",".join("crowd%d" % k for k in range(CROWD)), *self.common(s)), self.log(job, s))

    def expect(self, app):
        if app == "irc-tls":
            return Expect([(6, 6697)])
        if app == "xmpp-tls":
            return Expect([(6, 5222)], allow=[(6, 443)])
        return Expect([(6, 443)])


CATEGORY = Chat()
