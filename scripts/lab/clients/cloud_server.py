#!/usr/bin/python3
"""The lab's cloud-sync service (behind nginx's HTTPS on /sync/), shaped like Dropbox's or
OneDrive's API: an account's file list with a cursor, file downloads and uploads, and a
long-poll that answers when another device of the account changed something.

Accounts are made on first use from a seed; file bodies are random bytes of the listed size
(uploads are read and dropped), so nothing grows on disk."""

import argparse
import hashlib
import json
import os
import random
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEED = 1
ACCOUNTS = {}
LOCK = threading.Lock()


def file_size(rng):
    return int(min(16 << 20, max(100, rng.lognormvariate(10.3, 1.5))))  # median ~30 kB


class Account:
    def __init__(self, name):
        h = hashlib.sha256(("%d/%s" % (SEED, name)).encode()).digest()
        self.rng = random.Random(int.from_bytes(h[:8], "little"))
        self.files = {}
        for i in range(self.rng.randint(150, 900)):
            d = self.rng.choice(["Documents", "Photos", "Work", "Notes", "Music", "Projects/app", "Projects/site"])
            self.files["%s/f%04d.%s" % (d, i, self.rng.choice(["docx", "jpg", "pdf", "txt", "xlsx", "png"]))] = \
                [file_size(self.rng), 1]
        self.cursor = 1
        self.changed = {}  # cursor -> names changed then
        self.next_remote = time.monotonic() + self.rng.lognormvariate(3.0, 0.7)

    def remote_change(self):
        """Another device of the account edits a few files."""
        self.cursor += 1
        names = self.rng.sample(sorted(self.files), min(len(self.files), self.rng.randint(1, 6)))
        for n in names:
            self.files[n] = [file_size(self.rng), self.files[n][1] + 1]
        self.changed[self.cursor] = names
        self.next_remote = time.monotonic() + self.rng.lognormvariate(3.0, 0.7)


def account(name):
    with LOCK:
        if name not in ACCOUNTS:
            ACCOUNTS[name] = Account(name)
        return ACCOUNTS[name]


class Sync(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, body, ctype="application/json"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def parse(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        return url.path, q, account(q.get("account", "anon"))

    def do_GET(self):
        path, q, acc = self.parse()
        if path == "/sync/list":
            since = int(q.get("cursor", 0))
            with LOCK:
                if since:
                    names = sorted({n for c, ns in acc.changed.items() if c > since for n in ns})
                else:
                    names = sorted(acc.files)
                entries = [{"path": n, "size": acc.files[n][0], "rev": "%08x" % (zlib.crc32(n.encode()) ^ acc.files[n][1]),
                            "modified": int(time.time()) - acc.rng.randint(0, 10 ** 7)} for n in names]
                self.reply({"cursor": acc.cursor, "entries": entries, "has_more": False})
        elif path == "/sync/longpoll":
            cursor = int(q.get("cursor", 0))
            end = time.monotonic() + min(480, float(q.get("timeout", 60)))
            while True:
                with LOCK:
                    if acc.cursor > cursor:
                        break
                    if time.monotonic() >= acc.next_remote:
                        acc.remote_change()
                        break
                    wake = min(end, acc.next_remote)
                if time.monotonic() >= end:
                    break
                time.sleep(max(0.05, min(1.0, wake - time.monotonic())))
            self.reply({"changes": acc.cursor > cursor, "backoff": 0})
        elif path.startswith("/sync/file/"):
            name = urllib.parse.unquote(path[len("/sync/file/"):])
            with LOCK:
                size = acc.files.get(name, [0])[0]
            self.reply(os.urandom(size), "application/octet-stream")
        else:
            self.send_error(404)

    def do_PUT(self):
        path, q, acc = self.parse()
        n = int(self.headers.get("Content-Length", 0))
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
        name = urllib.parse.unquote(path[len("/sync/file/"):])
        with LOCK:
            rev = acc.files.get(name, [0, 0])[1] + 1
            acc.files[name] = [n, rev]
        self.reply({"path": name, "size": n, "rev": "%08x" % rev})

    def log_message(self, fmt, *args):
        pass


def main():
    global SEED
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    SEED = a.seed
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Sync)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
