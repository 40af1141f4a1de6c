#!/usr/bin/env bash
# The main job: build the flowpic tool and classify the bundled five-category sample capture with
# the bundled default model: one CSV row per block, then how the blocks compare with the lab's
# labels. Usage: scripts/main.sh [CAPTURE] (any capture; the comparison only for the sample)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
sample=data/lab/sample/lab-sample.pcap
capture=${1:-$sample}
cmake --preset release -DFLOWPIC_BUILD_TESTS=OFF -DFLOWPIC_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release --target flowpic_tool -j"$(nproc)" >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# flowpic classify $capture (bundled default model)"
build/release/tools/flowpic classify "$capture" --stats | tee "$out"
if [ "$capture" = "$sample" ]; then
  echo
  echo "# blocks per true category (data/lab/sample/labels.csv, by the lab client's address)"
  awk -F, 'NR == FNR { if (FNR > 1) truth[$1] = $2; next }
           FNR > 1 { t = ($1 in truth) ? truth[$1] : (($2 in truth) ? truth[$2] : "");
                     if (t == "") next; n[t]++; if ($7 == t) ok[t]++; all++; if ($7 == t) good++ }
           END { for (t in n) printf "%-14s %4d blocks, %4d labelled %s\n", t, n[t], ok[t], t;
                 if (all) printf "%-14s %4d blocks, %5.1f%% correct\n", "all", all, 100 * good / all }' \
      data/lab/sample/labels.csv "$out" | sort
fi
