#!/bin/sh
# Installs the Debian packages the traffic lab runs (as root). Services are installed, never
# started: the lab starts its own instances inside its network namespaces.
set -eu

PACKAGES="iproute2 ethtool tcpdump wireshark-common openssl curl procps python3 \
nginx-core openvpn ffmpeg chromium ngircd openssh-server openssh-client \
vsftpd lftp transmission-cli rsync baresip-core prosody coturn \
golang-go golang-github-lucas-clemente-quic-go-dev"

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && { echo "setup.sh: all lab packages present"; exit 0; }

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
