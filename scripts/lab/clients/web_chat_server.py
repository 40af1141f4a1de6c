#!/usr/bin/python3
"""The lab's web messenger server, HTTPS on one port (standard library only), as web and app
messengers talk to their servers:

  GET  /             the web app (a seeded blob standing for HTML, scripts and styles)
  GET  /ws           a websocket (RFC 6455): JSON events both ways, pings from the server
  POST /poll         long poll: waits up to the client's timeout for its events (JSON)
  POST /send         one event from a long-poll client
  POST /upload       a media message's file (image, voice note); answers its id

It is the VoIP category's call service too (call_signal.py): a call's two ends meet in a room.
  GET  /media/ID     a media file

Events are {"type": "msg"|"typing"|"read"|"media"|"join", "from", "to", ...}; "to" is a room
("#name", every member gets it) or a user."""

import argparse
import base64
import hashlib
import json
import os
import random
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B3C"


class Hub:
    def __init__(self):
        self.cond = threading.Condition()
        self.queues = {}  # user -> pending events (long-poll users)
        self.sockets = {}  # user -> websocket sender
        self.rooms = {}  # room -> members
        self.media = {}
        self.seq = 0

    def join(self, user, rooms):
        with self.cond:
            for r in rooms:
                self.rooms.setdefault(r, set()).add(user)

    def leave(self, user):
        with self.cond:
            self.sockets.pop(user, None)
            self.queues.pop(user, None)
            for m in self.rooms.values():
                m.discard(user)

    def post(self, event):
        with self.cond:
            self.seq += 1
            event["seq"] = self.seq
            event["ts"] = int(time.time() * 1000)
            to = event.get("to", "")
            users = self.rooms.get(to, set()) if to.startswith("#") else {to}
            users = [u for u in users if u != event.get("from")]
            sockets = [self.sockets[u] for u in users if u in self.sockets]
            for u in users:
                if u in self.queues:
                    self.queues[u].append(event)
            self.cond.notify_all()
        data = json.dumps(event)
        for send in sockets:
            try:
                send(data)
            except OSError:
                pass
        return event["seq"]

    def wait(self, user, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            q = self.queues.setdefault(user, [])
            while not q and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
            out, q[:] = list(q), []
            return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    hub = None
    app = b""

    def log_message(self, *_):
        pass

    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/":
            self.reply(200, self.app, "text/html")
        elif self.path.startswith("/media/"):
            data = self.hub.media.get(self.path[7:])
            self.reply(200 if data else 404, data or b"{}", "application/octet-stream")
        elif self.path.startswith("/ws"):
            self.websocket()
        else:
            self.reply(404, b"{}")

    def do_POST(self):
        if self.path.startswith("/upload"):
            data = self.body()
            mid = hashlib.sha1(data[:4096] + os.urandom(8)).hexdigest()[:16]
            self.hub.media[mid] = data
            self.reply(200, json.dumps({"id": mid, "size": len(data)}).encode())
            return
        req = json.loads(self.body() or b"{}")
        if self.path.startswith("/poll"):
            user = req.get("user", "")
            if req.get("rooms"):
                self.hub.join(user, req["rooms"])
            events = self.hub.wait(user, min(float(req.get("timeout", 30)), 90))
            self.reply(200, json.dumps({"events": events}).encode())
        elif self.path.startswith("/send"):
            seq = self.hub.post(req)
            self.reply(200, json.dumps({"ok": True, "seq": seq}).encode())
        else:
            self.reply(404, b"{}")

    def websocket(self):
        k = self.headers.get("Sec-WebSocket-Key", "")
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(k.encode() + GUID).digest()).decode())
        self.end_headers()
        self.wfile.flush()
        lock = threading.Lock()
        sock = self.connection
        user = None
        alive = [True]

        def send(text, opcode=1):
            frame(sock, lock, opcode, text.encode() if isinstance(text, str) else text, mask=False)

        def pinger():  # the server's keepalive, as messengers' gateways send
            while alive[0]:
                time.sleep(25)
                if alive[0]:
                    try:
                        send(b"", 9)
                    except OSError:
                        return
        threading.Thread(target=pinger, daemon=True).start()
        try:
            while True:
                opcode, data = read_frame(self.rfile)
                if opcode == 8 or opcode is None:
                    break
                if opcode == 9:
                    send(data, 10)
                    continue
                if opcode != 1:
                    continue
                ev = json.loads(data)
                if ev.get("type") == "hello":
                    user = ev["from"]
                    self.hub.join(user, ev.get("rooms", []))
                    self.hub.sockets[user] = send
                    send(json.dumps({"type": "welcome", "user": user, "rooms": ev.get("rooms", [])}))
                elif ev.get("type") == "heartbeat":
                    send(json.dumps({"type": "heartbeat_ack", "ts": int(time.time() * 1000)}))
                else:
                    ev["seq"] = self.hub.post(ev)
                    if ev.get("type") in ("msg", "media", "stats"):  # stats: a call's quality report
                        send(json.dumps({"type": "ack", "id": ev.get("id"), "seq": ev["seq"]}))
        except (OSError, ValueError):
            pass
        alive[0] = False
        if user:
            self.hub.leave(user)
        self.close_connection = True


def read_exact(f, n):
    data = f.read(n)
    if len(data) < n:
        raise OSError("closed")
    return data


def read_frame(f):
    """(opcode, payload) of one websocket frame; (None, b"") at the end."""
    try:
        b0, b1 = read_exact(f, 2)
        n = b1 & 127
        if n == 126:
            n = struct.unpack(">H", read_exact(f, 2))[0]
        elif n == 127:
            n = struct.unpack(">Q", read_exact(f, 8))[0]
        mask = read_exact(f, 4) if b1 & 128 else None
        data = read_exact(f, n)
    except OSError:
        return None, b""
    if mask:
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
    return b0 & 15, data


def frame(sock, lock, opcode, data, mask):
    n = len(data)
    head = bytes([0x80 | opcode])
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        key = os.urandom(4)
        head += key
        data = bytes(c ^ key[i % 4] for i, c in enumerate(data))
    with lock:
        sock.sendall(head + data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    Handler.hub = Hub()
    Handler.app = random.Random(a.seed).randbytes(180000)
    srv = ThreadingHTTPServer(("0.0.0.0", a.port), Handler)
    srv.daemon_threads = True
    srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
