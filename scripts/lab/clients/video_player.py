#!/usr/bin/python3
"""An adaptive HLS player over HTTPS: fetches segments as a player does, in real time.

Startup fills a few segments, then playback drains the buffer at 1 s per second while the
player keeps it near a target (seeded), picking the rendition from measured throughput with
hysteresis; the seeded viewer watches a while, sometimes pauses or seeks, then picks another video.
"""

import argparse
import http.client
import random
import signal
import socket
import ssl
import sys
import time


class Conn(http.client.HTTPSConnection):
    """HTTPS to a fixed address with the site's name for SNI and the certificate check."""

    def __init__(self, addr, host, ctx):
        super().__init__(host, 443, context=ctx, timeout=30)
        self._addr = addr
        self._ctx = ctx

    def connect(self):
        sock = socket.create_connection((self._addr, 443), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def get(conn, path):
    conn.request("GET", path, headers={"User-Agent": "flowpic-lab-player/1"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError("GET %s: %d" % (path, r.status))
    return body


def parse_master(text):
    out, bw = [], None
    for line in text.splitlines():
        if line.startswith("#EXT-X-STREAM-INF"):
            bw = int(line.split("BANDWIDTH=")[1].split(",")[0])
        elif line and not line.startswith("#") and bw:
            out.append((bw, line))
            bw = None
    return sorted(out)


def parse_media(text):
    segs, dur = [], None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            dur = float(line[8:].split(",")[0])
        elif line and not line.startswith("#") and dur is not None:
            segs.append((dur, line))
            dur = None
    return segs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--host", default="video.lab.test")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--videos", required=True, help="comma-separated video names")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    rng = random.Random(a.seed)
    ctx = ssl.create_default_context(cafile=a.ca)
    deadline = time.monotonic() + a.seconds
    videos = a.videos.split(",")
    target = rng.uniform(16, 36)          # buffer the player keeps ahead, seconds
    while time.monotonic() < deadline:
        name = rng.choice(videos)
        watch = min(rng.lognormvariate(4.2, 0.6), deadline - time.monotonic())  # median ~67 s
        conn = Conn(a.server, a.host, ctx)
        try:
            base = "/video/%s/" % name
            variants = parse_master(get(conn, base + "master.m3u8").decode())
            media = {}
            level = 0 if rng.random() < 0.6 else len(variants) // 2
            est = None
            buffered = 0.0
            playing = False
            pos = 0
            end_watch = time.monotonic() + watch
            last = time.monotonic()
            pause_until = 0.0
            while time.monotonic() < min(end_watch, deadline):
                now = time.monotonic()
                if playing and now >= pause_until:
                    buffered -= now - last
                    if buffered <= 0:
                        buffered, playing = 0.0, False  # stall: rebuffer
                last = now
                if level not in media:
                    media[level] = parse_media(get(conn, base + variants[level][1]).decode())
                segs = media[level]
                if pos >= len(segs):
                    if buffered <= 0:
                        break  # the video ended
                    time.sleep(min(buffered, 1.0))
                    continue
                if buffered < target:
                    dur, seg = segs[pos]
                    d = variants[level][1].rsplit("/", 1)[0]
                    t0 = time.monotonic()
                    size = len(get(conn, base + d + "/" + seg))
                    dt = max(time.monotonic() - t0, 1e-3)
                    bps = size * 8 / dt
                    est = bps if est is None else 0.7 * est + 0.3 * bps
                    buffered += dur
                    pos += 1
                    if not playing and buffered >= 3 * dur:
                        playing = True
                        last = time.monotonic()
                    # next rendition: the best that fits 70 % of the estimate; down fast, up slowly
                    fit = 0
                    for i, (bw, _) in enumerate(variants):
                        if bw <= 0.7 * est:
                            fit = i
                    if fit < level or buffered < 8:
                        level = min(fit, level)
                    elif fit > level and buffered > 12:
                        level += 1
                else:
                    if playing and pause_until <= now and rng.random() < 0.02:
                        pause_until = now + rng.uniform(3, 20)  # the viewer pauses
                    elif rng.random() < 0.01 and pos + 4 < len(segs):
                        pos = rng.randrange(pos, len(segs))       # a seek: the buffer is dropped
                        buffered, playing = 0.0, False
                        continue
                    time.sleep(min(1.0, max(0.05, buffered - target + dur_of(segs))))
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            print("player: %s" % e, file=sys.stderr)
            time.sleep(1)
        finally:
            conn.close()
        time.sleep(min(rng.uniform(1, 6), max(0, deadline - time.monotonic())))


def dur_of(segs):
    return segs[0][0] if segs else 4.0


if __name__ == "__main__":
    main()
