"""What the lab's servers serve, generated here and cached: HLS test videos (ffmpeg lavfi
sources), web sites of many pages with images, and files to transfer. Nothing third-party.

The content is the same for every run (fixed seeds), so a cache built once is reused.
"""

import json
import os
import random
import shutil
import subprocess

CONTENT_VERSION = 3

# HLS renditions: (name, width, height, video kbit/s); audio is 96 kbit/s AAC in every one.
RENDITIONS = [("240p", 426, 240, 400), ("480p", 854, 480, 1200), ("720p", 1280, 720, 2500)]
SEGMENT_SECONDS = 4

# Each video: a lavfi source with its own visual complexity (so segment sizes vary).
VIDEOS = [
    ("bars", "testsrc2=size=1280x720:rate=25,noise=alls=10:allf=t"),
    ("life", "life=size=320x180:rate=25:mold=10:ratio=0.4:death_color=#203050:life_color=#e0c040,"
             "scale=1280:720:flags=neighbor"),
    ("cells", "cellauto=size=320x180:rate=25:rule=110,scale=1280:720:flags=bicubic,"
              "hue=H=2*PI*t/20:s=3"),
]

SITES = ["news", "shop", "wiki", "blog", "photos", "forum"]
CDN = "cdn"
FILE_SIZES_MB = [2, 4, 8, 16, 32, 64]


def _ffmpeg(args, log):
    with open(log, "ab") as f:
        subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"] + args,
                       stdout=f, stderr=subprocess.STDOUT, check=True)


def _video(out, name, source, seconds, log):
    d = os.path.join(out, name)
    if os.path.exists(os.path.join(d, "master.m3u8")):
        return
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    n = len(RENDITIONS)
    split = "".join("[s%d]" % i for i in range(n))
    graph = "[0:v]split=%d%s;" % (n, split) + ";".join(
        "[s%d]scale=%d:%d[v%d]" % (i, w, h, i) for i, (_, w, h, _) in enumerate(RENDITIONS))
    args = ["-f", "lavfi", "-i", source, "-f", "lavfi", "-i",
            "sine=frequency=220:beep_factor=3:sample_rate=48000", "-t", str(seconds),
            "-filter_complex", graph]
    for i in range(n):
        args += ["-map", "[v%d]" % i, "-map", "1:a"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-threads", "2", "-g", str(25 * SEGMENT_SECONDS),
             "-keyint_min", str(25 * SEGMENT_SECONDS), "-sc_threshold", "0", "-c:a", "aac", "-b:a", "96k"]
    for i, (_, _, _, kbps) in enumerate(RENDITIONS):
        args += ["-b:v:%d" % i, "%dk" % kbps, "-maxrate:v:%d" % i, "%dk" % int(kbps * 1.25),
                 "-bufsize:v:%d" % i, "%dk" % (2 * kbps)]
    args += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
             "-hls_segment_filename", os.path.join(tmp, "%v", "seg%03d.ts"),
             "-master_pl_name", "master.m3u8",
             "-var_stream_map", " ".join("v:%d,a:%d,name:%s" % (i, i, r[0]) for i, r in enumerate(RENDITIONS)),
             os.path.join(tmp, "%v", "index.m3u8")]
    _ffmpeg(args, log)
    os.rename(tmp, d)


WORDS = ("time year people way day man thing woman life child world school state family student "
         "group country problem hand part place case week company system program question work "
         "government number night point home water room mother area money story fact month lot "
         "right study book eye job word business issue side kind head house service friend father "
         "power hour game line end member law car city community name president team minute idea "
         "kid body information back parent face others level office door health person art war "
         "history party result change morning reason research girl guy moment air teacher force "
         "education foot boy age policy process music market sense nation plan college interest "
         "death experience effect use class control care field development role effort rate heart "
         "drug show leader light voice wife police mind price report decision son view relationship "
         "town road arm difference value building action model season society tax director position "
         "player record paper space ground form event official matter center couple site project "
         "activity star table need court oil situation cost industry figure street image phone data "
         "picture practice piece land product doctor wall patient worker news test movie north love "
         "support technology step baby computer type attention film tree source organization hair "
         "window evidence population site network traffic flow packet garden river mountain").split()


