#!/usr/bin/python3
"""A minimal BitTorrent HTTP tracker (BEP 3, compact peer lists of BEP 23) for the lab's swarm:
remembers who announced each info_hash, from the address the announce came from, and answers
every announce with the others. The swarm's own peers (--peer) are known from the start, whatever
address their announces come from."""

import argparse
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PEERS = {}  # info_hash -> {(ip, port): last seen}
STATIC = []  # (ip, port) of the swarm's peers
LOCAL = ""  # the swarm's /24 prefix: announces from there are the static peers
LOCK = threading.Lock()


def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, str):
        return bencode(x.encode())
    if isinstance(x, dict):
        return b"d" + b"".join(bencode(k) + bencode(x[k]) for k in sorted(x)) + b"e"
    return b"l" + b"".join(bencode(v) for v in x) + b"e"


class Tracker(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True, encoding="latin-1")
        if url.path != "/announce" or "info_hash" not in q or "port" not in q:
            body = bencode({"failure reason": "bad announce"})
        else:
            h = q["info_hash"][0].encode("latin-1")
            me = (self.client_address[0], int(q["port"][0]))
            now = time.monotonic()
            with LOCK:
                swarm = PEERS.setdefault(h, {})
                if me[0].startswith(LOCAL):
                    pass
                elif q.get("event", [""])[0] == "stopped":
                    swarm.pop(me, None)
                else:
                    swarm[me] = now
                others = [p for p in STATIC if p[0] != me[0]]
                others += [p for p, t in swarm.items() if p != me and now - t < 600]
            body = bencode({"interval": 30, "min interval": 15,
                            "peers": b"".join(socket.inet_aton(ip) + struct.pack(">H", port) for ip, port in others)})
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("%s %s" % (self.client_address[0], fmt % args), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=6969)
    ap.add_argument("--peer", action="append", default=[], help="ip:port of one of the swarm's peers")
    ap.add_argument("--local", required=True, help="the swarm's address prefix, e.g. 10.100.255.")
    a = ap.parse_args()
    global LOCAL
    LOCAL = a.local
    STATIC.extend((p.split(":")[0], int(p.split(":")[1])) for p in a.peer)
    ThreadingHTTPServer(("0.0.0.0", a.port), Tracker).serve_forever()


if __name__ == "__main__":
    main()
