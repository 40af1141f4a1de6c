"""File transfer: uploads and downloads with real tools."""

import os

from .. import servers
from .base import Category, Expect, python


class FileTransfer(Category):
    name = "file_transfer"
    applications = ["sftp", "scp", "https"]
    app_tools = {"sftp": ["sftp", "/usr/sbin/sshd"], "scp": ["scp", "/usr/sbin/sshd"], "https": ["nginx", "curl"]}

    def setup(self, job, apps):
        if "https" in apps:
            servers.nginx(job.srv, job.work, job.lab.pki, job.lab.content)
        job.upload_dir = os.path.join(job.work, "up")
        if apps & {"sftp", "scp"}:
            job.upload_dir = os.path.join(servers.sshd(job.srv, job.work, job.lab.pki), "up")

    def start(self, job, s):
        lab = job.lab
        self.spawn(s, s.ns, python("file_transfer.py", "--app", s.application, "--server", s.server_addr, "--files",
                                   os.path.join(lab.content, "files"), "--upload-dir", job.upload_dir,
                                   "--ssh-key", lab.pki.ssh_key, "--ca", lab.pki.ca_pem, "--tag", "s%d" % s.i,
                                   *self.common(s)), self.log(job, s))

    def expect(self, app):
        return Expect([(6, 22)] if app in ("sftp", "scp") else [(6, 443)])


CATEGORY = FileTransfer()
