#!/usr/bin/python3
"""Large uploads and downloads with real tools, one application per session: sftp (OpenSSH),
scp (OpenSSH), https (curl against nginx: GET, and PUT + DELETE) or rsync (over SSH: a folder
of small files kept in sync, some changed between runs, and large files fetched). Seeded:
direction, file size and the pauses between transfers. The link's bandwidth is limited by the
lab (tbf)."""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SIZES_MB = [2, 4, 8, 16, 32, 64]


def edit(rng, path):
    """Writes or changes a file of lognormal size (median ~30 kB): a new file, an append, or a
    rewrite of a part, so rsync sends whole files and deltas."""
    size = int(min(8 << 20, max(100, rng.lognormvariate(10.3, 1.4))))
    if not os.path.exists(path) or rng.random() < 0.3:
        with open(path, "wb") as f:
            f.write(os.urandom(size))
    elif rng.random() < 0.5:
        with open(path, "ab") as f:
            f.write(os.urandom(size // 10 + 1))
    else:
        with open(path, "r+b") as f:
            f.seek(rng.randrange(max(1, os.path.getsize(path))))
            f.write(os.urandom(size // 10 + 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", choices=["sftp", "scp", "https", "rsync"], required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--files", required=True, help="directory of the files to send (and the server's to fetch)")
    ap.add_argument("--upload-dir", required=True, help="where the SSH server stores uploads")
    ap.add_argument("--ssh-key")
    ap.add_argument("--ca")
    ap.add_argument("--tag", required=True, help="unique name of this session")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    deadline = time.monotonic() + a.seconds
    current = []
    scratch = tempfile.mkdtemp(prefix="fpl-ft-")

    def stop(*_):
        for p in current:
            if p.poll() is None:
                p.terminate()
        shutil.rmtree(scratch, ignore_errors=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    ssh = ["-F", "/dev/null", "-i", a.ssh_key or "", "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
    folder = os.path.join(scratch, "folder")
    if a.app == "rsync":
        os.makedirs(folder)
        for i in range(rng.randint(20, 80)):
            edit(rng, os.path.join(folder, "f%03d.dat" % i))
    n = 0
    while time.monotonic() < deadline:
        mb = rng.choice(SIZES_MB)
        down = rng.random() < 0.6
        name = "%dM.bin" % mb
        local = os.path.join(a.files, name)
        up_name = "%s-%d.bin" % (a.tag, n)
        remote_up = os.path.join(a.upload_dir, up_name)
        got = os.path.join(scratch, "got.bin")
        n += 1
        if a.app == "https":
            base = "https://files.lab.test"
            curl = ["curl", "-sS", "--fail", "--cacert", a.ca, "--resolve", "files.lab.test:443:" + a.server]
            if down:
                cmds = [curl + ["-o", got, base + "/files/" + name]]
            else:
                url = base + "/upload/" + up_name
                cmds = [curl + ["-T", local, url], curl + ["-X", "DELETE", url]]
        elif a.app == "sftp":
            batch = os.path.join(scratch, "batch")
            with open(batch, "w") as f:
                f.write("get %s %s\n" % (local, got) if down else "put %s %s\nrm %s\n" % (local, remote_up, remote_up))
            cmds = [["sftp", "-q", "-b", batch] + ssh + ["root@" + a.server]]
        elif a.app == "rsync":
            rs = ["rsync", "-a", "-e", " ".join(["ssh"] + ssh)] + (["-z"] if rng.random() < 0.3 else [])
            if down:
                cmds = [rs + ["root@%s:%s" % (a.server, local), got]]
            else:  # the user changed a few files of the folder since the last sync
                for _ in range(rng.randint(1, 8)):
                    edit(rng, os.path.join(folder, "f%03d.dat" % rng.randrange(100)))
                cmds = [rs + ["--delete", folder + "/", "root@%s:%s/" % (a.server, os.path.join(a.upload_dir, a.tag))]]
        else:
            cmds = [["scp", "-q"] + ssh + (["root@%s:%s" % (a.server, local), got] if down
                                           else [local, "root@%s:%s" % (a.server, remote_up)])]
        for c in cmds:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            p = subprocess.Popen(c, cwd=scratch)
            current[:] = [p]
            try:
                p.wait(left)
            except subprocess.TimeoutExpired:
                p.terminate()
                p.wait()
        for leftover in (got, remote_up if a.app == "scp" else None):  # the lab's disk, not traffic
            if leftover and os.path.exists(leftover):
                os.unlink(leftover)
        time.sleep(min(rng.lognormvariate(1.0, 0.8), max(0, deadline - time.monotonic())))
    stop()


if __name__ == "__main__":
    main()
