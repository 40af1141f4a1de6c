#!/bin/bash
# FlowPic pictures side by side: ../shared/peers/hist_peer.py (numpy) and `flowpic bench pictures`
# on the same FLOWPIC1 workload, interleaved (peer, flowpic, peer, flowpic, ...) in one run, then
# a table of medians and ratios (flowpic / peer). Run from the repository root:
#
#   benchmarks/peers/compare_pictures.sh                 # FLOWPIC=build/release/tools/flowpic
#   ROUNDS=3 RUNS=5 FLOWPIC=build-x/tools/flowpic benchmarks/peers/compare_pictures.sh
#
# Environment: FLOWPIC (the tool), PEERS (../shared/peers), WORKLOAD (a FLOWPIC1 file, made with
# the peers' gen_workload.py if missing), ROUNDS (interleaved rounds, 2), RUNS (timed passes per
# measurement, 5), MAX_WAIT (seconds each side waits for a quiet machine, 120), OUT_DIR (raw lines).
set -euo pipefail

FLOWPIC=${FLOWPIC:-build/release/tools/flowpic}
PEERS=${PEERS:-../shared/peers}
WORKLOAD=${WORKLOAD:-${TMPDIR:-/tmp}/flowpic-peers/workload.bin}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-5}
MAX_WAIT=${MAX_WAIT:-120}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/flowpic-peers}
PY=/usr/bin/python3

[ -x "$FLOWPIC" ] || { echo "compare_pictures: no flowpic tool at $FLOWPIC (set FLOWPIC)" >&2; exit 2; }
[ -r "$PEERS/hist_peer.py" ] || { echo "compare_pictures: no peers at $PEERS (set PEERS)" >&2; exit 2; }
mkdir -p "$OUT_DIR" "$(dirname "$WORKLOAD")"
if [ ! -s "$WORKLOAD" ]; then
  "$PY" "$PEERS/gen_workload.py" --out "$WORKLOAD"
fi
RAW="$OUT_DIR/compare_pictures-$(date +%Y%m%d-%H%M%S).txt"
echo "# compare_pictures: workload=$(basename "$WORKLOAD") rounds=$ROUNDS runs=$RUNS $(nproc) cores" | tee "$RAW"
echo "# flowpic: $("$FLOWPIC" --version 2>/dev/null || true) numpy: $("$PY" -c 'import numpy; print(numpy.__version__)')" | tee -a "$RAW"

ours() {  # one flowpic measurement
  "$FLOWPIC" bench pictures --workload "$WORKLOAD" --runs "$RUNS" --max-wait "$MAX_WAIT" "$@" | tee -a "$RAW"
}
peer() {  # one hist_peer.py call
  "$PY" "$PEERS/hist_peer.py" --workload "$WORKLOAD" --runs "$RUNS" --max-wait "$MAX_WAIT" "$@" | grep -v '^# workload' | tee -a "$RAW"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "# round $round" | tee -a "$RAW"
  verify=(--no-verify)
  [ "$round" = 1 ] && verify=()
  peer --res 1500 --variants numpy_hist2d numpy_sortruns numpy_sortruns_sparse_reset "${verify[@]}"
  ours --preset shapira2019 --threads 1
  ours --preset shapira2019 --threads 1 --clear full
  ours --preset shapira2019 --threads 1 --sparse
  ours --preset shapira2019 --threads 2
  ours --preset shapira2019 --threads 2 --sparse
  ours --preset shapira2019 --threads 1 --backend scalar
  peer --res 32 --variants numpy_hist2d numpy_bincount numpy_bincount_batched "${verify[@]}"
  ours --preset mini_flowpic --threads 1
  ours --preset mini_flowpic --threads 2
  ours --preset mini_flowpic --threads 1 --backend scalar
done

"$PY" - "$RAW" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    if "peer" in kv:
        key = ("numpy " + kv["peer"], kv["res"])
        bps, pps = float(kv["blocks_per_s"]), float(kv["pkts_per_s"])
    elif kv.get("bench") == "pictures":
        name = f"flowpic {kv['output']} {kv['contract']} {kv['backend']} T={kv['threads']}"
        key = (name, "1500" if kv["res"].startswith("1500") else kv["res"].split("x")[0])
        bps, pps = float(kv["blocks_per_s"]), float(kv["packets_per_s"])
    else:
        continue
    rows.setdefault(key, []).append((bps, pps, float(kv.get("bg_cores", "nan"))))

# a measurement disturbed by other processes (bg_cores >= 0.1, as the peers' README says) is used
# only when every round of it was disturbed
for key, vals in rows.items():
    quiet = [v for v in vals if v[2] < 0.1]
    rows[key] = quiet or vals

def med(key, i=0):
    return statistics.median(v[i] for v in rows[key]) if key in rows else float("nan")

print()
print("| res | measurement | blocks/s (median of quiet rounds) | packets/s | max bg_cores | x numpy_hist2d | x fastest numpy | x numpy sparse_reset |")
print("|---|---|---|---|---|---|---|---|")
for res, best in (("1500", "numpy numpy_sortruns"), ("32", "numpy numpy_bincount_batched")):
    ref = med(("numpy numpy_hist2d", res))
    fast = med((best, res))
    reset = med(("numpy numpy_sortruns_sparse_reset", res))
    for key in sorted(k for k in rows if k[1] == res):
        b = med(key)
        bg = max(v[2] for v in rows[key])
        third = f"{b / reset:.2f}" if res == "1500" else ""
        print(f"| {res} | {key[0]} | {b:,.0f} | {med(key, 1):.3g} | {bg:.2f} | {b / ref:.1f} | {b / fast:.2f} | {third} |")
EOF
echo "# raw lines: $RAW"