def _text(rng, n):
    out = []
    while n > 0:
        k = min(n, rng.randint(8, 24))
        s = " ".join(rng.choice(WORDS) for _ in range(k))
        out.append(s[0].upper() + s[1:] + ".")
        n -= k
    return " ".join(out)


NAV_JS = r"""// Walks the lab's sites like a reader: reads for a while, scrolls, follows a link.
// The walk is seeded: its state travels in the URL fragment (#s=...), never sent to a server.
(function () {
  function prng(a) { return function () { a |= 0; a = a + 0x6D2B79F5 | 0;
    var t = Math.imul(a ^ a >>> 15, 1 | a); t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296; }; }
  var m = /s=(\d+)/.exec(location.hash);
  var rnd = prng(m ? +m[1] : 1);
  var next = Math.floor(rnd() * 4294967295) + 1;
  function lognormal(median, sigma) {
    var z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    return median * Math.exp(sigma * z);
  }
  var dwell = Math.min(60, Math.max(2, lognormal(9, 0.8)));
  var scrolls = Math.floor(rnd() * 6);
  for (var i = 1; i <= scrolls; i++)
    setTimeout(function () { window.scrollBy(0, 300 + 900 * rnd()); }, dwell * 1000 * i / (scrolls + 1));
  var poll = document.body.getAttribute('data-poll');
  if (poll) setInterval(function () { fetch(poll + '?t=' + Date.now()).catch(function () {}); },
                        (8 + 12 * rnd()) * 1000);
  setTimeout(function () {
    var here = location.host + location.pathname, links = [];
    document.querySelectorAll('a[href]').forEach(function (a) {
      if (a.host + a.pathname !== here) links.push(a);
    });
    var away = links.filter(function (a) { return a.host !== location.host; });
    var pick = (away.length && rnd() < 0.12) ? away[Math.floor(rnd() * away.length)]
                                             : links[Math.floor(rnd() * links.length)];
    if (pick) location.href = pick.href.split('#')[0] + '#s=' + next;
  }, dwell * 1000);
})();
"""


def _images(d, site_index, log):
    os.makedirs(d, exist_ok=True)
    if os.path.exists(os.path.join(d, "done")):
        return
    sources = ["testsrc2", "mandelbrot", "cellauto", "rgbtestsrc", "smptehdbars", "life"]
    # (prefix, size, count, quality): thumbnails, inline pictures, large photos
    for prefix, size, count, q in (("t", "200x150", 24, 5), ("m", "640x400", 24, 4), ("l", "1280x800", 12, 3)):
        src = sources[(site_index + len(prefix) + ord(prefix)) % len(sources)]
        lav = "%s=size=%s:rate=5" % (src, size) if src not in ("mandelbrot",) else \
              "mandelbrot=size=%s:rate=5:start_scale=%g" % (size, 2.0 + site_index)
        if src == "cellauto":
            lav = "cellauto=size=%s:rate=5:rule=%d" % (size, 18 + 20 * site_index)
        _ffmpeg(["-f", "lavfi", "-i", lav + ",noise=alls=%d:allf=t+u" % (6 + 3 * site_index),
                 "-frames:v", str(count), "-q:v", str(q), os.path.join(d, prefix + "%02d.jpg")], log)
    open(os.path.join(d, "done"), "w").close()


