#!/bin/sh
# Installs the Debian packages the traffic lab runs (as root). Services are installed, never
# started: the lab starts its own instances inside its network namespaces.
set -eu

PACKAGES="iproute2 ethtool tcpdump wireshark-common openssl curl procps python3 \
nginx-core openvpn ffmpeg chromium ngircd openssh-server openssh-client \
vsftpd lftp transmission-cli rsync baresip-core prosody coturn \
golang-go golang-github-marten-seemann-qpack-dev golang-github-marten-seemann-qtls-go1-19-dev \
golang-golang-x-crypto-dev golang-golang-x-net-dev golang-golang-x-sys-dev golang-golang-x-exp-dev \
golang-golang-x-text-dev"
# quic-go's own source (the lab's HTTP/3 server and players) comes from Debian's
# golang-github-lucas-clemente-quic-go-dev, unpacked into a GOPATH of the lab's: installing the
# package would pull about 400 MB of Go sources that the lab never builds (aws-sdk-go and others).
QUIC_GOPATH=/var/lib/flowpic-lab/gocode
QUIC_SRC=src/github.com/lucas-clemente/quic-go
quic_source() {
    [ -d "/usr/share/gocode/$QUIC_SRC" ] || [ -d "$QUIC_GOPATH/$QUIC_SRC" ] && return 0
    tmp=$(mktemp -d) && chmod 755 "$tmp"  # apt-get download drops root to _apt
    (cd "$tmp" && apt-get download golang-github-lucas-clemente-quic-go-dev >/dev/null &&
        dpkg -x golang-github-lucas-clemente-quic-go-dev_*.deb deb) || { rm -rf "$tmp"; return 1; }
    mkdir -p "$QUIC_GOPATH/src/github.com"
    rm -rf "$QUIC_GOPATH/src/github.com/lucas-clemente"
    mv "$tmp/deb/usr/share/gocode/src/github.com/lucas-clemente" "$QUIC_GOPATH/src/github.com/"
    rm -rf "$tmp"
    echo "setup.sh: quic-go's source in $QUIC_GOPATH"
}

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    quic_source || { apt-get update >/dev/null && quic_source; }
    echo "setup.sh: all lab packages present"
    exit 0
fi

# keep package scripts from starting nginx, sshd, ngircd, openvpn, vsftpd, prosody or coturn in the host namespace
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing || { apt-get update && apt-get install -y --no-install-recommends $missing; }
echo "setup.sh: installed$missing"
quic_source || { apt-get update >/dev/null && quic_source; }
