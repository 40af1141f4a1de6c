#!/usr/bin/python3
"""One end of a video call: voip_call.py's Opus/SRTP audio with its talk and silence, and a
camera stream beside it: ffmpeg encodes a moving, noisy picture (a camera's sensor noise keeps
the encoder at its rate) in real time with VP8 or H.264 at a seeded 0.3-1.5 Mbit/s, and sends
it as SRTP; the peer's stream is received and dropped."""

import argparse
import base64
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def key(seed, side):
    return base64.b64encode(hashlib.sha256(("video-%d-%s" % (seed, side)).encode()).digest()[:30]).decode()


def sink(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    while True:
        sock.recv(65536)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", choices=["a", "b"], required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--peer-port", type=int, required=True, help="the peer's audio port; video is 2 above")
    ap.add_argument("--listen-port", type=int, required=True, help="this side's audio port; video is 2 above")
    ap.add_argument("--codec", choices=["vp8", "h264"], default="vp8")
    ap.add_argument("--video-kbit", type=int, default=600)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--bitrate", type=int, default=32, help="audio kbit/s")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = random.Random(a.seed * 5 + (a.side == "b"))
    procs = []

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    procs.append(subprocess.Popen([sys.executable, "-u", os.path.join(HERE, "voip_call.py"), "--side", a.side,
                                   "--peer", a.peer, "--peer-port", str(a.peer_port), "--listen-port",
                                   str(a.listen_port), "--seed", str(a.seed), "--seconds", str(a.seconds),
                                   "--bitrate", str(a.bitrate), "--work", a.work]))
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"]
    for port in (a.listen_port + 2, a.listen_port + 3):  # the peer's video and its RTCP: received, dropped
        threading.Thread(target=sink, args=(port,), daemon=True).start()
    time.sleep(0.5)
    rate = a.video_kbit
    if a.codec == "vp8":
        enc = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-lag-in-frames", "0",
               "-error-resilient", "1", "-auto-alt-ref", "0", "-g", "3000", "-undershoot-pct", "95",
               "-overshoot-pct", "10"]
    else:
        enc = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline",
               "-g", "3000", "-x264-params", "slice-max-size=1150"]
    source = ("testsrc2=size=%s:rate=%d,hue=h=%d,noise=alls=%d:allf=t,format=yuv420p" % (
        a.size, a.fps, rng.randrange(360), rng.randrange(8, 20)))
    procs.append(subprocess.Popen(ff + ["-re", "-f", "lavfi", "-i", source, "-t", "%.1f" % a.seconds] + enc + [
        "-b:v", "%dk" % rate, "-maxrate", "%dk" % rate, "-bufsize", "%dk" % (rate // 2),
        "-f", "rtp", "-payload_type", "96", "-srtp_out_suite", "AES_CM_128_HMAC_SHA1_80",
        "-srtp_out_params", key(a.seed, a.side), "srtp://%s:%d?pkt_size=1200" % (a.peer, a.peer_port + 2)]))
    end = time.monotonic() + a.seconds + 1
    while time.monotonic() < end and procs[0].poll() is None:
        time.sleep(0.2)
    stop()


if __name__ == "__main__":
    main()
