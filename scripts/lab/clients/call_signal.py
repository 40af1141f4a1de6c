#!/usr/bin/python3
"""The signalling and telemetry connection a calling app keeps beside its media. Zoom, Teams,
Webex, Meet and WhatsApp each hold a TLS connection to their service for the whole call, and
nDPI labels those connections VoIP. This is one end of such a connection: a TLS websocket to the
lab's call service (web_chat_server.py, which relays events between the call's two members).

It carries the join, the SDP offer and answer and the trickled ICE candidates. For the rest of
the call it carries heartbeats, media-quality reports every few seconds (as WebRTC apps upload
getStats), mute toggles, and active-speaker events: each turn of the seeded conversation
(voip_call.py) that this side starts reaches the other side through the service."""

import argparse
import base64
import json
import os
import random
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from voip_call import conversation  # noqa: E402
from web_chat_server import frame, read_frame  # noqa: E402

DOMAIN = "lab.test"


def blob(rng, n):
    """n characters of base64: an SDP's fingerprints and candidates or a report's numbers, as sizes."""
    return base64.b64encode(rng.randbytes(n * 3 // 4 + 3)).decode()[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", choices=["a", "b"], required=True)
    ap.add_argument("--server", required=True, help="address of the call service (HTTPS 443)")
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    rng = random.Random(a.seed * 5 + (a.side == "b"))
    t0 = time.monotonic()
    end = t0 + a.seconds
    me, room = "call%d%s" % (a.seed % 100000, a.side), "#call-%d" % a.seed
    ctx = ssl.create_default_context(cafile=a.ca)
    for _ in range(100):  # the service may still be starting
        try:
            raw = socket.create_connection((a.server, a.port), 10)
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit("call_signal: no call service at %s:%d" % (a.server, a.port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock = ctx.wrap_socket(raw, server_hostname="call." + DOMAIN)
    sock.sendall(("GET /ws HTTP/1.1\r\nHost: call.%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: https://call.%s\r\n\r\n" %
                  (DOMAIN, base64.b64encode(os.urandom(16)).decode(), DOMAIN)).encode())
    rfile = sock.makefile("rb")
    while rfile.readline() not in (b"\r\n", b""):
        pass
    lock = threading.Lock()

    def post(kind, to=room, **kw):
        frame(sock, lock, 1, json.dumps(dict(type=kind, to=to, **{"from": me}, **kw)).encode(), mask=True)

    def reader():
        while True:
            opcode, data = read_frame(rfile)
            if opcode is None or opcode == 8:
                return
            if opcode == 9:
                try:
                    frame(sock, lock, 10, data, mask=True)
                except OSError:
                    return
    threading.Thread(target=reader, daemon=True).start()

    post("hello", rooms=[room])
    time.sleep(rng.uniform(0.3, 1.0) if a.side == "a" else rng.uniform(1.0, 1.8))
    post("offer" if a.side == "a" else "answer", sdp=blob(rng, rng.randint(2200, 4200)))
    for _ in range(rng.randint(3, 8)):  # trickle ICE: host, server-reflexive and relay candidates
        time.sleep(rng.expovariate(1 / 0.25))
        post("candidate", candidate=blob(rng, rng.randint(120, 220)))

    # the call: speaking events at this side's turns, quality reports, heartbeats, mute toggles
    starts = [s for s, e in conversation(a.seed, a.seconds)[a.side] if e - s >= 0.8]
    stats_every = rng.uniform(2.0, 10.0)
    beat_every = rng.uniform(10.0, 25.0)
    next_stats = t0 + rng.uniform(1, stats_every)
    next_beat = t0 + beat_every
    next_mute = t0 + rng.expovariate(1 / 120)
    muted = False
    while True:
        now = time.monotonic()
        due = [next_stats, next_beat, next_mute] + [t0 + s for s in starts[:1]]
        wake = min(min(due), end)
        if wake > now:
            time.sleep(wake - now)
        now = time.monotonic()
        if now >= end:
            break
        try:
            if starts and now >= t0 + starts[0]:
                starts.pop(0)
                if not muted:
                    post("speaking", level=rng.randint(20, 90))
            if now >= next_stats:
                post("stats", to="metrics", report=blob(rng, rng.choice([300, 500, 800, 1400])))
                next_stats = now + stats_every * rng.uniform(0.9, 1.1)
            if now >= next_beat:
                post("heartbeat")
                next_beat = now + beat_every
            if now >= next_mute:
                muted = not muted
                post("mute", muted=muted)
                next_mute = now + (rng.uniform(5, 30) if muted else rng.expovariate(1 / 120))
        except OSError:
            return
    try:
        post("leave")
        frame(sock, lock, 8, b"\x03\xe8", mask=True)
        time.sleep(0.3)
    except OSError:
        pass
    sock.close()


if __name__ == "__main__":
    main()
