"""Video: adaptive players fetching from the lab's servers."""

from .. import content, servers
from .base import Category, Expect, python


class Video(Category):
    name = "video"
    applications = ["hls-https"]
    tools = ["nginx"]

    def setup(self, job, apps):
        servers.nginx(job.srv, job.work, job.lab.pki, job.lab.content)

    def start(self, job, s):
        names = ",".join(v[0] for v in content.VIDEOS)
        self.spawn(s, s.ns, python("video_player.py", "--server", s.server_addr, "--ca", job.lab.pki.ca_pem,
                                   "--videos", names, *self.common(s)), self.log(job, s))

    def expect(self, app):
        return Expect([(6, 443)])


CATEGORY = Video()
