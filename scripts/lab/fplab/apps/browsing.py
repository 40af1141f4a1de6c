"""Browsing: Chromium walking the lab's web sites."""

from .. import servers
from .base import Category, Expect, python


class Browsing(Category):
    name = "browsing"
    applications = ["chromium-https"]
    tools = ["nginx", "chromium"]

    def setup(self, job, apps):
        servers.nginx(job.srv, job.work, job.lab.pki, job.lab.content)

    def start(self, job, s):
        self.spawn(s, s.ns, python("browse.py", "--server", s.server_addr, *self.common(s)), self.log(job, s))

    def expect(self, app):
        # Chromium also tries plain HTTP (port 80) now and then: refused, but real browser behaviour
        return Expect([(6, 443)], [(6, 80)])


CATEGORY = Browsing()
