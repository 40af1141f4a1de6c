#!/usr/bin/env bash
# Makes the bundled sample capture data/sample/sample.pcap: about three minutes of real traffic
# from Debian software between two network namespaces joined by a veth pair, captured with
# tcpdump on the client side, plus the flows and blocks that tshark (an independent decoder)
# finds in it, which the CLI tests compare the tool's output with.
#
# Usage (as root, Debian 12): scripts/make_sample_capture.sh [OUT_DIR]   (default data/sample)
#        scripts/make_sample_capture.sh --oracle-only [OUT_DIR]   (only the CSVs, from OUT_DIR/sample.pcap)
#
# Nothing leaves the machine: every address lives inside the two namespaces this script creates
# and deletes. Sizes, schedules and file contents are seeded (SEED); timestamps are not.
set -euo pipefail
cd "$(dirname "$0")/.."
oracle_only=0
if [ "${1:-}" = "--oracle-only" ]; then oracle_only=1; shift; fi
out_dir=${1:-data/sample}
SEED=${SEED:-20190429}
DURATION=180          # seconds of capture
SNAPLEN=96            # headers only: sizes come from the IP header, and the file stays small

[ "$(id -u)" -eq 0 ] || { echo "make_sample_capture: run as root (network namespaces, tcpdump)" >&2; exit 1; }
need=(iproute2 ethtool tcpdump curl openssl python3 tshark)
missing=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PY=/usr/bin/python3   # Debian's, whatever else is on PATH

SRV=fpsample-srv CLI=fpsample-cli          # namespaces
SRV_IF=fps-srv CLI_IF=fps-cli              # veth ends
SRV_IP=192.168.77.1 CLI_IP=192.168.77.2    # exist only inside the namespaces
work=$(mktemp -d)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "$SRV" "$CLI"; do   # anything still running inside our namespaces was started here
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  done
  wait 2>/dev/null || true
  ip netns delete "$SRV" 2>/dev/null || true
  ip netns delete "$CLI" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "make_sample_capture: failed (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
in_srv() { ip netns exec "$SRV" "$@"; }
in_cli() { ip netns exec "$CLI" "$@"; }

# What tshark sees in OUT_DIR/sample.pcap, in the tool's CSV formats: the flows (one direction of
# a TCP/UDP 5-tuple, sizes = IP total length, first = the first packet's time, last = the latest)
# and the 15 s and 60 s blocks (complete windows [first + iL, first + (i+1)L) that end at or
# before the last packet and hold at least 10 packets).
write_oracle() {
  tshark -r "$out_dir/sample.pcap" -n -Y "(tcp or udp) and not icmp" -T fields -E separator=, \
    -e frame.time_epoch -e ip.src -e ip.dst -e ip.proto -e ip.len \
    -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport > "$work/packets.csv" 2>/dev/null
  cat > "$work/oracle.py" <<'EOF'
import sys
packets, out = sys.argv[1], sys.argv[2]
flows = {}  # key -> ([times in ns], [IP sizes]), in the order of each flow's first packet
for line in open(packets):
    t, src, dst, proto, ln, ts, td, us, ud = line.rstrip("\n").split(",")
    sec, frac = t.split(".")
    ns = int(sec) * 10**9 + int(frac.ljust(9, "0")[:9])
    key = (src, dst, int(ts or us), int(td or ud), int(proto))
    flows.setdefault(key, ([], []))
    flows[key][0].append(ns)
    flows[key][1].append(int(ln))
fmt = lambda ns: f"{ns // 10**9}.{ns % 10**9:09d}"
k2s = lambda k: ",".join(map(str, k))
with open(f"{out}/sample.flows.csv", "w") as f:
    f.write("src,dst,sport,dport,proto,packets,bytes,first,last\n")
    for k, (t, s) in flows.items():
        f.write(f"{k2s(k)},{len(t)},{sum(s)},{fmt(t[0])},{fmt(max(t))}\n")
for secs in (15, 60):
    L = secs * 10**9
    with open(f"{out}/sample.blocks{secs}.csv", "w") as f:
        f.write("src,dst,sport,dport,proto,block_start,block_end,index,packets,first,last\n")
        for k, (times, _) in flows.items():
            t = sorted(times)
            first, last, i = times[0], t[-1], 0
            while first + (i + 1) * L <= last:
                w = [x for x in t if first + i * L <= x < first + (i + 1) * L]
                if len(w) >= 10:
                    f.write(f"{k2s(k)},{fmt(first + i * L)},{fmt(first + (i + 1) * L)},{i},{len(w)},"
                            f"{fmt(w[0])},{fmt(w[-1])}\n")
                i += 1
EOF
  "$PY" "$work/oracle.py" "$work/packets.csv" "$out_dir"
}
summary() {
  echo "make_sample_capture: $out_dir/sample.pcap"
  capinfos -c -u -s "$out_dir/sample.pcap" | tail -n +2
  echo "flows: $(($(wc -l < "$out_dir/sample.flows.csv") - 1)), 15 s blocks: $(($(wc -l < "$out_dir/sample.blocks15.csv") - 1)), 60 s blocks: $(($(wc -l < "$out_dir/sample.blocks60.csv") - 1))"
}
if [ "$oracle_only" = 1 ]; then
  write_oracle
  summary
  exit 0
fi

# --- the network -------------------------------------------------------------------------------
ip netns delete "$SRV" 2>/dev/null || true
ip netns delete "$CLI" 2>/dev/null || true
for ns in "$SRV" "$CLI"; do
  ip netns add "$ns"
  ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;
                             echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
  ip -n "$ns" link set lo up
