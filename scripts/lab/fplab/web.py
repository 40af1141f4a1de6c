"""The lab's Go web server and clients (scripts/lab/quic: quic-go HTTP/3, Go's HTTP/2 and
HTTP/1.1), built once with Debian's Go into the cache; the video size profile they use; and web
pages shaped like the Internet's (object counts and sizes after the HTTP Archive's Web Almanac)
spread over first- and third-party hosts.

Everything here is generated with fixed seeds, so a cache built once is reused."""

import base64
import glob
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile

from .netns import port_open, wait_for

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "quic")
PAGES_VERSION = 3
PLAIN_PORT = 8081  # the Go server's plain HTTP for nginx in front of it (127.0.0.1 only)

# First-party sites and third-party hosts of the realistic pages (all *.lab.test); each group
# of hosts gets a server address of its own in browsing's sessions (apps/browsing.py).
SITES = ["www-news", "www-shop", "www-wiki", "www-blog", "www-photos", "www-forum"]
THIRD = ["static", "img", "fonts", "ads", "metrics"]


def binary(cache):
    h = hashlib.sha256(repr(QUIC_GO_PATCHES if _quic == "google" else []).encode())
    for p in sorted(glob.glob(os.path.join(SRC, "*.go"))):
        h.update(os.path.basename(p).encode())
        with open(p, "rb") as f:
            h.update(f.read())
    return os.path.join(cache, "bin", "fplab-web-%s-%s" % (_quic, h.hexdigest()[:16]))


# quic-go's source as scripts/lab/setup.sh unpacks it, then Debian's Go packages
GOPATH = "/var/lib/flowpic-lab/gocode:/usr/share/gocode"
QUIC_GO = "src/github.com/lucas-clemente/quic-go"
# Two changes make the lab's quic-go endpoints send what Google's QUIC and Chrome send (on the
# wire: real YouTube traffic, Requet, is 93 % QUIC from Chrome), where FlowPic sees them:
# - the largest UDP payload, with path MTU discovery off: 1350 bytes (Chromium's
#   kDefaultMaxPacketSize), so a full packet is 1378 bytes (82 % of Requet's packets), not
#   quic-go's 1252 or what its MTU discovery finds on a veth (about 1440);
# - ACK decimation as Chromium's: after the first 100 packets of a connection
#   (kMinReceivedBeforeAckDecimation), one ACK per 10 ack-eliciting packets
#   (kMaxRetransmittablePacketsBeforeAck) or after the ACK delay, not one per 2 (quic-go): a
#   download then carries about 0.2 small packets per full one, as Requet's do, not 0.5.
# `flowpic lab --quic quic-go` builds quic-go as Debian packages it instead (for comparison).
MAX_UDP_PAYLOAD = 1350
QUIC_PROFILES = ("google", "quic-go")
_quic = "google"


def use_quic(profile):
    """How the lab's QUIC endpoints send: "google" (QUIC_GO_PATCHES) or "quic-go" (unpatched)."""
    global _quic
    if profile not in QUIC_PROFILES:
        raise ValueError("unknown QUIC profile %r (choose from %s)" % (profile, ", ".join(QUIC_PROFILES)))
    _quic = profile


QUIC_GO_PATCHES = [
    ("internal/protocol/params.go", "const InitialPacketSizeIPv4 = 1252",
     "const InitialPacketSizeIPv4 = %d" % MAX_UDP_PAYLOAD),
    ("internal/ackhandler/received_packet_tracker.go",
     "if h.ackElicitingPacketsReceivedSinceLastAck >= packetsBeforeAck {",
     "if h.ackElicitingPacketsReceivedSinceLastAck >= packetsBeforeAck &&\n"
     "\t\t(pn < 100 || h.ackElicitingPacketsReceivedSinceLastAck >= 10) {"),
]


def _quic_go_overlay(tmp):
    """A GOPATH entry with a copy of quic-go patched as QUIC_GO_PATCHES says, ahead of GOPATH;
    GOPATH itself when quic-go is not found (go build then says what is missing)."""
    for root in GOPATH.split(":"):
        src = os.path.join(root, QUIC_GO)
        if os.path.isdir(src):
            break
    else:
        return GOPATH
    if _quic != "google":
        return GOPATH
    dst = os.path.join(tmp, QUIC_GO)
    shutil.copytree(src, dst, symlinks=True)
    for rel, old, new in QUIC_GO_PATCHES:
        path = os.path.join(dst, rel)
        with open(path) as f:
            text = f.read()
        if text.count(old) != 1:
            raise RuntimeError("%s: no single `%s` to patch (another quic-go version?)" % (path, old))
        with open(path, "w") as f:
            f.write(text.replace(old, new))
    return tmp + ":" + GOPATH


