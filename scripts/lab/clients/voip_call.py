#!/usr/bin/python3
"""One end of a two-way SRTP call: ffmpeg sends Opus at codec pace (20 ms frames) and another
ffmpeg receives and decodes the peer's stream. Both ends derive the same seeded conversation
(turns of talk and silence, short back-channel replies), and each speaks only in its own turns:
Opus VBR makes talk packets large and silence packets small, as in a real call."""

import argparse
import base64
import hashlib
import os
import random
import signal
import subprocess
import sys
import time


def conversation(seed, seconds):
    """Talk intervals of side a and side b: alternating turns with pauses and overlaps."""
    rng = random.Random(seed)
    talk = {"a": [], "b": []}
    t, who = rng.uniform(0.5, 2.0), "a" if rng.random() < 0.5 else "b"
    while t < seconds:
        turn = min(rng.lognormvariate(1.1, 0.7), 25.0)  # median ~3 s of speech
        talk[who].append((t, t + turn))
        other = "b" if who == "a" else "a"
        if turn > 4 and rng.random() < 0.5:           # "mm-hm" from the listener
            s = t + rng.uniform(1, turn - 1)
            talk[other].append((s, s + rng.uniform(0.3, 0.9)))
        t += turn + rng.uniform(0.2, 1.5)
        if rng.random() < 0.08:
            t += rng.uniform(3, 10)                   # both quiet for a moment
        if rng.random() < 0.75:
            who = other
    return talk


def key(seed, side):
    return base64.b64encode(hashlib.sha256(("%d-%s" % (seed, side)).encode()).digest()[:30]).decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", choices=["a", "b"], required=True)
    ap.add_argument("--peer", required=True, help="address the peer receives on")
    ap.add_argument("--peer-port", type=int, required=True)
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--bitrate", type=int, default=32)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    other = "b" if a.side == "a" else "a"
    spans = conversation(a.seed, a.seconds)[a.side]
    gate = "+".join("between(t,%.2f,%.2f)" % s for s in spans) or "0"
    rng = random.Random(a.seed * 2 + (a.side == "b"))
    pitch = rng.uniform(90, 220)
    # a voice-like source: pink noise and a buzzing glottal tone, syllable-rate envelope,
    # telephone band; between turns only faint room noise
    graph = ("anoisesrc=color=pink:sample_rate=48000:amplitude=0.35:seed=%d[n];"
             "aevalsrc='0.25*sin(2*PI*%.1f*(1+0.08*sin(2*PI*0.7*t))*t)':sample_rate=48000[v];"
             "[n][v]amix=inputs=2,highpass=f=200,lowpass=f=3600,"
             "volume=eval=frame:volume='(%s)*(0.45+0.55*abs(sin(2*PI*2.3*t)))+0.0002',arealtime[out]") % (
        rng.randrange(1 << 30), pitch, gate)
    script = os.path.join(a.work, "voice-%s.filter" % a.side)
    with open(script, "w") as f:
        f.write(graph)
    sdp = os.path.join(a.work, "recv-%s.sdp" % a.side)
    with open(sdp, "w") as f:
        f.write("v=0\no=- 0 0 IN IP4 0.0.0.0\ns=lab call\nc=IN IP4 0.0.0.0\nt=0 0\n"
                "m=audio %d RTP/AVP 97\na=rtpmap:97 opus/48000/2\n"
                "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\n" % (a.listen_port, key(a.seed, other)))
    procs = []

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"]
    procs.append(subprocess.Popen(ff + ["-protocol_whitelist", "file,udp,rtp,srtp,crypto", "-i", sdp,
                                        "-f", "null", "-"]))
    time.sleep(0.5)
    procs.append(subprocess.Popen(ff + ["-filter_complex_script", script, "-map", "[out]",
                                        "-t", "%.1f" % a.seconds, "-ac", "1", "-c:a", "libopus",
                                        "-application", "voip", "-b:a", "%dk" % a.bitrate, "-vbr", "on",
                                        "-frame_duration", "20", "-f", "rtp",
                                        "-srtp_out_suite", "AES_CM_128_HMAC_SHA1_80",
                                        "-srtp_out_params", key(a.seed, a.side),
                                        "srtp://%s:%d" % (a.peer, a.peer_port)]))
    end = time.monotonic() + a.seconds + 1
    while time.monotonic() < end and procs[1].poll() is None:
        time.sleep(0.2)
    stop()


if __name__ == "__main__":
    main()
