#!/usr/bin/python3
"""An FTP session with lftp, plain (ftp) or explicit TLS (ftps: AUTH TLS, protected data
connections), passive mode: one control connection that stays open, listings, downloads of
large files and of folders of small ones, uploads and deletes, with pauses. Seeded."""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from proc_group import stop_group

SIZES_MB = [2, 4, 8, 16, 32, 64]


def script(a, rng, scratch):
    lines = ["set cmd:fail-exit no", "set net:max-retries 2", "set net:reconnect-interval-base 1",
             "set net:timeout 30", "set ftp:passive-mode yes", "set xfer:clobber yes"]
    if a.app == "ftps":
        lines += ["set ftp:ssl-force yes", "set ftp:ssl-allow-anonymous yes", "set ftp:ssl-protect-data yes",
                  "set ftp:ssl-protect-list yes", "set ssl:ca-file " + a.ca, "set ssl:check-hostname no"]
    else:
        lines += ["set ftp:ssl-allow no"]
    lines += ["open -u anonymous,lab@lab.test ftp://" + a.server, "ls"]
    for n in range(400):  # more than a session can do: the lab stops it
        r = rng.random()
        if r < 0.35:
            lines += ["get pub/%dM.bin -o %s/got.bin" % (rng.choice(SIZES_MB), scratch), "!rm -f %s/got.bin" % scratch]
        elif r < 0.6:
            lines += ["mget -P %d -O %s docs/doc0%d*" % (rng.choice([1, 1, 2, 3]), scratch, rng.randrange(6)),
                      "!rm -f %s/doc*" % scratch]
        elif r < 0.85:
            name = "incoming/%s-%d.bin" % (a.tag, n)
            local = os.path.join(a.files, "%dM.bin" % rng.choice(SIZES_MB[:4]))
            lines += ["put %s -o %s" % (local, name), "rm " + name]
        else:
            lines += [rng.choice(["ls pub", "cls -l docs", "ls incoming", "pwd"])]
        lines += ["sleep %.1f" % min(60, rng.lognormvariate(1.0, 0.9))]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", choices=["ftp", "ftps"], required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--files", required=True, help="the lab's files, the uploads' sources")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    scratch = tempfile.mkdtemp(prefix="fpl-ftp-")
    path = os.path.join(scratch, "session.lftp")
    with open(path, "w") as f:
        f.write(script(a, rng, scratch))
    p = subprocess.Popen(["lftp", "-f", path], stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(*_):
        stop_group(p)
        shutil.rmtree(scratch, ignore_errors=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    try:
        p.wait(a.seconds)
    except subprocess.TimeoutExpired:
        pass
    stop()


if __name__ == "__main__":
    main()
