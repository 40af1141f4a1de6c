#!/usr/bin/python3
"""A cloud-sync client (Dropbox, OneDrive) over HTTPS: lists the account, downloads what the
first sync needs, uploads files the user changes in bursts, and keeps a second connection in a
long-poll that tells it when another device changed something (then lists and downloads the
changes). Seeded: file sizes (lognormal, median ~30 kB, some MB), bursts and pauses."""

import argparse
import http.client
import json
import os
import queue
import random
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

HOST = "sync.lab.test"


class Conn:
    """One keep-alive HTTPS connection to the service (reconnects when the server closes)."""

    def __init__(self, server, ctx, timeout):
        self.server, self.ctx, self.timeout, self.c = server, ctx, timeout, None

    def request(self, method, path, body=None):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPSConnection(HOST, 443, timeout=self.timeout, context=self.ctx)
                raw = socket.create_connection((self.server, 443), timeout=self.timeout)
                self.c.sock = self.ctx.wrap_socket(raw, server_hostname=HOST)
            try:
                headers = {"User-Agent": "labsync/2.4", "Authorization": "Bearer lab"}
                self.c.request(method, path, body=body, headers=headers)
                r = self.c.getresponse()
                data = r.read()
                return r.status, data
            except (OSError, http.client.HTTPException):
                self.c.close()
                self.c = None
                if attempt:
                    raise
        return 0, b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    deadline = time.monotonic() + a.seconds
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ctx = ssl.create_default_context(cafile=a.ca)
    acct = "account=" + urllib.parse.quote(a.tag)
    main_conn = Conn(a.server, ctx, 60)
    events = queue.Queue()
    state = {"cursor": 0}

    def left():
        return deadline - time.monotonic()

    def notify():
        poll = Conn(a.server, ctx, 600)
        prng = random.Random(a.seed ^ 0x1095)
        while left() > 0:
            try:
                seen = state["cursor"]
                _, data = poll.request("GET", "/sync/longpoll?%s&cursor=%d&timeout=%d" % (
                    acct, seen, prng.choice([30, 60, 90, 120])))
                if json.loads(data or b"{}").get("changes"):
                    events.put("remote")
                    for _ in range(100):  # until the client has listed the changes
                        if state["cursor"] != seen:
                            break
                        time.sleep(0.1)
            except (OSError, ValueError, http.client.HTTPException):
                time.sleep(1)

    def sync_list(since):
        _, data = main_conn.request("GET", "/sync/list?%s&cursor=%d" % (acct, since))
        j = json.loads(data)
        state["cursor"] = j["cursor"]
        return j["entries"]

    def download(entries):
        for e in entries:
            if left() <= 0:
                return
            main_conn.request("GET", "/sync/file/%s?%s" % (urllib.parse.quote(e["path"]), acct))
            time.sleep(rng.uniform(0.0, 0.15))

    try:
        entries = sync_list(0)
        threading.Thread(target=notify, daemon=True).start()
        first = rng.sample(entries, min(len(entries), rng.randint(5, 25)))
        download(first)
        names = [e["path"] for e in entries]
        n = 0
        while left() > 0:
            try:
                ev = events.get(timeout=max(0.1, min(left(), rng.lognormvariate(1.8, 1.0))))
            except queue.Empty:
                ev = "local"
            if left() <= 0:
                break
            if ev == "remote":
                download(sync_list(state["cursor"])[:20])
                continue
            # the user saved some files: upload them one after another, then list
            for _ in range(min(60, 1 + int(rng.lognormvariate(1.5, 1.0)))):
                if left() <= 0:
                    break
                if rng.random() < 0.3:
                    name = "Documents/new-%s-%d.%s" % (a.tag, n, rng.choice(["docx", "txt", "jpg"]))
                    n += 1
                else:
                    name = rng.choice(names)
                size = int(min(16 << 20, max(100, rng.lognormvariate(10.3, 1.5))))
                main_conn.request("PUT", "/sync/file/%s?%s" % (urllib.parse.quote(name), acct), os.urandom(size))
                time.sleep(rng.uniform(0.02, 0.4))
            sync_list(state["cursor"])
    except (OSError, ValueError, http.client.HTTPException) as e:
        print("cloud_sync: %s" % e, file=sys.stderr)
        while left() > 0:
            time.sleep(min(1, left()))
    os._exit(0)


if __name__ == "__main__":
    main()
