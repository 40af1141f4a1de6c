#!/usr/bin/env bash
# End-to-end classification side by side, in one run: `flowpic classify --threads 2` against the
# Python pipeline made of the peers (dpkt + numpy + PyTorch, 2 threads; classify_peer.py), on the
# same captures, for mini_flowpic (32x32, 15 s) and shapira2019 (1500x1500, 60 s) models.
# Throughput does not depend on the weights: the models are freshly initialised. For shapira2019,
# whose network reads sparse pictures, also `--dense-input` (dense pictures and kernels, as before
# issue 16), interleaved with the others.
# Usage: benchmarks/peers/compare_classify.sh [BUILD_DIR]   (from the repository root)
#        RUNS=3 (medians of RUNS), CAPTURES="a.pcap b.pcap" (default: ../shared/data/requet-youtube-b2)
set -euo pipefail
build=${1:-build/release}
shared=${FLOWPIC_SHARED_DATA:-../shared/data}
runs=${RUNS:-3}
tool="$build/tools/flowpic"
[ -x "$tool" ] || { echo "build $tool first (cmake --build $build --target flowpic_tool)" >&2; exit 1; }
if [ -n "${CAPTURES:-}" ]; then read -r -a files <<< "$CAPTURES"; else files=("$shared"/requet-youtube-b2/*.pcap); fi
[ -e "${files[0]}" ] || { echo "no captures (set CAPTURES)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mergecap -F pcap -w "$tmp/all.pcap" "${files[@]}" 2>/dev/null || cp "${files[0]}" "$tmp/all.pcap"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
for preset in mini_flowpic shapira2019; do
  mkdir -p "$tmp/w"
  # a freshly initialised model of the preset (5 classes)
  /usr/bin/python3 - "$preset" "$tmp/w" <<'PY'
import sys, numpy as np
preset, d = sys.argv[1], sys.argv[2]
shapes = {"mini_flowpic": [(6, 1, 5, 5), (16, 6, 5, 5), (120, 400), (84, 120), (5, 84)],
          "shapira2019": [(10, 1, 10, 10), (20, 10, 10, 10), (64, 4500), (5, 64)]}[preset]
rng = np.random.default_rng(1)
for i, s in enumerate(shapes):
    fan_in = int(np.prod(s[1:]))
    b = 1 / np.sqrt(fan_in)
    np.save(f"{d}/{i}.weight.npy", rng.uniform(-b, b, s).astype(np.float32))
    np.save(f"{d}/{i}.bias.npy", rng.uniform(-b, b, s[0]).astype(np.float32))
PY
  "$tool" import-weights --preset "$preset" --classes 5 --from "$tmp/w" --out "$tmp/$preset.fpm" > /dev/null
  rm -rf "$tmp/w"
  fp_p=(); fp_b=(); py_p=(); py_b=(); de_b=()
  for r in $(seq "$runs"); do
    line=$("$tool" classify "$tmp/all.pcap" --model "$tmp/$preset.fpm" --threads 2 --stats 2>&1 >/dev/null | tail -1)
    fp_p+=("$(echo "$line" | field packets_per_s)"); fp_b+=("$(echo "$line" | field blocks_per_s)")
    blocks=$(echo "$line" | field blocks)
    if [ "$preset" = shapira2019 ]; then
      line=$("$tool" classify "$tmp/all.pcap" --model "$tmp/$preset.fpm" --threads 2 --stats --dense-input 2>&1 >/dev/null | tail -1)
      de_b+=("$(echo "$line" | field blocks_per_s)")
    fi
    line=$(/usr/bin/python3 "$(dirname "$0")/classify_peer.py" --preset "$preset" "$tmp/all.pcap")
    py_p+=("$(echo "$line" | field packets_per_s)"); py_b+=("$(echo "$line" | field blocks_per_s)")
    pyblocks=$(echo "$line" | field blocks)
  done
  a=$(printf '%s\n' "${fp_p[@]}" | median); b=$(printf '%s\n' "${fp_b[@]}" | median)
  c=$(printf '%s\n' "${py_p[@]}" | median); d=$(printf '%s\n' "${py_b[@]}" | median)
  echo "preset=$preset flowpic packets_per_s=$a blocks_per_s=$b blocks=$blocks | python packets_per_s=$c blocks_per_s=$d blocks=$pyblocks"
  awk -v a="$a" -v c="$c" -v p="$preset" 'BEGIN { printf "ratio preset=%s flowpic/python=%.1f\n", p, a / c }'
  if [ "${#de_b[@]}" -gt 0 ]; then
    e=$(printf '%s\n' "${de_b[@]}" | median)
    awk -v b="$b" -v e="$e" -v p="$preset" \
      'BEGIN { printf "preset=%s flowpic --dense-input blocks_per_s=%s sparse/dense=%.1f\n", p, e, b / e }'
  fi
done
