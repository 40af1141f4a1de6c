#!/usr/bin/python3
"""Chat users of an XMPP server (Prosody: STARTTLS on 5222, in-band registration, SASL PLAIN,
presence, group chat in MUC rooms, one-to-one chat with XEP-0085 typing notifications and
XEP-0184 receipts, XEP-0199 pings) or of the lab's web messenger (clients/web_chat_server.py:
a websocket with heartbeats, or HTTPS long polls; typing events, read receipts). Standard
library only. The people behave as chat_bots.py's: think, type at a human speed, send, go away
for a while, answer someone, write privately; in some sessions they also send media messages
(images of 50-500 kB, voice notes of 10-100 kB) that the others download over HTTPS."""

import argparse
import base64
import http.client
import json
import os
import random
import signal
import socket
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_bots import WORDS  # noqa: E402

DOMAIN = "lab.test"
MUC = "conference." + DOMAIN
NS_STREAM = "{http://etherx.jabber.org/streams}"
CHATSTATES = "http://jabber.org/protocol/chatstates"


class Https(http.client.HTTPSConnection):
    """HTTPS to the messenger by address, checking its certificate for its name."""

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname="chat." + DOMAIN)


class Person(threading.Thread):
    """The conversation model; a subclass speaks one protocol (connect, typing, say, media, idle)."""

    def __init__(self, nick, rooms, friends, a, rng, deadline):
        super().__init__(daemon=True)
        self.nick, self.rooms, self.friends, self.a, self.rng, self.deadline = nick, rooms, friends, a, rng, deadline
        self.pending_reply = None
        self.away = False
        self.lock = threading.Lock()
        self.ctx = ssl.create_default_context(cafile=a.ca)
        self.media_rate = a.media  # share of messages that are media

    def message(self):
        n = max(1, int(self.rng.lognormvariate(1.8, 0.7)))
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def heard(self, sender, where, private):
        if sender and sender != self.nick and self.rng.random() < 0.3:
            self.pending_reply = sender if private else where

    def sleep(self, seconds):
        end = min(time.monotonic() + seconds, self.deadline)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.idle(min(left, 1.0))

    def idle(self, seconds):
        time.sleep(seconds)

    def https(self):
        return Https(self.a.server, self.a.web_port, timeout=120, context=self.ctx)

    def upload(self):
        """A media message's file: a photo or a voice note, over HTTPS; its id."""
        size = (self.rng.randint(50, 500) if self.rng.random() < 0.6 else self.rng.randint(10, 100)) * 1000
        c = self.https()
        c.request("POST", "/upload", body=os.urandom(size), headers={"Content-Type": "application/octet-stream"})
        mid = json.loads(c.getresponse().read())["id"]
        c.close()
        return mid

    def download(self, mid):
        def get():
            time.sleep(self.rng.uniform(0.3, 4.0))
            try:
                c = self.https()
                c.request("GET", "/media/" + mid)
                c.getresponse().read()
                c.close()
            except (OSError, http.client.HTTPException):
                pass
        threading.Thread(target=get, daemon=True).start()

    def run(self):
        try:
            self.connect()
            chatty = self.rng.uniform(0.6, 1.6)
            while time.monotonic() < self.deadline:
                if self.rng.random() < 0.04:
                    self.away = True
                    self.presence("away")
                    self.sleep(self.rng.uniform(20, 90))
                    self.away = False
                    self.presence("")
                else:
                    self.sleep(self.rng.lognormvariate(1.9, 0.8) / chatty)
                if time.monotonic() >= self.deadline:
                    break
                target, private = self.pending_reply, False
                self.pending_reply = None
                if target is None or self.rng.random() < 0.1:
                    target = self.rng.choice(self.rooms)
                    if self.rng.random() < 0.15 and self.friends:
                        target = self.rng.choice(self.friends)
                private = not target.startswith("#")
                if self.rng.random() < self.media_rate and self.a.web_port:
                    self.say(target, private, media=self.upload())
                    continue
                text = self.message()
                self.typing(target, private, "composing")
                typed = len(text) / self.rng.uniform(3, 7)
                if typed > 4 and self.rng.random() < 0.3:  # stops typing for a moment
                    self.sleep(typed / 2)
                    self.typing(target, private, "paused")
                    self.sleep(self.rng.uniform(1, 5))
                    self.typing(target, private, "composing")
                    typed /= 2
                self.sleep(typed)
                self.say(target, private, text=text)
            self.close()
        except (OSError, ValueError, KeyError, http.client.HTTPException, ET.ParseError) as e:
            print("%s: %r" % (self.nick, e), file=sys.stderr)


