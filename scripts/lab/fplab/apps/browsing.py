"""Browsing: Chromium walking the lab's web sites, and a phone app scrolling a feed.

chromium-https: Chromium over HTTP/2 (nginx); chromium-quic: over HTTP/3 (quic-go);
chromium-http1: over HTTP/1.1 (nginx; up to six connections per host). All three visit pages
  shaped like the Internet's (fplab/web.py) on first- and third-party hosts at five server addresses.
app-quic: a mobile-app-like client (scripts/lab/quic, Go): a JSON feed and its images over HTTP/3."""

import base64
import hashlib
import os
import subprocess

from .. import servers, web
from .base import Category, Expect, python

# host groups of the realistic pages -> the server address (last octet) they resolve to
HOSTS = [("www-*.lab.test", 1), ("static.lab.test", 11), ("img.lab.test", 12), ("fonts.lab.test", 13),
         ("ads.lab.test", 14), ("metrics.lab.test", 14)]
PAGES_APPS = {"chromium-https", "chromium-quic", "chromium-http1"}


def spki_hash(cert):
    """base64 SHA-256 of the certificate's public key, for --ignore-certificate-errors-spki-list."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True,
                         check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Browsing(Category):
    name = "browsing"
    applications = ["chromium-https", "chromium-quic", "chromium-http1", "app-quic"]
    tools = ["nginx", "chromium"]
    app_tools = {"chromium-quic": ["go"], "app-quic": ["go"]}

    def setup(self, job, apps):
        if apps & {"chromium-quic", "app-quic"}:
            web.serve(job.srv, job.work, job.lab.pki, job.lab.args.cache, job.lab.content)
        servers.nginx(job.srv, job.work, job.lab.pki, job.lab.content)
        if not job.vpn:  # third-party hosts at addresses of their own, as on a real page
            for s in job.sessions:
                if s.application in PAGES_APPS:
                    prefix = s.underlay_server.rsplit(".", 1)[0]
                    for last in sorted({h[1] for h in HOSTS} - {1}):
                        job.srv.addr("s%d" % s.i, "%s.%d/24" % (prefix, last))

    def start(self, job, s):
        if s.application == "app-quic":
            cmd = [web.binary(job.lab.args.cache), "play", "-mode", "app", "-proto", "h3", "-server", s.server_addr,
                   "-host", "app.lab.test", "-ca", job.lab.pki.ca_pem, "-seed", str(s.seed),
                   "-seconds", str(s.duration)]
            self.spawn(s, s.ns, cmd, self.log(job, s))
            return
        args = ["--server", s.server_addr]
        if s.application in PAGES_APPS:
            prefix = s.server_addr.rsplit(".", 1)[0]
            rules = ["MAP %s %s" % (h, s.server_addr if job.vpn else "%s.%d" % (prefix, last)) for h, last in HOSTS]
            args += ["--sites", ",".join(web.SITES), "--rules", ",".join(rules + ["MAP * " + s.server_addr])]
        if s.application == "chromium-quic":
            args += ["--quic", spki_hash(job.lab.pki.server[0])]
        if s.application == "chromium-http1":
            args += ["--http1"]
        self.spawn(s, s.ns, python("browse.py", *args, *self.common(s)), self.log(job, s))

    def expect(self, app):
        hosts = 2 if app not in PAGES_APPS else 1 + len({h[1] for h in HOSTS})
        if app == "app-quic":
            return Expect([(17, 443)])
        if app == "chromium-quic":
            # Chromium may also open TCP 443 (a race with TCP, or its fallback) and try port 80
            return Expect([(17, 443)], [(6, 443), (6, 80)], hosts=hosts)
        # Chromium also tries plain HTTP (port 80) now and then: refused, but real browser behaviour
        return Expect([(6, 443)], [(6, 80)], hosts=hosts)


CATEGORY = Browsing()
