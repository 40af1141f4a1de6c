#!/bin/bash
# The network side by side with the PyTorch peer (../shared/peers/cnn_peer.py): `flowpic bench
# network` and the peer on FlowPic pictures of the same FLOWPIC1 workload, interleaved (peer,
# flowpic, peer, flowpic, ...) in one run, then a table of medians and ratios (flowpic / peer).
# Run from the repository root:
#
#   benchmarks/peers/compare_network.sh                  # FLOWPIC=build/tools/flowpic
#   ROUNDS=3 FLOWPIC=build-x/tools/flowpic JEMALLOC=1 benchmarks/peers/compare_network.sh
#
# Configurations (as the issue sets the targets, 2 threads): shapira2019 inference at batch 1 and
# 32, shapira2019 training at batch 32, mini_flowpic 32x32 inference and training at batch 128.
# Environment: FLOWPIC (the tool), PEERS (../shared/peers), WORKLOAD (a FLOWPIC1 file, made with
# the peers' gen_workload.py if missing), ROUNDS (interleaved rounds, 2), THREADS (2), REPEATS (5),
# MAX_WAIT (seconds each side waits for a quiet machine, 60), JEMALLOC=1 (also run the peer
# under ../shared/peers/with_jemalloc.sh), CONFIGS (a subset, e.g. "shapira2019:infer:1"),
# OUT_DIR (raw lines).
set -euo pipefail

FLOWPIC=${FLOWPIC:-build/tools/flowpic}
PEERS=${PEERS:-../shared/peers}
WORKLOAD=${WORKLOAD:-${TMPDIR:-/tmp}/flowpic-peers/workload.bin}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-5}
MAX_WAIT=${MAX_WAIT:-60}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/flowpic-peers}
CONFIGS=${CONFIGS:-"shapira2019:infer:1 shapira2019:infer:32 shapira2019:train:32 mini_flowpic:infer:128 mini_flowpic:train:128"}
PY=/usr/bin/python3

[ -x "$FLOWPIC" ] || { echo "compare_network: no flowpic tool at $FLOWPIC (set FLOWPIC)" >&2; exit 2; }
[ -r "$PEERS/cnn_peer.py" ] || { echo "compare_network: no peers at $PEERS (set PEERS)" >&2; exit 2; }
"$PY" -c "import torch" 2>/dev/null || { echo "compare_network: $PY lacks torch (apt-get install -y python3-torch)" >&2; exit 2; }
mkdir -p "$OUT_DIR" "$(dirname "$WORKLOAD")"
[ -s "$WORKLOAD" ] || "$PY" "$PEERS/gen_workload.py" --out "$WORKLOAD" >/dev/null

# The peer reads its workload beside itself: run a copy whose data/ points at ours.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp "$PEERS"/*.py "$PEERS"/*.sh "$tmp"/ 2>/dev/null || true
mkdir -p "$tmp/data" && ln -s "$(realpath "$WORKLOAD")" "$tmp/data/workload.bin"

RAW="$OUT_DIR/compare_network-$(date +%Y%m%d-%H%M%S).txt"
echo "# compare_network: rounds=$ROUNDS threads=$THREADS repeats=$REPEATS $(nproc) cores, $(uname -r)" | tee "$RAW"

peer_net() { [ "$1" = shapira2019 ] && echo flowpic || echo mini; }
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONFIGS; do
    IFS=: read -r preset mode batch <<<"$c"
    "$PY" "$tmp/cnn_peer.py" --nets "$(peer_net "$preset")" --modes "$mode" --batches "$batch" --threads "$THREADS" \
      --repeats "$REPEATS" --max-wait "$MAX_WAIT" | grep '^peer=' | sed "s/^/round=$round /" | tee -a "$RAW"
    if [ "${JEMALLOC:-0}" = 1 ]; then
      BUILD_DIR="$tmp/build" bash "$tmp/with_jemalloc.sh" "$PY" "$tmp/cnn_peer.py" --nets "$(peer_net "$preset")" \
        --modes "$mode" --batches "$batch" --threads "$THREADS" --repeats "$REPEATS" --max-wait "$MAX_WAIT" \
        | grep '^peer=' | sed "s/^peer=torch_/peer=torch_jemalloc_/; s/^/round=$round /" | tee -a "$RAW"
    fi
    "$FLOWPIC" bench network --preset "$preset" --mode "$mode" --batch "$batch" --threads "$THREADS" \
      --workload "$WORKLOAD" --repeats "$REPEATS" --max-wait "$MAX_WAIT" | sed "s/^/round=$round /" | tee -a "$RAW"
  done
done

echo
echo "# medians over rounds of images_per_s (bg_cores: other processes' CPU while timing, max over rounds)"
awk '
  { key = ""; ips = ""; bg = 0
    for (i = 1; i <= NF; i++) { split($i, kv, "=")
      if (kv[1] == "peer") peer = kv[2]; else if (kv[1] == "mode") mode = kv[2]; else if (kv[1] == "batch") batch = kv[2]
      else if (kv[1] == "images_per_s") ips = kv[2]; else if (kv[1] == "bg_cores") bg = kv[2] }
    if (ips == "") next
    net = peer; sub(/^(flowpic|torch_jemalloc|torch)_/, "", net); if (net == "flowpic" || net == "shapira2019") net = "shapira2019"; if (net == "mini") net = "mini_flowpic"
    who = peer ~ /^flowpic_/ ? "flowpic" : (peer ~ /jemalloc/ ? "torch+jemalloc" : "torch")
    k = net " " mode " " batch; keys[k] = 1; v[k, who] = v[k, who] " " ips; if (bg > bgmax[k]) bgmax[k] = bg }
  function median(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0 }
  END { printf "%-28s %12s %12s %15s %9s %8s\n", "configuration", "flowpic", "torch", "torch+jemalloc", "ratio", "bg_cores"
    for (k in keys) { f = median(v[k, "flowpic"]); t = median(v[k, "torch"]); j = median(v[k, "torch+jemalloc"])
      printf "%-28s %12.1f %12.1f %15s %8.1fx %8.2f\n", k, f, t, (j ? sprintf("%.1f", j) : "-"), (t ? f / t : 0), bgmax[k] } }
' "$RAW" | sort
echo "# raw lines: $RAW"