class Xmpp(Person):
    def send(self, xml):
        with self.lock:
            self.sock.sendall(xml.encode())

    def open_stream(self):
        self.send("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en'>" % DOMAIN)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        return self.next(NS_STREAM + "features")

    def stanzas(self):
        """Top-level elements as they arrive."""
        while True:
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        yield el
            data = self.sock.recv(16384)
            if not data:
                return
            self.parser.feed(data)

    def next(self, tag):
        for el in self.stanzas():
            if el.tag.endswith(tag) or el.tag == tag:
                return el
            if el.tag.endswith("failure"):
                raise ValueError("%s: %s" % (self.nick, ET.tostring(el)))
        raise OSError("stream closed")

    def iq(self, kind, body, ident):
        self.send("<iq type='%s' id='%s'>%s</iq>" % (kind, ident, body))
        for el in self.stanzas():
            if el.tag.endswith("iq") and el.get("id") == ident:
                return el
        raise OSError("stream closed")

    def connect(self):
        self.sock = socket.create_connection((self.a.server, self.a.port), 30)
        self.open_stream()
        self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.next("proceed")
        self.sock = self.ctx.wrap_socket(self.sock, server_hostname=DOMAIN)
        self.open_stream()
        self.password = "pw-" + self.nick
        self.iq("set", "<query xmlns='jabber:iq:register'><username>%s</username><password>%s</password></query>" % (
            self.nick, self.password), "reg")
        token = base64.b64encode(("\0%s\0%s" % (self.nick, self.password)).encode()).decode()
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % token)
        self.next("success")
        self.open_stream()
        self.iq("set", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind>" % (
            self.rng.choice(["phone", "laptop", "desktop", "web"]) + str(self.rng.randrange(1000))), "bind")
        self.iq("get", "<query xmlns='jabber:iq:roster'/>", "roster")
        self.send("<presence><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                  "node='https://lab.test/client' ver='%s'/></presence>" % base64.b64encode(os.urandom(20)).decode())
        for r in self.rooms:
            self.send("<presence to='%s@%s/%s'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='20'/>"
                      "</x></presence>" % (r[1:], MUC, self.nick))
        self.sock.settimeout(None)
        threading.Thread(target=self.reader, daemon=True).start()
        threading.Thread(target=self.pinger, daemon=True).start()

    def pinger(self):
        n = 0
        while time.monotonic() < self.deadline:
            time.sleep(self.rng.uniform(50, 120))
            n += 1
            try:
                self.send("<iq type='get' to='%s' id='ping%d'><ping xmlns='urn:xmpp:ping'/></iq>" % (DOMAIN, n))
            except OSError:
                return

    def reader(self):
        try:
            for el in self.stanzas():
                if not el.tag.endswith("message"):
                    continue
                body = el.find("{jabber:client}body")
                frm = el.get("from", "")
                if el.get("type") == "groupchat":
                    nick = frm.split("/", 1)[-1]
                    if body is not None and nick != self.nick:
                        self.heard(nick, "#" + frm.split("@")[0], False)
                elif body is not None:
                    self.heard(frm.split("@")[0], None, True)
                    if el.find("{urn:xmpp:receipts}request") is not None and not self.away:
                        self.send("<message to=%s id='r%d'><received xmlns='urn:xmpp:receipts' id=%s/></message>" % (
                            quoteattr(frm), self.rng.randrange(1 << 30), quoteattr(el.get("id", ""))))
                oob = el.find("{jabber:x:oob}x")
                if oob is not None and not self.away:
                    url = oob.findtext("{jabber:x:oob}url", "")
                    self.download(url.rsplit("/", 1)[-1])
        except (OSError, ET.ParseError):
            pass

    def jid(self, target, private):
        return "%s@%s" % (target, DOMAIN) if private else "%s@%s" % (target[1:], MUC)

    def typing(self, target, private, state):
        self.send("<message to='%s' type='%s'><%s xmlns='%s'/></message>" % (
            self.jid(target, private), "chat" if private else "groupchat", state, CHATSTATES))

    def say(self, target, private, text=None, media=None):
        extra = ""
        if media:  # XEP-0363 style: the file is on an HTTPS server, the message carries its URL
            text = "https://upload.%s/media/%s" % (DOMAIN, media)
            extra = "<x xmlns='jabber:x:oob'><url>%s</url></x>" % text
        if private:
            extra += "<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>"
        self.send("<message to='%s' type='%s' id='m%d'><body>%s</body><active xmlns='%s'/>%s</message>" % (
            self.jid(target, private), "chat" if private else "groupchat", self.rng.randrange(1 << 30), escape(text),
            CHATSTATES, extra))

    def presence(self, show):
        self.send("<presence>%s</presence>" % ("<show>%s</show>" % show if show else ""))

    def close(self):
        self.send("<presence type='unavailable'/></stream:stream>")
        time.sleep(0.5)
        self.sock.close()


class Web(Person):
    """The web messenger: events as JSON over a websocket, or long polls and POSTs."""

    def event(self, kind, target, **kw):
        ev = dict(type=kind, to=target, id="%x" % self.rng.getrandbits(48), **kw)
        ev["from"] = self.nick
        return ev

    def handle(self, ev):
        kind, frm = ev.get("type"), ev.get("from")
        if kind in ("msg", "media") and frm != self.nick:
            private = not ev.get("to", "").startswith("#")
            self.heard(frm, ev.get("to"), private)
            if not self.away:
                if kind == "media":
                    self.download(ev["media"])
                if private or self.rng.random() < 0.05:  # read receipts: private chats, rarely rooms
                    self.post(self.event("read", frm if private else ev["to"], ref=ev.get("id")))

    def typing(self, target, private, state):
        self.post(self.event("typing", target, state=state))

    def say(self, target, private, text=None, media=None):
        if media:
            self.post(self.event("media", target, media=media, caption=self.message() if self.rng.random() < 0.3
                                 else ""))
        else:
            self.post(self.event("msg", target, text=text))

    def presence(self, show):
        self.post(self.event("presence", self.rooms[0], show=show or "online"))


class WebSocket(Web):
    def connect(self):
        c = self.https()
        c.request("GET", "/", headers={"Accept": "text/html"})
        c.getresponse().read()
        raw = socket.create_connection((self.a.server, self.a.web_port), 30)
        self.sock = self.ctx.wrap_socket(raw, server_hostname="chat." + DOMAIN)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /ws HTTP/1.1\r\nHost: chat.%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: https://chat.%s\r\n\r\n" %
                           (DOMAIN, key, DOMAIN)).encode())
        self.rfile = self.sock.makefile("rb")
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        c.close()
        self.post({"type": "hello", "from": self.nick, "rooms": self.rooms})
        threading.Thread(target=self.reader, daemon=True).start()
        threading.Thread(target=self.heartbeat, daemon=True).start()

    def heartbeat(self):
        while time.monotonic() < self.deadline:
            time.sleep(self.rng.uniform(20, 30))
            try:
                self.post({"type": "heartbeat", "from": self.nick})
            except OSError:
                return

    def post(self, ev):
        from web_chat_server import frame
        frame(self.sock, self.lock, 1, json.dumps(ev).encode(), mask=True)

    def reader(self):
        from web_chat_server import frame, read_frame
        while True:
            opcode, data = read_frame(self.rfile)
            if opcode is None or opcode == 8:
                return
            try:
                if opcode == 9:
                    frame(self.sock, self.lock, 10, data, mask=True)
                elif opcode == 1:
                    self.handle(json.loads(data))
            except (OSError, ValueError, KeyError):
                return

    def close(self):
        from web_chat_server import frame
        frame(self.sock, self.lock, 8, b"\x03\xe8", mask=True)
        time.sleep(0.3)
        self.sock.close()


