#!/usr/bin/python3
"""One end of a WebRTC-like audio call relayed by a TURN server (coturn), as browsers and
messenger apps fall back to when no direct path exists. Side a, the client, asks the server for
its server-reflexive address from one socket (STUN, as ICE gathering does), allocates a relay
from another (RFC 5766: long-term credentials, CreatePermission, ChannelBind) and sends its media
as ChannelData over UDP; side b, the peer behind the server, sends to the relayed address.

After an ICE check and a DTLS handshake's flights, the media is SRTP-shaped: RTP header with WebRTC's header extension (audio level, transport
sequence number), then Opus packets whose sizes are those ffmpeg's libopus gives the side's half
of the seeded conversation (voip_call.py), then the 10-byte authentication tag. With DTX on (a
seeded choice, like usedtx=1) silence sends one packet per 400 ms; RTCP every second or so and
STUN consent checks every few seconds keep the path alive. The payload bytes are random (they
stand for ciphertext).

With --probes N, side a also measures N other relays for the whole call, as WhatsApp and Meet
clients do to pick and switch relays: each probe is a socket of its own that sends a STUN binding
request every second or two and reads the answer, so each is a flow of small packets both ways."""

import argparse
import hashlib
import hmac
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sip_call import voice_wav  # noqa: E402
from voip_call import conversation  # noqa: E402

MAGIC = 0x2112A442
CHANNEL = 0x4000


def opus_sizes(seed, side, seconds, work, bitrate):
    """The sizes of the 20 ms Opus packets libopus makes of the side's voice (from the Ogg pages)."""
    ogg = os.path.join(work, "voice.ogg")
    voice_wav(ogg, seed, side, seconds, 48000, ("-c:a", "libopus", "-application", "voip", "-b:a", "%dk" % bitrate,
                                                "-vbr", "on", "-frame_duration", "20"))
    with open(ogg, "rb") as f:
        data = f.read()
    sizes, pos, cur = [], 0, 0
    while pos + 27 <= len(data) and data[pos:pos + 4] == b"OggS":
        nseg = data[pos + 26]
        lace = data[pos + 27:pos + 27 + nseg]
        pos += 27 + nseg + sum(lace)
        for v in lace:
            cur += v
            if v < 255:
                sizes.append(cur)
                cur = 0
    return sizes[2:]  # OpusHead and OpusTags are not audio


def stun(method, attrs, tid=None):
    tid = tid or os.urandom(12)
    body = b"".join(struct.pack(">HH", t, len(v)) + v + b"\0" * (-len(v) % 4) for t, v in attrs)
    return struct.pack(">HHI", method, len(body), MAGIC) + tid + body, tid


def with_integrity(method, attrs, key):
    """attrs and MESSAGE-INTEGRITY (HMAC-SHA1 over the message with its length counting it)."""
    msg, tid = stun(method, attrs)
    head = struct.pack(">HHI", method, len(msg) - 20 + 24, MAGIC) + tid
    mac = hmac.new(key, head + msg[20:], hashlib.sha1).digest()
    return head + msg[20:] + struct.pack(">HH", 0x0008, 20) + mac


def parse(msg):
    kind, = struct.unpack(">H", msg[:2])
    attrs, pos = {}, 20
    while pos + 4 <= len(msg):
        t, n = struct.unpack(">HH", msg[pos:pos + 4])
        attrs[t] = msg[pos + 4:pos + 4 + n]
        pos += 4 + n + (-n % 4)
    return kind, attrs


def xor_addr(v):
    port = struct.unpack(">H", v[2:4])[0] ^ (MAGIC >> 16)
    ip = struct.unpack(">I", v[4:8])[0] ^ MAGIC
    return socket.inet_ntoa(struct.pack(">I", ip)), port


def xor_attr(ip, port):
    return struct.pack(">BBH", 0, 1, port ^ (MAGIC >> 16)) + struct.pack(
        ">I", struct.unpack(">I", socket.inet_aton(ip))[0] ^ MAGIC)


