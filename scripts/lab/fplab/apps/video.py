"""Video: adaptive players fetching from the lab's servers.

hls-https: the Python HLS player (clients/video_player.py) and nginx, HTTP/1.1 over TLS/TCP.
dash-https, dash-quic: a YouTube-like VOD player (scripts/lab/quic, Go): byte ranges of 0.5-4 MB
  of one file per rendition (YouTube's ladder, 0.11-3 Mbit/s, up to the player's size) and of an
  audio file, buffer filled to 30-90 s, then on/off refills of 5-15 s of media; over HTTP/2 (nginx
  in front of the Go server) or HTTP/3 (quic-go, with Google's 1350-byte QUIC packets).
live-https, live-quic: a Twitch-like live player: 2 s segments of 3-6 Mbit/s near the live edge,
  a playlist poll and a segment every 2 s."""

from .. import content, servers, web
from .base import Category, Expect, python

GO_APPS = {"dash-https": ("dash", "h2"), "dash-quic": ("dash", "h3"),
           "live-https": ("live", "h2"), "live-quic": ("live", "h3")}
CHANNELS = "gaming,talk,music,sports,irl"


class Video(Category):
    name = "video"
    applications = ["hls-https", "dash-https", "dash-quic", "live-https", "live-quic"]
    # video on demand is most of the Internet's video (YouTube, Netflix), and YouTube's is QUIC
    turns = {"hls-https": 2, "dash-https": 2, "dash-quic": 3}
    tools = ["nginx"]
    app_tools = {a: ["go"] for a in GO_APPS}

    def setup(self, job, apps):
        if apps & set(GO_APPS):
            web.serve(job.srv, job.work, job.lab.pki, job.lab.args.cache, job.lab.content,
                      h3=any(GO_APPS[a][1] == "h3" for a in apps if a in GO_APPS))
        servers.nginx(job.srv, job.work, job.lab.pki, job.lab.content)

    def start(self, job, s):
        if s.application in GO_APPS:
            mode, proto = GO_APPS[s.application]
            names = CHANNELS if mode == "live" else ",".join(v[0] for v in content.VIDEOS)
            cmd = [web.binary(job.lab.args.cache), "play", "-mode", mode, "-proto", proto, "-server", s.server_addr,
                   "-host", "video.lab.test", "-ca", job.lab.pki.ca_pem, "-names", names,
                   "-seed", str(s.seed), "-seconds", str(s.duration)]
            self.spawn(s, s.ns, cmd, self.log(job, s))
            return
        names = ",".join(v[0] for v in content.VIDEOS)
        self.spawn(s, s.ns, python("video_player.py", "--server", s.server_addr, "--ca", job.lab.pki.ca_pem,
                                   "--videos", names, *self.common(s)), self.log(job, s))

    def expect(self, app):
        if app.endswith("-quic"):
            return Expect([(17, 443)])
        return Expect([(6, 443)])


CATEGORY = Video()
