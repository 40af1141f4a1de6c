#!/usr/bin/python3
"""IRC-over-TLS chat users: each bot holds one TLS connection to the server, joins rooms,
and types and pauses like a person (seeded): think, type at a human speed, send; now and
then go quiet for a while, answer someone, or write privately."""

import argparse
import random
import signal
import socket
import ssl
import sys
import threading
import time

WORDS = ("ok yes no maybe sure thanks lol haha nice cool great right exactly what why how when "
         "where who today tomorrow tonight later soon now meeting lunch coffee work home done "
         "ready wait sorry hello hi hey bye see you there the a an is are was it this that to of "
         "in for on with at by from up about into over after train bus late early plan call "
         "send file photo link video game movie music weekend monday friday idea question "
         "answer problem fixed broken works build test deploy review please check look").split()


class Bot(threading.Thread):
    def __init__(self, nick, rooms, server, host, port, ctx, rng, deadline, tls=True):
        super().__init__(daemon=True)
        self.nick, self.rooms, self.rng, self.deadline = nick, rooms, rng, deadline
        self.server, self.host, self.port, self.ctx, self.tls = server, host, port, ctx, tls
        self.peers = set()
        self.lock = threading.Lock()
        self.sock = None
        self.pending_reply = None

    def send(self, line):
        with self.lock:
            self.sock.sendall((line + "\r\n").encode())

    def reader(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                self.handle(line.decode(errors="replace"))

    def handle(self, line):
        if line.startswith("PING"):
            self.send("PONG" + line[4:])
            return
        parts = line.split(" ")
        if len(parts) > 2 and parts[1] == "PRIVMSG":
            who = parts[0][1:].split("!")[0]
            self.peers.add(who)
            if self.rng.random() < 0.3:
                self.pending_reply = (parts[2] if parts[2].startswith("#") else who)
        elif len(parts) > 2 and parts[1] == "JOIN":
            self.peers.add(parts[0][1:].split("!")[0])
        elif len(parts) > 5 and parts[1] == "353":
            for n in " ".join(parts[5:]).lstrip(":").split():
                self.peers.add(n.lstrip("@+"))

    def message(self):
        n = max(1, int(self.rng.lognormvariate(1.8, 0.7)))  # words: median ~6
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def run(self):
        try:
            raw = socket.create_connection((self.server, self.port), 30)
            self.sock = self.ctx.wrap_socket(raw, server_hostname=self.host) if self.tls else raw
            self.sock.settimeout(None)
            threading.Thread(target=self.reader, daemon=True).start()
            self.send("NICK %s" % self.nick)
            self.send("USER %s 0 * :%s" % (self.nick, self.nick))
            time.sleep(1.0)
            for r in self.rooms:
                self.send("JOIN %s" % r)
            chatty = self.rng.uniform(0.6, 1.6)  # some people write more than others
            while time.monotonic() < self.deadline:
                if self.rng.random() < 0.04:                       # away for a while
                    pause = self.rng.uniform(20, 90)
                else:                                              # reads, thinks
                    pause = self.rng.lognormvariate(1.9, 0.8) / chatty  # median ~6.7 s
                time.sleep(min(pause, max(0, self.deadline - time.monotonic())))
                if time.monotonic() >= self.deadline:
                    break
                text = self.message()
                time.sleep(len(text) / self.rng.uniform(3, 7))      # typing, chars per second
                target = self.pending_reply or self.rng.choice(self.rooms)
                self.pending_reply = None
                if self.rng.random() < 0.1 and self.peers - {self.nick}:
                    target = self.rng.choice(sorted(self.peers - {self.nick}))
                self.send("PRIVMSG %s :%s" % (target, text))
            self.send("QUIT :bye")
            time.sleep(0.5)
            self.sock.close()
        except OSError as e:
            print("%s: %s" % (self.nick, e), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--host", default="irc.lab.test")
    ap.add_argument("--port", type=int, default=6697)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--prefix", required=True, help="nick prefix")
    ap.add_argument("--bots", type=int, default=2)
    ap.add_argument("--rooms", required=True, help="comma-separated room names to pick from")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    rng = random.Random(a.seed)
    ctx = ssl.create_default_context(cafile=a.ca)
    deadline = time.monotonic() + a.seconds
    rooms = ["#" + r for r in a.rooms.split(",")]
    bots = []
    for i in range(a.bots):
        mine = rng.sample(rooms, k=min(len(rooms), rng.randint(1, 2)))
        bots.append(Bot("%s%d" % (a.prefix, i), mine, a.server, a.host, a.port, ctx,
                        random.Random(rng.getrandbits(32)), deadline))
    for b in bots:
        b.start()
        time.sleep(rng.uniform(0.2, 2.0))
    for b in bots:
        b.join(max(0.1, deadline - time.monotonic() + 5))


if __name__ == "__main__":
    main()
