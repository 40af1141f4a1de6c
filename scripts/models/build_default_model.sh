#!/bin/bash
# Rebuilds the bundled model (data/models/default.fpm) from real labelled traffic plus the lab, and
# measures it on real captures held out by file (docs/accuracy.md, "The default model on real
# traffic"). Deterministic: the same flowpic gives the same files.
#
#   scripts/models/build_default_model.sh [WORKDIR]        (default /tmp/flowpic-model)
#
# Needs ../shared/data (or SHARED=...), a flowpic built with nDPI (FLOWPIC=..., default
# build/release/tools/flowpic) and Debian's python3. Writes WORKDIR/default.fpm; copy it to
# data/models/default.fpm to bundle it. LAB=DIR trains on another copy of the lab's dataset (the
# bundled file was made from an earlier one: data/models/README.md, "Provenance").
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${1:-/tmp/flowpic-model}
FLOWPIC=${FLOWPIC:-build/release/tools/flowpic}
SHARED=${SHARED:-../shared/data}
THREADS=${THREADS:-2}
PY=${PY:-/usr/bin/python3}
# the recipe: mini-FlowPic (32x32, 15 s of a connection), every complete window with >= 10 packets
RECIPE=(--preset mini_flowpic --all-windows --min-packets 10)
TRAIN=(--seed 2 --augment change_rtt,time_shift --epochs 100 --patience 10 --class-weights balanced
       --threads "$THREADS" --quiet)
mkdir -p "$W"

# 1. Labels: nDPI 4.2 on nDPI's captures (default label map); the Requet captures by their README's
#    rule (video connections; nDPI cannot name packets cut at 72 bytes).
[ -s "$W/ndpi.labels.csv" ] || "$FLOWPIC" label --keep-going "$SHARED"/ndpi/pcap/* --out "$W/ndpi.labels.csv" \
    2> "$W/ndpi.labels.txt" || [ $? -eq 3 ]  # 3: a damaged capture, read up to the damage
[ -s "$W/requet.labels.csv" ] || "$PY" scripts/models/requet_labels.py "$SHARED/requet-youtube-b2" > "$W/requet.labels.csv"

# 2. Hold out a quarter of the real capture files, by a hash of their names (never by window).
held_out() { local h; h=$(printf %s "$(basename "$1")" | md5sum | cut -c1-2); [ $((16#$h % 4)) -eq 0 ]; }
#    Captures that `label` could not read (link types flowpic does not decode) are left out.
train_caps=() test_caps=()
for f in "$SHARED"/ndpi/pcap/* "$SHARED"/requet-youtube-b2/*.pcap; do
    grep -qF -e "skipped: $f:" -e "warning: $f: byte offset" "$W/ndpi.labels.txt" 2> /dev/null && continue
    if held_out "$f"; then test_caps+=("$f"); else train_caps+=("$f"); fi
done
printf '%s\n' "${test_caps[@]}" > "$W/test-captures.txt"
LABELS=(--labels "$W/ndpi.labels.csv" --labels "$W/requet.labels.csv")

# 3. Datasets: training = real training captures + the lab (85/15 train/validation by file);
#    test = the held-out real captures; the lab alone for the lab-only model.
[ -s "$W/train.fpd" ] || "$FLOWPIC" dataset "${RECIPE[@]}" --data "${LAB:-data/lab/dataset}" "${LABELS[@]}" \
    --split 0.85,0.15,0 --seed 1 --out "$W/train.fpd" "${train_caps[@]}" 2> "$W/train.fpd.txt"
[ -s "$W/test.fpd" ] || "$FLOWPIC" dataset "${RECIPE[@]}" "${LABELS[@]}" \
    --split 0,0,1 --seed 1 --out "$W/test.fpd" "${test_caps[@]}" 2> "$W/test.fpd.txt"
[ -s "$W/lab.fpd" ] || "$FLOWPIC" dataset "${RECIPE[@]}" --data "${LAB:-data/lab/dataset}" \
    --split 0.85,0.15,0 --seed 1 --out "$W/lab.fpd" 2> "$W/lab.fpd.txt"

# 4. Train: real + lab (the bundled model), and the lab alone (for comparison).
[ -s "$W/default.fpm" ] || "$FLOWPIC" train --data "$W/train.fpd" --out "$W/default.fpm" "${TRAIN[@]}" > "$W/default.train.txt"
[ -s "$W/lab-only.fpm" ] || "$FLOWPIC" train --data "$W/lab.fpd" --out "$W/lab-only.fpm" "${TRAIN[@]}" > "$W/lab-only.train.txt"

# 5. Measure both on the held-out real captures.
for m in default lab-only; do
    "$FLOWPIC" eval --model "$W/$m.fpm" --data "$W/test.fpd" --split all --json > "$W/$m.test.json"
    "$FLOWPIC" eval --model "$W/$m.fpm" --data "$W/test.fpd" --split all > "$W/$m.test.txt"
done
"$PY" scripts/models/real_test_report.py "$W/default.test.json" "$W/lab-only.test.json"

# 6. What `flowpic classify` prints on the held-out captures, joined to their labels: per true
#    class, the share of blocks given each label (with the model's score thresholds, and without).
CLS=(--flowpic "$FLOWPIC" --labels "$W/ndpi.labels.csv" --labels "$W/requet.labels.csv")
for m in default lab-only; do
    echo "## classify --model $m.fpm, held-out captures"
    "$PY" scripts/models/real_classify_report.py "${CLS[@]}" --model "$W/$m.fpm" "${test_caps[@]}"
    echo "## the same, --min-score 0 (no unknown)"
    "$PY" scripts/models/real_classify_report.py "${CLS[@]}" --model "$W/$m.fpm" --min-score 0 "${test_caps[@]}"
done
