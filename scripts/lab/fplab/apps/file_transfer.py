"""File transfer: uploads and downloads with real tools, as people do them: SSH (sftp, scp,
rsync), HTTPS (curl), FTP and FTPS (lftp against vsftpd), BitTorrent (transmission in a swarm
of lab peers) and a cloud-sync client (many small files, bursts of uploads, a long-poll)."""

import os

from .. import ft_servers, servers
from .base import Category, Expect, python

SSH_APPS = ("sftp", "scp", "rsync")


class FileTransfer(Category):
    name = "file_transfer"
    applications = ["sftp", "scp", "https", "ftp", "ftps", "bittorrent", "cloud-sync", "rsync"]
    app_tools = {"sftp": ["sftp", "/usr/sbin/sshd"], "scp": ["scp", "/usr/sbin/sshd"], "https": ["nginx", "curl"],
                 "rsync": ["rsync", "ssh", "/usr/sbin/sshd"], "ftp": ["vsftpd", "lftp", "mount"],
                 "ftps": ["vsftpd", "lftp", "mount"], "cloud-sync": ["nginx"],
                 "bittorrent": ["transmission-cli", "transmission-create"]}

    def setup(self, job, apps):
        lab = job.lab
        if apps & {"https", "cloud-sync"}:
            servers.nginx(job.srv, job.work, lab.pki, lab.content)
        if "cloud-sync" in apps:
            ft_servers.sync_backend(job.srv, job.work, lab.args.seed)
        job.upload_dir = os.path.join(job.work, "up")
        if apps & set(SSH_APPS):
            job.upload_dir = os.path.join(servers.sshd(job.srv, job.work, lab.pki), "up")
        if apps & {"ftp", "ftps"}:
            ft_servers.vsftpd(job.srv, job.work, lab.pki, os.path.join(lab.content, "files"))
        if "bittorrent" in apps:
            job.torrent = ft_servers.swarm(job.srv, job, lab.content)
            if not job.vpn:  # the swarm's addresses are behind the server's end of each link
                for s in job.sessions:
                    if s.application == "bittorrent":
                        s.ns.sh("ip", "route", "add", ft_servers.swarm_net(job) + ".0/24", "via", s.underlay_server)

    def start(self, job, s):
        lab = job.lab
        app, tag = s.application, "s%d" % s.i
        if app in ("ftp", "ftps"):
            cmd = python("ftp_session.py", "--app", app, "--server", s.server_addr, "--files",
                         os.path.join(lab.content, "files"), "--ca", lab.pki.ca_pem, "--tag", tag)
        elif app == "bittorrent":
            cmd = python("torrent_session.py", "--torrent", job.torrent, "--port", str(ft_servers.CLIENT_PEER_PORT))
        elif app == "cloud-sync":
            cmd = python("cloud_sync.py", "--server", s.server_addr, "--ca", lab.pki.ca_pem, "--tag", tag)
        else:
            cmd = python("file_transfer.py", "--app", app, "--server", s.server_addr, "--files",
                         os.path.join(lab.content, "files"), "--upload-dir", job.upload_dir,
                         "--ssh-key", lab.pki.ssh_key, "--ca", lab.pki.ca_pem, "--tag", tag)
        self.spawn(s, s.ns, cmd + self.common(s), self.log(job, s))

    def expect(self, app):
        if app in SSH_APPS:
            return Expect([(6, 22)])
        if app in ("ftp", "ftps"):  # control, and the passive data connections vsftpd offers
            return Expect([(6, 21), (6, ft_servers.PASV_PORTS)])
        if app == "bittorrent":  # peers over TCP (and uTP), to them and from them; the tracker
            peers = ft_servers.PEER_PORTS
            return Expect([(6, ft_servers.TRACKER_PORT)], need_any=[(6, peers), (17, peers)],
                          allow=[(6, ft_servers.CLIENT_PEER_PORT), (17, ft_servers.CLIENT_PEER_PORT)],
                          hosts=2 + ft_servers.SWARM_PEERS)
        return Expect([(6, 443)])


CATEGORY = FileTransfer()
