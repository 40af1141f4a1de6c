#!/usr/bin/env bash
# Remakes the lab's committed data (docs/lab.md, "The committed data"): data/lab/dataset (the
# training dataset, flow records split into files of at most 4 MiB) and data/lab/sample (one
# session of each category merged into one small capture). Runs the lab as root, about 15
# minutes on a 2-core machine.
#
#   scripts/lab/make_committed_data.sh WORKDIR        (FLOWPIC=... the tool, default on PATH)
#
# The dataset is four lab runs: plain and VPN, each as two runs of categories (so that no more
# than about twenty sessions share the machine's cores at once), with as many sessions per
# category as its largest number of applications, so every application runs in both variants.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${1:?usage: make_committed_data.sh WORKDIR}
FLOWPIC=${FLOWPIC:-flowpic}
PY=/usr/bin/python3
SECONDS_PER_SESSION=${SECONDS_PER_SESSION:-90}
MAX_RATE=${MAX_RATE:-25}  # Mbit/s: keeps the committed files small; the WAN profile draws below it too
SEED=${SEED:-2030}
SESSIONS=${SESSIONS:-8}
mkdir -p "$W"
L=(nice -n 10 "$FLOWPIC" lab --seconds "$SECONDS_PER_SESSION" --max-rate "$MAX_RATE" --sessions "$SESSIONS" --check --quiet)
run() {  # run NAME ARGS...: one lab run into W/NAME, kept when it is complete
    local name=$1; shift
    [[ -s $W/$name/manifest.csv ]] && return 0
    echo "lab run $name: $*" >&2
    "${L[@]}" --out "$W/$name" "$@"
}
run a --seed "$SEED" --vpn no --categories browsing,video
run b --seed "$SEED" --vpn no --categories chat,voip,file_transfer
run c --seed "$SEED" --vpn yes --categories browsing,video
run d --seed "$SEED" --vpn yes --categories chat,voip,file_transfer

rm -rf "$W/dataset" && mkdir -p "$W/dataset"
"$PY" scripts/lab/make_dataset.py --out "$W/lab-dataset.fpr" --summary "$W/dataset/summary.csv" \
    --manifest "$W/dataset/manifest.csv" "$W/a" "$W/b" "$W/c" "$W/d"
"$PY" scripts/lab/split_dataset.py "$W/lab-dataset.fpr" "$W/dataset"

# the sample: one session of each category, plain, on slow links (a small file)
[[ -s $W/sample/manifest.csv ]] || nice -n 10 "$FLOWPIC" lab --out "$W/sample" --seconds 70 --sessions 1 --seed 5 \
    --vpn no --max-rate 1.5 --check --quiet
mkdir -p "$W/sample-out"
"$PY" scripts/lab/make_sample.py "$W/sample" "$W/sample-out/lab-sample.pcap" "$W/sample-out/labels.csv"
cp "$W/sample/manifest.csv" "$W/sample-out/"
"$PY" scripts/lab/make_dataset.py --out "$W/sample-out/lab-sample.fpr" "$W/sample"

echo "made $W/dataset and $W/sample-out; to commit them:" >&2
echo "  rm -rf data/lab/dataset && cp -r $W/dataset data/lab/dataset && cp $W/sample-out/* data/lab/sample/" >&2
