"""VoIP: calls between a client and a peer on the server's side, all with one seeded conversation
model of talk turns and silences (clients/voip_call.py).

  opus-srtp   ffmpeg Opus over SDES-SRTP, a media stream each way
  sip-g711    baresip softphones, SIP over UDP 5060 peer to peer, PCMU or PCMA (64 kbit/s, no VAD)
  sip-opus    baresip softphones, Opus 16-32 kbit/s, DTX on or off, plain RTP or SDES-SRTP
  video-call  ffmpeg Opus audio and VP8 or H.264 camera video at 0.3-1.5 Mbit/s, SRTP
  webrtc-turn WebRTC-like SRTP media relayed by coturn (ChannelData on UDP 3478), DTX on or off,
              and 0-3 other relays measured with STUN binding requests beside the call

The apps' calls (opus-srtp, video-call, webrtc-turn) also hold the call service's signalling and
telemetry connection for the whole call (clients/call_signal.py, a TLS websocket to 443), as Zoom,
Teams, Webex, Meet and WhatsApp do; the SIP phones signal with SIP.
"""

import os
import random

from .. import servers_rt
from .base import Category, Expect, python


SIGNALLED = {"opus-srtp", "video-call", "webrtc-turn"}


class Voip(Category):
    name = "voip"
    applications = ["opus-srtp", "sip-g711", "sip-opus", "video-call", "webrtc-turn"]
    tools = ["ffmpeg"]
    app_tools = {"sip-g711": ["baresip"], "sip-opus": ["baresip"], "webrtc-turn": ["turnserver"]}

    def setup(self, job, apps):
        if apps & SIGNALLED:
            servers_rt.web_chat(job.srv, job.work, job.lab.pki, job.sessions[0].seed)
        if "webrtc-turn" in apps:
            servers_rt.coturn(job.srv, job.work, job.sessions[0].underlay_server)

    def start(self, job, s):
        getattr(self, "_" + s.application.replace("-", "_"))(job, s, random.Random(s.seed ^ 0xa0d1))
        if s.application in SIGNALLED:
            ca = ["--ca", job.lab.pki.ca_pem]
            self.spawn(s, job.srv, python("call_signal.py", *self.common(s), *ca, "--side", "b", "--server",
                                          "127.0.0.1"), self.log(job, s, "signal-peer"))
            self.spawn(s, s.ns, python("call_signal.py", *self.common(s), *ca, "--side", "a", "--server",
                                       s.server_addr), self.log(job, s, "signal"))

    def _opus_srtp(self, job, s, rng):
        self._ffmpeg_call(job, s, "voip_call.py", ["--bitrate", str(rng.choice([16, 24, 32, 48]))])

    def _video_call(self, job, s, rng):
        args = ["--bitrate", str(rng.choice([24, 32, 48])), "--codec", rng.choice(["vp8", "vp8", "h264"])]
        size = rng.choice([("640x360", 300, 900), ("960x540", 500, 1200), ("1280x720", 800, 1500)])
        self._ffmpeg_call(job, s, "video_call.py", args + ["--size", size[0], "--fps", str(rng.choice([15, 25, 30])),
                                                           "--video-kbit", str(rng.randint(size[1], size[2]))])

    def _ffmpeg_call(self, job, s, script, extra):
        port = 20000 + 4 * s.i
        call = self.common(s) + extra
        self.spawn(s, job.srv, python(script, *call, "--side", "b", "--peer", s.client_addr, "--peer-port", "5004",
                                      "--listen-port", str(port), "--work",
                                      os.path.join(job.work, "voip-%d-b" % s.i)), self.log(job, s, "peer"))
        self.spawn(s, s.ns, python(script, *call, "--side", "a", "--peer", s.server_addr, "--peer-port",
                                   str(port), "--listen-port", "5004", "--work",
                                   os.path.join(job.work, "voip-%d-a" % s.i)), self.log(job, s))

    def _sip(self, job, s, args):
        # the peer's SIP socket: 5060 on the session's own address, or a port of its own in the tunnel
        peer = "%s:%d" % (s.server_addr, 5100 + 10 * s.i if job.vpn else 5060)
        base = 30000 + 20 * s.i
        self.spawn(s, job.srv, python("sip_call.py", *self.common(s), *args, "--side", "b", "--listen", peer,
                                      "--rtp-ports", "%d-%d" % (base, base + 19), "--work",
                                      os.path.join(job.work, "sip-%d-b" % s.i)), self.log(job, s, "peer"))
        self.spawn(s, s.ns, python("sip_call.py", *self.common(s), *args, "--side", "a", "--listen",
                                   s.client_addr + ":5060", "--peer", peer, "--rtp-ports", "16384-16403", "--work",
                                   os.path.join(job.work, "sip-%d-a" % s.i)), self.log(job, s))

    def _sip_g711(self, job, s, rng):
        self._sip(job, s, ["--codec", rng.choice(["pcmu", "pcma"]), "--ptime", str(rng.choice([20, 20, 20, 30]))])

    def _sip_opus(self, job, s, rng):
        args = ["--codec", "opus", "--bitrate", str(rng.choice([16000, 24000, 32000]))]
        args += ["--dtx"] if rng.random() < 0.5 else []
        args += ["--srtp"] if rng.random() < 0.5 else []
        self._sip(job, s, args)

    def _webrtc_turn(self, job, s, rng):
        rv = os.path.join(job.work, "turn-%d" % s.i)
        args = self.common(s) + ["--rendezvous", rv, "--bitrate", str(rng.choice([24, 32, 40, 48])),
                                 "--user", servers_rt.TURN_USER, "--password", servers_rt.TURN_PASSWORD]
        args += ["--dtx"] if rng.random() < 0.5 else []
        probes = ["--probes", str(rng.choice([0, 1, 2, 3]))]
        self.spawn(s, job.srv, python("turn_call.py", *args, "--side", "b", "--bind",
                                      job.sessions[0].underlay_server), self.log(job, s, "peer"))
        self.spawn(s, s.ns, python("turn_call.py", *args, *probes, "--side", "a", "--turn",
                                   "%s:%d" % (s.server_addr, servers_rt.TURN_PORT)), self.log(job, s))

    def expect(self, app):
        if app in ("sip-g711", "sip-opus"):
            return Expect([(17, 5060), (17, None)])
        if app == "webrtc-turn":
            return Expect([(17, servers_rt.TURN_PORT), (6, 443)])
        return Expect([(17, None), (6, 443)])


CATEGORY = Voip()