def build(cache, log):
    """Builds scripts/lab/quic offline with Debian's Go and quic-go (golang-*-dev packages),
    once per source version."""
    out = binary(cache)
    if os.path.exists(out) or not shutil.which("go"):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    gocache = tempfile.mkdtemp(prefix="fpl-go-")
    try:
        env = dict(os.environ, GO111MODULE="off", GOPATH=_quic_go_overlay(os.path.join(gocache, "gopath")),
                   GOFLAGS="", GOCACHE=gocache, CGO_ENABLED="0", GOTOOLCHAIN="local")
        with open(log, "ab") as f:
            subprocess.run(["go", "build", "-trimpath", "-o", out + ".tmp", "."], cwd=SRC, env=env, stdout=f,
                           stderr=subprocess.STDOUT, check=True)
    finally:
        shutil.rmtree(gocache, ignore_errors=True)
    for old in glob.glob(os.path.join(os.path.dirname(out), "fplab-web-*")):
        name = os.path.basename(old)
        if old != out + ".tmp" and not any(name.startswith("fplab-web-%s-" % q) for q in QUIC_PROFILES if q != _quic):
            os.unlink(old)  # earlier versions (the cache is locked while this runs)
    os.rename(out + ".tmp", out)
    return out


def profile(content_dir):
    """Relative sizes (mean 1) of consecutive 2 s units, from the ffmpeg encodes of the HLS
    videos (720p, 4 s segments: two units each); flat where there are none."""
    path = os.path.join(content_dir, "video-profile.json")
    if os.path.exists(path):
        return path
    units = []
    for d in sorted(glob.glob(os.path.join(content_dir, "video", "*", "720p"))):
        sizes = [os.path.getsize(p) for p in sorted(glob.glob(os.path.join(d, "*.ts")))]
        if sizes:
            mean = sum(sizes) / len(sizes)
            for s in sizes:
                units += [round(s / mean, 3)] * 2
    with open(path + ".tmp", "w") as f:
        json.dump(units or [1.0], f)
    os.rename(path + ".tmp", path)
    return path


def _lognormal(rng, median, sigma, lo, hi):
    return int(min(hi, max(lo, rng.lognormvariate(0, sigma) * median)))