def _sites(out, log):
    rng = random.Random(20240601)
    cdn = os.path.join(out, CDN)
    os.makedirs(cdn, exist_ok=True)
    with open(os.path.join(cdn, "nav.js"), "w") as f:
        f.write(NAV_JS)
    for k in range(3):  # "framework" bundles of different sizes
        with open(os.path.join(cdn, "lib%d.js" % k), "w") as f:
            f.write("/* lab bundle %d */\n" % k)
            for _ in range(rng.randint(800, 3000)):
                f.write("var %s%d = '%s';\n" % (rng.choice(WORDS), rng.randint(0, 99999), _text(rng, 6)))
    for si, site in enumerate(SITES):
        d = os.path.join(out, site)
        _images(os.path.join(d, "img"), si, log)
        imgs = sorted(x for x in os.listdir(os.path.join(d, "img")) if x.endswith(".jpg"))
        npages = rng.randint(40, 90)
        with open(os.path.join(d, "site.css"), "w") as f:
            for _ in range(rng.randint(300, 1500)):
                f.write(".%s-%d { margin: %dpx; color: #%06x; }\n" % (rng.choice(WORDS), rng.randint(0, 999),
                                                                       rng.randint(0, 40), rng.randint(0, 0xffffff)))
        api = os.path.join(d, "api")
        os.makedirs(api, exist_ok=True)
        with open(os.path.join(api, "feed.json"), "w") as f:
            json.dump([{"id": i, "title": _text(rng, 8)} for i in range(rng.randint(5, 60))], f)
        for p in range(npages):
            name = "index.html" if p == 0 else "p%03d.html" % p
            links = ["/p%03d.html" % rng.randrange(1, npages) for _ in range(rng.randint(6, 20))] + ["/"]
            other = [s for s in SITES if s != site]
            xlinks = ["https://%s.lab.test/" % rng.choice(other) for _ in range(2)]
            body = []
            for _ in range(rng.randint(2, 10)):
                body.append("<p>%s</p>" % _text(rng, rng.randint(40, 400)))
                if rng.random() < 0.7:
                    img = rng.choice(imgs)
                    lazy = ' loading="lazy"' if len(body) > 3 else ""
                    body.append('<img src="/img/%s" alt="%s"%s>' % (img, rng.choice(WORDS), lazy))
            poll = ' data-poll="/api/feed.json"' if rng.random() < 0.25 else ""
            html = ("<!doctype html><html><head><meta charset=utf-8><title>%s %s</title>"
                    '<link rel=stylesheet href="/site.css">'
                    '<script src="https://cdn.lab.test/lib%d.js"></script></head><body%s>'
                    "<nav>%s</nav><h1>%s</h1>%s<footer>%s</footer>"
                    '<script src="https://cdn.lab.test/nav.js"></script></body></html>\n') % (
                site, p, rng.randrange(3), poll,
                " ".join('<a href="%s">%s</a>' % (l, rng.choice(WORDS)) for l in links),
                _text(rng, 6), "\n".join(body),
                " ".join('<a href="%s">%s</a>' % (l, l) for l in xlinks))
            with open(os.path.join(d, name), "w") as f:
                f.write(html)


def _files(out):
    os.makedirs(out, exist_ok=True)
    for mb in FILE_SIZES_MB:
        path = os.path.join(out, "%dM.bin" % mb)
        if not os.path.exists(path) or os.path.getsize(path) != mb << 20:
            with open("/dev/urandom", "rb") as src, open(path + ".tmp", "wb") as dst:
                for _ in range(mb):
                    dst.write(src.read(1 << 20))
            os.rename(path + ".tmp", path)


TORRENT_MB = [1, 2, 1, 3, 2, 4, 1, 6, 2, 3, 8, 4]  # whole MB: no piece spans two files
TORRENT_DIR = "flowpic-lab-set"


def _torrent_files(out):
    """The files of the lab's BitTorrent swarm (fplab/ft_servers.py)."""
    os.makedirs(out, exist_ok=True)
    for i, mb in enumerate(TORRENT_MB):
        path = os.path.join(out, "part%02d.bin" % i)
        if not os.path.exists(path) or os.path.getsize(path) != mb << 20:
            with open("/dev/urandom", "rb") as src, open(path + ".tmp", "wb") as dst:
                dst.write(src.read(mb << 20))
            os.rename(path + ".tmp", path)


def prepare(cache, categories, video_seconds=64):
    """Builds (once) what the given categories serve under cache/; returns the content dir."""
    d = os.path.join(cache, "content-v%d" % CONTENT_VERSION)
    os.makedirs(d, exist_ok=True)
    log = os.path.join(d, "build.log")
    if "video" in categories:
        for name, src in VIDEOS:
            _video(os.path.join(d, "video"), name, src, video_seconds, log)
    if "browsing" in categories and not os.path.exists(os.path.join(d, "sites", "done")):
        _sites(os.path.join(d, "sites"), log)
        open(os.path.join(d, "sites", "done"), "w").close()
    if "file_transfer" in categories:
        _files(os.path.join(d, "files"))
        _torrent_files(os.path.join(d, TORRENT_DIR))
    from . import web  # the Go server and clients, the video size profile, realistic pages
    web.prepare(cache, d, categories, NAV_JS)
    return d