done
ip link add "$SRV_IF" netns "$SRV" type veth peer name "$CLI_IF" netns "$CLI"
in_srv ethtool -K "$SRV_IF" tso off gso off gro off >/dev/null   # frames no larger than the MTU,
in_cli ethtool -K "$CLI_IF" tso off gso off gro off >/dev/null   # as a real interface shows them
ip -n "$SRV" addr add "$SRV_IP/24" dev "$SRV_IF"
ip -n "$CLI" addr add "$CLI_IP/24" dev "$CLI_IF"
ip -n "$SRV" link set "$SRV_IF" up
# A 500 kbit/s bottleneck from the server (token bucket), so that downloads last minutes and
# share the link the way TCP does, with queueing delay for everything behind them.
in_srv tc qdisc add dev "$SRV_IF" root tbf rate 500kbit burst 16kb latency 100ms
ip -n "$CLI" link set "$CLI_IF" up

# --- content and helpers ------------------------------------------------------------------------
mkdir -p "$work/www"
$PY - "$work/www" "$SEED" <<'EOF'
import random, sys
d, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
open(f"{d}/video.bin", "wb").write(r.randbytes(6_000_000))      # both: over two minutes
open(f"{d}/download.bin", "wb").write(r.randbytes(2_400_000))   # through the bottleneck
for i in range(5):
    open(f"{d}/page{i}.html", "wb").write(r.randbytes(r.randint(20_000, 200_000)))
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=sample.flowpic.test \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# A steady two-way UDP stream (VoIP-like): PPS datagrams a second each way, seeded sizes.
cat > "$work/udp_peer.py" <<'EOF'
import random, socket, sys, time
lip, lport, pip, pport, seconds, pps, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
r = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((lip, lport))
s.setblocking(False)
start = time.monotonic()
k = 0
while (now := time.monotonic()) - start < seconds:
    try:
        while True: s.recv(4096)
    except BlockingIOError:
        pass
    s.sendto(bytes(r.randint(120, 220)), (pip, pport))
    k += 1
    time.sleep(max(0.0, start + k / pps - time.monotonic()))
EOF

# An interactive-like TCP exchange (chat): short messages at seeded, irregular intervals.
cat > "$work/chat.py" <<'EOF'
import random, socket, sys, time
role, ip, port, seconds, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
r = random.Random(seed)
if role == "server":
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind((ip, port)); ls.listen(1)
    c, _ = ls.accept()
    while (m := c.recv(4096)):
        time.sleep(r.uniform(0.05, 0.8))            # someone typing an answer
        c.sendall(bytes(r.randint(20, 400)))
else:
    c = socket.create_connection((ip, port), source_address=(sys.argv[6], int(sys.argv[7])))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.settimeout(5)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        c.sendall(bytes(r.randint(20, 300)))
        try: c.recv(4096)
        except socket.timeout: pass
        time.sleep(min(r.expovariate(1 / 2.0), 8.0))
    c.close()
EOF

# --- capture and traffic -------------------------------------------------------------------------
ip netns exec "$CLI" tcpdump -i "$CLI_IF" -n -s "$SNAPLEN" -U -Z root -w "$work/sample.pcap" 2>"$work/tcpdump.log" &
pids+=($!); tcpdump_pid=$!
sleep 2
(cd "$work/www" && exec ip netns exec "$SRV" "$PY" -m http.server 8080 --bind "$SRV_IP" >/dev/null 2>&1) &
pids+=($!)
(cd "$work/www" && exec ip netns exec "$SRV" openssl s_server -quiet -WWW -accept "$SRV_IP:8443" \
   -cert "$work/cert.pem" -key "$work/key.pem" >/dev/null 2>&1) &
pids+=($!)
ip netns exec "$SRV" "$PY" "$work/chat.py" server "$SRV_IP" 7000 0 $((SEED + 1)) >/dev/null 2>&1 &
pids+=($!)
sleep 1
t0=$(date +%s)
ip netns exec "$SRV" "$PY" "$work/udp_peer.py" "$SRV_IP" 5004 "$CLI_IP" 40004 $((DURATION - 8)) 10 $((SEED + 2)) &
pids+=($!)
ip netns exec "$CLI" "$PY" "$work/udp_peer.py" "$CLI_IP" 40004 "$SRV_IP" 5004 $((DURATION - 8)) 10 $((SEED + 3)) &
pids+=($!)
ip netns exec "$CLI" "$PY" "$work/chat.py" client "$SRV_IP" 7000 $((DURATION - 10)) $((SEED + 4)) "$CLI_IP" 40007 &
pids+=($!)
ip netns exec "$CLI" curl -sS -o /dev/null --local-port 40080 "http://$SRV_IP:8080/video.bin" &
pids+=($!); video=$!
sleep 3
ip netns exec "$CLI" curl -sS -o /dev/null -k --local-port 40443 "https://$SRV_IP:8443/download.bin" &
pids+=($!); https=$!
for i in 0 1 2 3 4; do            # browsing: a page every 30 s
  sleep 27
  in_cli curl -sS -o /dev/null --local-port $((40100 + i)) "http://$SRV_IP:8080/page$i.html"
done
wait "$video" "$https"
left=$((DURATION - ($(date +%s) - t0)))
[ "$left" -gt 0 ] && sleep "$left"
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
mkdir -p "$out_dir"
cp "$work/sample.pcap" "$out_dir/sample.pcap"
chmod 644 "$out_dir/sample.pcap"

write_oracle
summary
