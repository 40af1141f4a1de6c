#!/usr/bin/env bash
# The README's figures: one FlowPic of each class of the bundled lab sample, as annotated SVG
# (flowpic render --format svg, 1500x1500 pictures of 15 s windows (PRESET=NAME for another preset)). For each class
# the plain (not VPN) block with the most packets is taken.
# Usage: scripts/make_readme_figures.sh [FLOWPIC]   (default build/release/tools/flowpic)
set -euo pipefail
cd "$(dirname "$0")/.."
flowpic=${1:-build/release/tools/flowpic}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$flowpic" render data/lab/sample/lab-sample.pcap --preset "${PRESET:-mini_flowpic1500}" --format svg --out "$work" 2>/dev/null
# index.csv: file,src,dst,sport,dport,proto,block_start,packets,picture
awk -F, 'NR == FNR { if (FNR > 1 && $3 == "no") class[$1] = $2; next }
         FNR > 1 { c = ($2 in class) ? class[$2] : (($3 in class) ? class[$3] : "");
                   if (c != "" && $8 + 0 > best[c]) { best[c] = $8 + 0; pic[c] = $9 } }
         END { for (c in pic) print c, pic[c], best[c] }' data/lab/sample/labels.csv "$work/index.csv" |
  sort | while read -r class picture packets; do
    cp "$work/$picture" "docs/figures/flowpic-$class.svg"
    echo "docs/figures/flowpic-$class.svg: $packets packets"
  done
