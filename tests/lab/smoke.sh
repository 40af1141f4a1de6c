#!/bin/sh
# The traffic lab's smoke test: a few seconds of every category, plain and through OpenVPN.
# Exits 77 (skipped) where the lab cannot run: not root, no network namespaces, or the lab's
# Debian packages missing (scripts/lab/setup.sh installs them).
#   smoke.sh FLOWPIC WORKDIR
set -u
FLOWPIC=$1
WORK=$2
SECONDS_PER_SESSION=${FLOWPIC_LAB_SMOKE_SECONDS:-10}  # Chromium starts slowly on a busy 2-core machine
SEED=7

[ "$(id -u)" = 0 ] || { echo "lab smoke: skipped, needs root"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "lab smoke: skipped, no /usr/bin/python3"; exit 77; }

rm -rf "$WORK"
mkdir -p "$WORK"
set -- --out "$WORK/run" --seconds "$SECONDS_PER_SESSION" --vpn both --sessions 1 --seed "$SEED"

# 1. the manifest is a function of the options: two plans agree
"$FLOWPIC" lab "$@" --plan >"$WORK/plan1.csv" || exit 1
"$FLOWPIC" lab "$@" --plan >"$WORK/plan2.csv" || exit 1
cmp -s "$WORK/plan1.csv" "$WORK/plan2.csv" || { echo "lab smoke: two plans with one seed differ"; exit 1; }
head -1 "$WORK/plan1.csv" | grep -qx 'file,category,vpn,application,seed,start,duration,rtt_ms,jitter_ms,loss,down_mbit,up_mbit,access,queue_ms,tcp_timestamps' ||
    { echo "lab smoke: bad manifest header"; exit 1; }
# every session has a WAN link (an access profile); --wan off plans none
[ -z "$(tail -n +2 "$WORK/plan1.csv" | cut -d, -f13 | grep -vx -e fibre -e cable -e dsl -e mobile)" ] ||
    { echo "lab smoke: a session without an access profile"; exit 1; }
[ "$("$FLOWPIC" lab "$@" --wan off --plan | tail -n +2 | cut -d, -f13 | sort -u)" = off ] ||
    { echo "lab smoke: --wan off plans WAN links"; exit 1; }
# client TCP stacks: both kinds among the runs below (--check then verifies each capture's
# segments against its row), and --tcp-timestamps off turns every session's off
[ "$("$FLOWPIC" lab --out "$WORK/ft" --seconds 10 --vpn no --categories file_transfer --sessions 8 --seed "$SEED" \
      --plan | tail -n +2 | cut -d, -f15 | sort -u | tr '\n' ' ')" = "off on " ] ||
    { echo "lab smoke: the file-transfer run plans not both TCP stacks"; exit 1; }
[ "$("$FLOWPIC" lab "$@" --tcp-timestamps off --plan | tail -n +2 | cut -d, -f15 | sort -u)" = off ] ||
    { echo "lab smoke: --tcp-timestamps off plans timestamps"; exit 1; }

# 2. the run: --check verifies every capture holds its category's protocol, or OpenVPN's UDP 1194
#    alone, between its own two hosts only, and that the manifest and the captures agree
nice -n 10 "$FLOWPIC" lab "$@" --check --quiet
rc=$?
[ $rc = 77 ] && { echo "lab smoke: skipped, the lab cannot run here"; exit 77; }
[ $rc = 0 ] || { echo "lab smoke: the lab failed ($rc)"; exit 1; }

# 3. the manifest written is the one planned
cmp -s "$WORK/plan1.csv" "$WORK/run/manifest.csv" || { echo "lab smoke: manifest differs from the plan"; exit 1; }
[ "$(wc -l <"$WORK/run/manifest.csv")" = 11 ] || { echo "lab smoke: expected 10 sessions"; exit 1; }

# 4. every application of every category, plain and VPN: sessions take a category's applications
#    in turn, so as many sessions as a category has applications run them all
nice -n 10 "$FLOWPIC" lab --out "$WORK/ft" --seconds "$SECONDS_PER_SESSION" --vpn both --categories file_transfer \
    --sessions 8 --seed "$SEED" --check --quiet || { echo "lab smoke: the file-transfer run failed"; exit 1; }
[ "$(tail -n +2 "$WORK/ft/manifest.csv" | cut -d, -f4 | sort -u | wc -l)" = 8 ] ||
    { echo "lab smoke: not every file-transfer application ran"; exit 1; }
nice -n 10 "$FLOWPIC" lab --out "$WORK/rt" --seconds "$SECONDS_PER_SESSION" --vpn both --sessions 5 --seed "$SEED" \
    --categories voip,chat --check --quiet || { echo "lab smoke: the voip and chat applications failed"; exit 1; }
# (Chromium starts slowly on a busy machine: 15 s sessions)
nice -n 10 "$FLOWPIC" lab --out "$WORK/av" --seconds 15 --vpn no --categories video,browsing --sessions 5 \
    --seed "$SEED" --check --quiet || { echo "lab smoke: the video and browsing applications failed"; exit 1; }

# 5. flowpic itself reads every capture, and finds the expected transport in its flows
fail=0
for run in run ft rt av; do tail -n +2 "$WORK/$run/manifest.csv" | sed "s|^|$run/|"; done |
while IFS=, read -r file category vpn application seed start duration wan; do
    flows=$("$FLOWPIC" flows "$WORK/$file") || { echo "lab smoke: flowpic cannot read $file"; exit 1; }
    case "$vpn/$category/$application" in
        yes/*) proto=17 port=1194 ;;
        no/voip/*) proto=17 port=0 ;;
        no/chat/irc-tls) proto=6 port=6697 ;;
        no/chat/xmpp-tls) proto=6 port=5222 ;;
        no/file_transfer/sftp | no/file_transfer/scp | no/file_transfer/rsync) proto=6 port=22 ;;
        no/file_transfer/ftp | no/file_transfer/ftps) proto=6 port=0 ;;  # control and passive data
        no/file_transfer/bittorrent) proto=0 port=0 ;;  # the tracker, and peers over TCP or uTP
        no/*/*-quic) proto=17 port=443 ;;
        *) proto=6 port=443 ;;
    esac
    # columns: src,dst,sport,dport,proto,packets,bytes,first,last
    n=$(printf '%s\n' "$flows" | awk -F, -v p="$proto" -v port="$port" \
        'NR > 1 && (p == 0 || $5 == p) && (port == 0 || $3 == port || $4 == port) { n++ } END { print n + 0 }')
    if [ "$n" -lt 2 ]; then
        echo "lab smoke: $file: $n flows of IP protocol $proto, port $port (0: any)"
        exit 1
    fi
    echo "lab smoke: $file: $category vpn=$vpn $application: $n flows"
done || fail=1
[ $fail = 0 ] || exit 1

echo "lab smoke: passed"
