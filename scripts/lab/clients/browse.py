#!/usr/bin/python3
"""A reader in Debian's headless Chromium: opens one of the lab's sites; the sites' own script
(cdn.lab.test/nav.js) then reads, scrolls and follows links at human-like intervals, seeded by
the URL fragment. Every host name resolves to the lab's web server, so nothing leaves the lab."""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SITES = ["news", "shop", "wiki", "blog", "photos", "forum"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--sites", default=",".join(SITES), help="comma-separated host names to start from (.lab.test)")
    ap.add_argument("--rules", default="", help="Chromium's --host-resolver-rules (default: every name to --server)")
    ap.add_argument("--quic", metavar="SPKI", help="HTTP/3 only, trusting the server key of this base64 SHA-256")
    ap.add_argument("--http1", action="store_true", help="HTTP/1.1 only")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    profile = tempfile.mkdtemp(prefix="fpl-chromium-")
    url = "https://%s.lab.test/#s=%d" % (rng.choice(a.sites.split(",")), rng.randrange(1, 1 << 31))
    transport = ["--disable-quic"]
    if a.quic:
        transport = ["--enable-quic", "--origin-to-force-quic-on=*", "--ignore-certificate-errors-spki-list=" + a.quic]
    elif a.http1:
        transport.append("--disable-http2")
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] + transport + [
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + profile, "--ignore-certificate-errors", "--window-size=1280,900",
           "--host-resolver-rules=" + (a.rules or "MAP * %s" % a.server), "--remote-debugging-port=0",
           "--disable-features=MediaRouter,OptimizationHints,Translate", url]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(*_):
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(profile, ignore_errors=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and p.poll() is None:
        time.sleep(0.2)
    stop()


if __name__ == "__main__":
    main()
