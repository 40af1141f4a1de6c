#!/usr/bin/env bash
# Remakes the lab's committed data (docs/lab.md, "The committed data"): data/lab/dataset (the
# training dataset, flow records split into files of at most 4 MiB) and data/lab/sample (one
# session of each category merged into one small capture). Runs the lab as root, about 20
# minutes on a 2-core machine.
#
#   scripts/lab/make_committed_data.sh WORKDIR        (FLOWPIC=... the tool, default on PATH)
#
# The dataset is six lab runs: plain and VPN, each as three runs of categories (so that no more
# than about twenty sessions share the machine's cores at once), with at least as many sessions
# per category as its cycle of applications (apps/base.py: Category.cycle), so every application
# runs in both variants. Video sessions are longer (VIDEO_SECONDS) and more (VIDEO_SESSIONS): a
# player spends its first tens of seconds filling its buffer, and what real video mostly looks
# like is the steady state after it.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${1:?usage: make_committed_data.sh WORKDIR}
FLOWPIC=${FLOWPIC:-flowpic}
PY=/usr/bin/python3
SECONDS_PER_SESSION=${SECONDS_PER_SESSION:-90}
MAX_RATE=${MAX_RATE:-25}  # Mbit/s: keeps the committed files small; the WAN profile draws below it too
SEED=${SEED:-2030}
SESSIONS=${SESSIONS:-8}
VIDEO_SECONDS=${VIDEO_SECONDS:-240}
VIDEO_SESSIONS=${VIDEO_SESSIONS:-18}
mkdir -p "$W"
L=(nice -n 10 "$FLOWPIC" lab --max-rate "$MAX_RATE" --check --quiet)
S=(--seconds "$SECONDS_PER_SESSION" --sessions "$SESSIONS")
V=(--seconds "$VIDEO_SECONDS" --sessions "$VIDEO_SESSIONS")
run() {  # run NAME ARGS...: one lab run into W/NAME, kept when it is complete
    local name=$1; shift
    [[ -s $W/$name/manifest.csv ]] && return 0
    echo "lab run $name: $*" >&2
    "${L[@]}" --out "$W/$name" "$@"
}
run a --seed "$SEED" --vpn no --categories browsing "${S[@]}"
run v --seed "$SEED" --vpn no --categories video "${V[@]}"
run b --seed "$SEED" --vpn no --categories chat,voip,file_transfer "${S[@]}"
run c --seed "$SEED" --vpn yes --categories browsing "${S[@]}"
run w --seed "$SEED" --vpn yes --categories video "${V[@]}"
run d --seed "$SEED" --vpn yes --categories chat,voip,file_transfer "${S[@]}"

rm -rf "$W/dataset" && mkdir -p "$W/dataset"
"$PY" scripts/lab/make_dataset.py --out "$W/lab-dataset.fpr" --summary "$W/dataset/summary.csv" \
    --manifest "$W/dataset/manifest.csv" "$W/a" "$W/v" "$W/b" "$W/c" "$W/w" "$W/d"
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
