#!/usr/bin/python3
"""A BitTorrent user with transmission (transmission-cli): joins the lab's swarm through its
tracker, downloads the torrent from several peers while uploading to the ones that lack pieces,
seeds a while once complete, then starts over with an empty folder. DHT, LPD and UPnP off;
uTP on in some sessions (the peers then speak UDP), off in the others (TCP)."""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from proc_group import stop_group


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--port", type=int, required=True, help="the client's peer port")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    utp = rng.random() < 0.6  # uTP (UDP) to the peers, or TCP only
    deadline = time.monotonic() + a.seconds
    current = {}

    def stop(*_):
        stop_group(current.get("p"))
        if current.get("dir"):
            shutil.rmtree(current["dir"], ignore_errors=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while time.monotonic() < deadline:
        d = current["dir"] = tempfile.mkdtemp(prefix="fpl-bt-")
        done = os.path.join(d, "done")
        with open(os.path.join(d, "settings.json"), "w") as f:
            json.dump({"peer-port": a.port, "peer-port-random-on-start": False, "dht-enabled": False,
                       "lpd-enabled": False, "port-forwarding-enabled": False, "pex-enabled": True,
                       "utp-enabled": utp, "encryption": rng.choice([1, 1, 2]), "rpc-enabled": False,
                       "speed-limit-up-enabled": rng.random() < 0.5, "speed-limit-up": rng.choice([50, 100, 200]),
                       "ratio-limit-enabled": False, "blocklist-enabled": False, "message-level": 2}, f)
        finish = os.path.join(d, "finished.sh")
        with open(finish, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % done)
        os.chmod(finish, 0o755)
        p = current["p"] = subprocess.Popen(["transmission-cli", "-g", d, "-w", os.path.join(d, "data"), "-f", finish,
                                             a.torrent], stdin=subprocess.DEVNULL, start_new_session=True)
        while time.monotonic() < deadline and not os.path.exists(done) and p.poll() is None:
            time.sleep(0.5)
        seed_until = min(deadline, time.monotonic() + rng.uniform(5, 40))
        while time.monotonic() < seed_until and p.poll() is None:
            time.sleep(0.5)
        stop_group(p, 5.0)
        shutil.rmtree(d, ignore_errors=True)
        current.clear()
        time.sleep(max(0, min(deadline - time.monotonic(), rng.uniform(1, 8))))
    stop()


if __name__ == "__main__":
    main()
