#!/usr/bin/env bash
# `classify --dense-input` (dense pictures and kernels) against the default sparse path of a
# 1500x1500 network: the same rows, every probability within 1e-5 (float summation order).
# Usage: dense_input_same.sh TOOL SOURCE_DIR OUT_DIR
set -euo pipefail
tool=$1 src=$2 out=$3
mkdir -p "$out"
cd "$out"
"$tool" dataset --data "$src/data/lab/dataset" --preset shapira2019 --seed 1 --out s.fpd 2>/dev/null
"$tool" train --data s.fpd --out s.fpm --epochs 1 --seed 1 --quiet >/dev/null
for mode in sparse dense; do
    flag=(); [ "$mode" = dense ] && flag=(--dense-input)
    "$tool" classify "$src/data/sample/sample.pcap" --model s.fpm --all-windows --min-packets 1 \
        --probabilities "${flag[@]}" > "$mode.csv"
done
rows=$(($(wc -l < sparse.csv) - 1))
[ "$rows" -ge 5 ] || { echo "FAIL: only $rows rows" >&2; exit 1; }
awk -F, 'NR == FNR { a[FNR] = $0; next }
    { n = split(a[FNR], x, ","); m = split($0, y, ",")
      if (n != m) { print "FAIL: line " FNR " has " m " fields, not " n; bad = 1; exit }
      for (i = 1; i <= n; ++i) {
          if (FNR > 1 && i >= 8) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) { print "FAIL: line " FNR " field " i ": " x[i] " vs " y[i]; bad = 1 } }
          else if (x[i] != y[i]) { print "FAIL: line " FNR " field " i ": " x[i] " vs " y[i]; bad = 1 } } }
    END { if (!bad) print "same rows, probabilities within 1e-5"; exit bad }' sparse.csv dense.csv
echo "$rows rows"
