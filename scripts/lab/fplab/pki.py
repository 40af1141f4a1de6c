"""The lab's own certificate authority (openssl): TLS servers, OpenVPN server and clients, SSH keys."""

import os

from .netns import run

DOMAIN = "lab.test"  # reserved TLD (RFC 2606): never resolvable outside the lab


def _key(path):
    if not os.path.exists(path):
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", path)


def _sign(d, name, ca, subj, ext):
    key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
    if os.path.exists(crt):
        return crt, key
    _key(key)
    run("openssl", "req", "-new", "-key", key, "-subj", subj, "-out", csr)
    extfile = os.path.join(d, name + ".ext")
    with open(extfile, "w") as f:
        f.write(ext)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca + ".pem", "-CAkey", ca + ".key",
        "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", extfile, "-out", crt)
    return crt, key


class Pki:
    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.ca = os.path.join(d, "ca")
        if not os.path.exists(self.ca + ".pem"):
            _key(self.ca + ".key")
            run("openssl", "req", "-x509", "-new", "-key", self.ca + ".key", "-days", "3650",
                "-subj", "/CN=flowpic lab CA", "-out", self.ca + ".pem")
        self.ca_pem = self.ca + ".pem"
        self.server = _sign(d, "server", self.ca, "/CN=" + DOMAIN,
                            "subjectAltName=DNS:%s,DNS:*.%s\nextendedKeyUsage=serverAuth\n"
                            "keyUsage=digitalSignature,keyAgreement\n" % (DOMAIN, DOMAIN))
        self.ssh_key = os.path.join(d, "ssh_client")
        if not os.path.exists(self.ssh_key):
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.ssh_key)
        self.ssh_host_key = os.path.join(d, "ssh_host")
        if not os.path.exists(self.ssh_host_key):
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.ssh_host_key)

    def vpn_server(self):
        return _sign(self.dir, "vpn-server", self.ca, "/CN=vpn-server",
                     "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyAgreement\n")

    def vpn_client(self, cn):
        return _sign(self.dir, "vpn-" + cn, self.ca, "/CN=" + cn,
                     "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyAgreement\n")