class Relay:
    """A TURN allocation on the server, and a channel to one peer."""

    def __init__(self, sock, user, password):
        self.sock, self.user = sock, user.encode()
        self.password = password

    def request(self, method, attrs):
        for _ in range(10):
            msg = with_integrity(method, attrs + self.auth, self.key)
            self.sock.send(msg)
            kind, got = parse(self.sock.recv(2048))
            if kind == method | 0x0100:
                return got
            if 0x0009 in got and got[0x0009][2:4] == b"\x01\x06":  # 438 stale nonce
                self.auth = [a for a in self.auth if a[0] != 0x0015] + [(0x0015, got[0x0015])]
                continue
            raise RuntimeError("TURN method %#x failed: %r" % (method, got.get(0x0009)))
        raise RuntimeError("TURN: no answer")

    def allocate(self):
        first, _ = stun(0x0003, [(0x0019, b"\x11\0\0\0")])
        self.sock.send(first)
        _, got = parse(self.sock.recv(2048))
        realm, nonce = got[0x0014], got[0x0015]
        self.key = hashlib.md5(self.user + b":" + realm + b":" + self.password.encode()).digest()
        self.auth = [(0x0006, self.user), (0x0014, realm), (0x0015, nonce)]
        got = self.request(0x0003, [(0x0019, b"\x11\0\0\0"), (0x000d, struct.pack(">I", 600))])
        return xor_addr(got[0x0016])

    def bind(self, ip, port):
        self.request(0x0008, [(0x0012, xor_attr(ip, port))])
        self.request(0x0009, [(0x000c, struct.pack(">HH", CHANNEL, 0)), (0x0012, xor_attr(ip, port))])