class LongPoll(Web):
    def connect(self):
        self.sender = self.https()
        self.sender.request("GET", "/", headers={"Accept": "text/html"})
        self.sender.getresponse().read()
        self.poller = self.https()
        self.timeout = self.rng.choice([25, 30, 45, 55, 60])
        self.joined = False
        threading.Thread(target=self.reader, daemon=True).start()

    def post(self, ev):
        with self.lock:
            self.sender.request("POST", "/send", body=json.dumps(ev), headers={"Content-Type": "application/json"})
            self.sender.getresponse().read()

    def reader(self):
        while time.monotonic() < self.deadline:
            req = {"user": self.nick, "timeout": self.timeout}
            if not self.joined:
                req["rooms"], self.joined = self.rooms, True
            try:
                self.poller.request("POST", "/poll", body=json.dumps(req), headers={"Content-Type": "application/json"})
                events = json.loads(self.poller.getresponse().read())["events"]
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                return
            for ev in events:
                self.handle(ev)

    def close(self):
        self.sender.close()
        self.poller.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", choices=["xmpp", "ws", "poll"], required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=5222, help="XMPP port")
    ap.add_argument("--web-port", type=int, default=443, help="the web messenger (and media uploads); 0: none")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--prefix", required=True, help="user name prefix")
    ap.add_argument("--people", type=int, default=2)
    ap.add_argument("--friends", default="", help="comma-separated users to write privately to")
    ap.add_argument("--rooms", required=True, help="comma-separated room names to pick from")
    ap.add_argument("--media", type=float, default=0.0, help="share of messages that are media")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    rng = random.Random(a.seed)
    deadline = time.monotonic() + a.seconds
    rooms = ["#" + r for r in a.rooms.split(",")]
    kind = {"xmpp": Xmpp, "ws": WebSocket, "poll": LongPoll}[a.protocol]
    names = ["%s%d" % (a.prefix, i) for i in range(a.people)]
    friends = [f for f in a.friends.split(",") if f]
    people = []
    for n in names:
        mine = rng.sample(rooms, k=min(len(rooms), rng.randint(1, 2)))
        people.append(kind(n, mine, friends + [m for m in names if m != n], a, random.Random(rng.getrandbits(32)),
                           deadline))
    for p in people:
        p.start()
        time.sleep(rng.uniform(0.2, 1.5))
    for p in people:
        p.join(max(0.1, deadline - time.monotonic() + 5))


if __name__ == "__main__":
    main()