def _pad(rng, n):
    """n bytes of incompressible text (the wire size of compressed content)."""
    return base64.b64encode(rng.getrandbits(8 * (n * 3 // 4 + 3)).to_bytes(n * 3 // 4 + 3, "little")).decode()[:n]


def _jpeg(base, rng, size):
    """A valid JPEG of at least `size` bytes: base with comment segments of random bytes after SOI."""
    out = bytearray(base[:2])
    need = size - len(base)
    while need > 4:
        k = min(65533, need - 4)
        out += b"\xff\xfe" + (k + 2).to_bytes(2, "big") + rng.getrandbits(8 * k).to_bytes(k, "little")
        need -= k + 4
    return bytes(out + base[2:])


def pages(content_dir, nav_js, log=None):
    """Sites of 20 pages each, shaped after the Web Almanac 2022 (desktop, median page): ~70
    requests and ~2 MB, of which images ~1 MB over ~25 requests, JavaScript ~500 kB over ~22,
    CSS ~70 kB over ~7, fonts ~110 kB over ~4, HTML ~30 kB; scripts, styles and fonts are shared
    by a site's pages (cached after the first), images are new on every page."""
    out = os.path.join(content_dir, "web-v%d" % PAGES_VERSION)
    if os.path.exists(os.path.join(out, "done")):
        return out
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    rng = random.Random(20261205)
    bases = sorted(glob.glob(os.path.join(content_dir, "sites", "*", "img", "t*.jpg")), key=os.path.getsize)[:8]
    base_jpegs = [open(p, "rb").read() for p in bases] or [b"\xff\xd8\xff\xd9"]
    for h in SITES + THIRD:
        os.makedirs(os.path.join(tmp, h), exist_ok=True)
    with open(os.path.join(tmp, "static", "nav.js"), "w") as f:
        f.write(nav_js)

    def write(host, path, data):
        p = os.path.join(tmp, host, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return "https://%s.lab.test/%s" % (host, path)

    def script(host, path, n):
        return write(host, path, "/*%s*/\nvar _%s=1;\n" % (_pad(rng, n), hashlib.md5(path.encode()).hexdigest()[:8]))

    # third parties shared by every site: analytics, ads, a font service
    shared_js = [script("metrics", "m%d.js" % k, _lognormal(rng, 30e3, 0.8, 3e3, 150e3)) for k in range(3)]
    shared_js += [script("ads", "ad%d.js" % k, _lognormal(rng, 40e3, 0.9, 3e3, 200e3)) for k in range(4)]
    write("metrics", "collect", "ok")
    for si, site in enumerate(SITES):
        fonts = [write("fonts", "%s/f%d.woff2" % (site, k), rng.getrandbits(8 * 28000).to_bytes(28000, "little"))
                 for k in range(rng.randint(3, 5))]
        css = []
        for k in range(rng.randint(5, 8)):
            faces = "".join("@font-face{font-family:F%d;src:url(%s) format('woff2')}\n" % (j, u)
                            for j, u in enumerate(fonts)) if k == 0 else ""
            uses = "".join("h%d{font-family:F%d}\n" % (j + 1, j) for j in range(len(fonts))) if k == 0 else ""
            css.append(write("static" if k % 2 else site, "%s/s%d.css" % (site, k) if k % 2 else "s%d.css" % k,
                             faces + uses + "/*%s*/\n" % _pad(rng, _lognormal(rng, 8e3, 0.9, 1e3, 60e3))))
        js = [script("static" if k % 3 else site, "%s/j%d.js" % (site, k) if k % 3 else "j%d.js" % k,
                     _lognormal(rng, 14e3, 1.1, 1e3, 400e3)) for k in range(rng.randint(16, 24))]
        write(site, "api/feed.json", json.dumps([{"id": i, "title": _pad(rng, rng.randint(30, 120))}
                                                 for i in range(rng.randint(10, 60))]))
        npages = 20
        for p in range(npages):
            name = "index.html" if p == 0 else "p%03d.html" % p
            nimg = _lognormal(rng, 30, 0.5, 6, 100)
            imgs = []
            for k in range(nimg):
                size = _lognormal(rng, 20e3, 1.2, 2e3, 900e3)
                host = "img" if rng.random() < 0.6 else site
                imgs.append(write(host, "%s/%d-%d.jpg" % (site, p, k) if host == "img" else "img/%d-%d.jpg" % (p, k),
                                  _jpeg(rng.choice(base_jpegs), rng, size)))
            links = ["/p%03d.html" % rng.randrange(1, npages) for _ in range(rng.randint(8, 20))] + ["/"]
            xlinks = ["https://%s.lab.test/" % rng.choice([s for s in SITES if s != site]) for _ in range(2)]
            body = []
            for k, u in enumerate(imgs):
                body.append("<h%d>%s</h%d><p>%s</p>" % (1 + k % len(fonts), site, 1 + k % len(fonts),
                                                        _pad(rng, rng.randint(100, 900))))
                body.append('<img src="%s" width=300 height=200%s>' % (u, ' loading="lazy"' if k > 8 else ""))
            heads = "".join('<link rel=stylesheet href="%s">' % u for u in css)
            page_js = rng.sample(js, min(len(js), _lognormal(rng, 16, 0.4, 4, len(js))))
            page_js += rng.sample(shared_js, rng.randint(2, len(shared_js)))
            heads += "".join('<script src="%s"%s></script>' % (u, " async" if i % 2 else "")
                             for i, u in enumerate(page_js))
            poll = ' data-poll="/api/feed.json"' if rng.random() < 0.25 else ""  # a live ticker
            html = ("<!doctype html><html><head><meta charset=utf-8><title>%s %d</title>%s</head><body%s>"
                    "<nav>%s</nav>%s<footer>%s</footer>"
                    '<img src="https://metrics.lab.test/collect?p=%d" width=1 height=1>'
                    '<script src="https://static.lab.test/nav.js"></script></body></html>\n') % (
                site, p, heads, poll, " ".join('<a href="%s">%s</a>' % (l, l) for l in links), "\n".join(body),
                " ".join('<a href="%s">%s</a>' % (l, l) for l in xlinks), p)
            write(site, name, html + "<!--%s-->\n" % _pad(rng, _lognormal(rng, 15e3, 0.6, 2e3, 80e3)))
    open(os.path.join(tmp, "done"), "w").close()
    os.rename(tmp, out)
    return out


def prepare(cache, content_dir, categories, nav_js):
    """What the Go server and clients need: the binary, the size profile, the pages."""
    if "video" in categories or "browsing" in categories:
        build(cache, os.path.join(content_dir, "build.log"))
        profile(content_dir)
    if "browsing" in categories:
        pages(content_dir, nav_js)


def serve(ns, work, pki, cache, content_dir, h3=True):
    """The Go server in ns: HTTP/3 on UDP 443 (all addresses), and plain HTTP on 127.0.0.1 for
    nginx in front of it (TLS/TCP 443)."""
    crt, key = pki.server
    log = os.path.join(work, "fplab-web.log")
    cmd = [binary(cache), "serve", "-cert", crt, "-key", key, "-sites",
           os.path.join(content_dir, "web-v%d" % PAGES_VERSION), "-profile", os.path.join(content_dir, "video-profile.json"),
           "-plain", "127.0.0.1:%d" % PLAIN_PORT, "-tcp=false", "-h3=%s" % ("true" if h3 else "false")]
    ns.spawn(cmd, log=log)
    wait_for(lambda: port_open(ns, "127.0.0.1", PLAIN_PORT), 20, "the Go web server")
    if h3:
        wait_for(lambda: port_open(ns, "0.0.0.0", 443, "udp"), 20, "the Go web server on UDP 443")