def probe(host, port, end, rng):
    """One relay measured until `end`: a binding request (PRIORITY, ICE-CONTROLLING) every 0.7-2.5 s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(0.5)
    every = rng.uniform(0.7, 2.5)
    time.sleep(rng.uniform(0, every))
    while time.monotonic() < end:
        try:
            s.send(stun(0x0001, [(0x0024, os.urandom(4)), (0x802A, os.urandom(8))])[0])
            s.recv(2048)
        except OSError:
            pass
        time.sleep(every * rng.uniform(0.8, 1.2))
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", choices=["a", "b"], required=True)
    ap.add_argument("--turn", help="side a: address:port of the TURN server")
    ap.add_argument("--bind", default="0.0.0.0", help="side b: address to send from")
    ap.add_argument("--user", default="lab")
    ap.add_argument("--password", default="lab")
    ap.add_argument("--rendezvous", required=True, help="directory where the sides leave their addresses")
    ap.add_argument("--bitrate", type=int, default=32)
    ap.add_argument("--dtx", action="store_true")
    ap.add_argument("--probes", type=int, default=0, help="side a: relays measured beside the call")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    os.makedirs(a.rendezvous, exist_ok=True)
    end = time.monotonic() + a.seconds
    work = os.path.join(a.rendezvous, a.side)
    os.makedirs(work, exist_ok=True)
    talk = conversation(a.seed, a.seconds)[a.side]
    rng = random.Random(a.seed * 3 + (a.side == "b"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def wait_file(name):
        path = os.path.join(a.rendezvous, name)
        while not os.path.exists(path) and time.monotonic() < end:
            time.sleep(0.05)
        with open(path) as f:
            ip, port = f.read().split()
        return ip, int(port)

    def publish(name, ip, port):
        tmp = os.path.join(a.rendezvous, name + ".tmp")
        with open(tmp, "w") as f:
            f.write("%s %d\n" % (ip, port))
        os.rename(tmp, os.path.join(a.rendezvous, name))

    if a.side == "a":
        host, port = a.turn.rsplit(":", 1)
        gather = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # ICE: a server-reflexive candidate first
        gather.connect((host, int(port)))
        gather.settimeout(1)
        for _ in range(2):
            gather.send(stun(0x0001, [])[0])
            try:
                gather.recv(2048)
            except OSError:
                pass
        gather.close()
        sock.connect((host, int(port)))
        sock.settimeout(3)
        relay = Relay(sock, a.user, a.password)
        publish("relay", *relay.allocate())
        peer = wait_file("peer")
        relay.bind(*peer)
        sock.settimeout(None)
        for k in range(a.probes):
            threading.Thread(target=probe, args=(host, int(port), end, random.Random(a.seed * 7 + k)),
                             daemon=True).start()

        def send(pkt):
            sock.send(struct.pack(">HH", CHANNEL, len(pkt)) + pkt)
    else:
        sock.bind((a.bind, 0))
        publish("peer", *sock.getsockname())
        dest = wait_file("relay")

        def send(pkt):
            sock.sendto(pkt, dest)

    sizes = opus_sizes(a.seed, a.side, a.seconds + 1, work, a.bitrate)  # the path is ready before the voice

    def receive():
        while True:
            try:
                sock.recv(4096)
            except OSError:
                return
    threading.Thread(target=receive, daemon=True).start()

    # an ICE connectivity check, then DTLS-SRTP's handshake flights (sizes of a WebRTC DTLS 1.2
    # handshake with ECDSA certificates): the client's hello, the peer's hello and certificate,
    # the client's certificate and keys, the peer's finished
    flights = {"a": [(0.0, [180]), (0.1, [560, 110])], "b": [(0.05, [1080, 90]), (0.15, [70])]}[a.side]
    send(stun(0x0001, [(0x0006, os.urandom(9)), (0x0024, os.urandom(4)), (0x0008, os.urandom(20))])[0])
    t_hs = time.monotonic()
    for at, sizes_ in flights:
        time.sleep(max(0, t_hs + at - time.monotonic()))
        for n_ in sizes_:
            send(struct.pack(">BHHHIH", 22, 0xfefd, 0, rng.getrandbits(16), 0, n_ - 13) + os.urandom(n_ - 13))

    ssrc, seq, ts, twcc = rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(32), rng.getrandbits(16)
    t0 = time.monotonic()
    next_rtcp, next_stun, last_sent = t0 + rng.uniform(0.5, 1.5), t0 + rng.uniform(1, 3), -1.0
    n = 0
    while time.monotonic() < end:
        at = t0 + 0.02 * n
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = 0.02 * n
        n += 1
        speaking = any(s <= t < e for s, e in talk)
        if a.dtx and not speaking and t - last_sent < 0.4:
            ts += 960
            continue
        size = sizes[(n - 1) % len(sizes)]
        # RTP with a one-byte header extension (ssrc-audio-level, transport-wide sequence number)
        hdr = struct.pack(">BBHII", 0x90, 111 | (0x80 if speaking and t - last_sent > 0.03 else 0), seq & 0xffff,
                          ts & 0xffffffff, ssrc) + struct.pack(">HH", 0xBEDE, 2) + bytes(
            [0x10, (20 if speaking else 127), 0x31, (twcc >> 8) & 255, twcc & 255, 0, 0, 0])
        send(hdr + os.urandom(size + 10))
        seq, ts, twcc, last_sent = seq + 1, ts + 960, twcc + 1, t
        now = time.monotonic()
        if now >= next_rtcp:  # SRTCP: sender report and receiver report, compound
            send(struct.pack(">BBH", 0x80, 200, 6) + os.urandom(rng.choice([56, 64, 84])))
            next_rtcp = now + rng.uniform(0.5, 1.5)
        if now >= next_stun:  # ICE consent freshness
            send(stun(0x0001, [(0x0006, os.urandom(9)), (0x0024, os.urandom(4)), (0x8029, os.urandom(8)),
                               (0x0008, os.urandom(20)), (0x8028, os.urandom(4))])[0])
            next_stun = now + rng.uniform(2, 6)
    sock.close()


if __name__ == "__main__":
    main()
